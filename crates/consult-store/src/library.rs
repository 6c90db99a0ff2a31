//! What is kept around activities and plans: remarks (comments, compliments, complaints),
//! documents, services' annual plans, recurring programmes and plan reviews.

use crate::db::{Sql, query};
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, ConsultationId, Document, DocumentSource, Organisation, OrganisationId, PlanReview, ProgrammeItem, Remark,
    RemarkCounts, RemarkKind, RemarkStatus, ServicePlan,
};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct RemarkRow {
    id: Uuid,
    consultation_id: Uuid,
    kind: String,
    body: String,
    principle: Option<String>,
    contact: Option<String>,
    status: String,
    reply: Option<String>,
    received_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<RemarkRow> for Remark {
    type Error = StoreError;

    fn try_from(r: RemarkRow) -> Result<Self, StoreError> {
        Ok(Remark {
            id: r.id,
            consultation_id: ConsultationId(r.consultation_id),
            kind: RemarkKind::parse(&r.kind).ok_or_else(|| StoreError::Corrupt(format!("remark kind `{}`", r.kind)))?,
            body: r.body,
            principle: r.principle,
            contact: r.contact,
            status: RemarkStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("remark status `{}`", r.status)))?,
            reply: r.reply,
            received_at: r.received_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RemarkCountRow {
    consultation_id: Uuid,
    kind: String,
    status: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: Uuid,
    consultation_id: Uuid,
    title: String,
    url: Option<String>,
    media_type: Option<String>,
    size: Option<i64>,
    added_at: DateTime<Utc>,
    added_by: String,
}

impl TryFrom<DocumentRow> for Document {
    type Error = StoreError;

    fn try_from(r: DocumentRow) -> Result<Self, StoreError> {
        let source = match (r.url, r.media_type, r.size) {
            (Some(url), _, _) => DocumentSource::Link { url },
            (None, Some(media_type), Some(size)) => DocumentSource::Stored {
                media_type,
                size: u64::try_from(size).unwrap_or(0),
            },
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "document {} has neither link nor content",
                    r.id
                )));
            }
        };
        Ok(Document {
            id: r.id,
            consultation_id: ConsultationId(r.consultation_id),
            title: r.title,
            source,
            added_at: r.added_at,
            added_by: r.added_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ServicePlanRow {
    service: String,
    entries: String,
    agreed: bool,
    updated_at: DateTime<Utc>,
    updated_by: String,
}

#[derive(sqlx::FromRow)]
struct PlanReviewRow {
    half: i32,
    reviewed_on: NaiveDate,
    reviewed_by: String,
    notes: String,
}

impl Store {
    // ----- remarks -----

    /// Stores a comment, compliment or complaint.
    pub async fn insert_remark(&self, remark: &consult_core::Remark, actor: &Actor) -> Result<(), StoreError> {
        let r = remark;
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO remarks (id, consultation_id, kind, body, principle, contact, status, reply, received_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(r.id)
        .bind(r.consultation_id.0)
        .bind(r.kind.as_str())
        .bind(&r.body)
        .bind(&r.principle)
        .bind(&r.contact)
        .bind(r.status.as_str())
        .bind(&r.reply)
        .bind(r.received_at)
        .bind(r.updated_at)
        .execute(&mut tx)
        .await?;
        // No contact details in the audit log.
        let detail = json!({ "id": r.id, "kind": r.kind.as_str() });
        let entity_id = r.consultation_id.to_string();
        tx.audit(
            actor,
            r.received_at,
            "remark.receive",
            "consultation",
            &entity_id,
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// Saves a remark's new status and reply.
    /// With the reply's message (from [`consult_core::reply_message`]) queued in the same
    /// transaction when there is one: once per reply text.
    pub async fn update_remark(
        &self,
        remark: &consult_core::Remark,
        message: Option<&consult_core::NewMessage>,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let r = remark;
        let mut tx = self.begin().await?;
        let done = query("UPDATE remarks SET status = $1, reply = $2, updated_at = $3 WHERE id = $4")
            .bind(r.status.as_str())
            .bind(&r.reply)
            .bind(r.updated_at)
            .bind(r.id)
            .execute(&mut tx)
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound(format!("remark {}", r.id)));
        }
        let queued = match message {
            Some(m) => tx.queue_messages(std::slice::from_ref(m), r.updated_at).await?,
            None => 0,
        };
        let detail = json!({ "id": r.id, "status": r.status.as_str(), "reply_queued": queued > 0 });
        let entity_id = r.consultation_id.to_string();
        tx.audit(
            actor,
            r.updated_at,
            "remark.update",
            "consultation",
            &entity_id,
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// Remarks about one activity or the one remark with an id, oldest first.
    async fn find_remarks(&self, consultation: Option<Uuid>, id: Option<Uuid>) -> Result<Vec<Remark>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, consultation_id, kind, body, principle, contact, status, reply, received_at, updated_at FROM remarks WHERE 1 = 1",
        );
        if let Some(c) = consultation {
            let p = sql.arg(c);
            sql.push(&format!(" AND consultation_id = {p}"));
        }
        if let Some(i) = id {
            let p = sql.arg(i);
            sql.push(&format!(" AND id = {p}"));
        }
        sql.push(" ORDER BY received_at, id");
        let rows: Vec<RemarkRow> = sql.fetch_all(self).await?;
        rows.into_iter().map(Remark::try_from).collect()
    }

    /// The remarks about an activity, oldest first (with contact details: not for the public).
    pub async fn remarks(&self, id: ConsultationId) -> Result<Vec<consult_core::Remark>, StoreError> {
        self.find_remarks(Some(id.0), None).await
    }

    /// One remark.
    pub async fn remark(&self, id: Uuid) -> Result<Option<consult_core::Remark>, StoreError> {
        Ok(self.find_remarks(None, Some(id)).await?.pop())
    }

    /// Counts of remarks per activity, by kind (complaints resolved apart).
    pub async fn remark_counts(
        &self,
        ids: &[ConsultationId],
    ) -> Result<HashMap<ConsultationId, consult_core::RemarkCounts>, StoreError> {
        let mut out: HashMap<ConsultationId, RemarkCounts> = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql =
                Sql::new("SELECT consultation_id, kind, status, COUNT(*) AS n FROM remarks WHERE consultation_id IN (");
            let list = sql.list(chunk.iter().map(|id| id.0));
            sql.push(&list).push(") GROUP BY consultation_id, kind, status");
            let rows: Vec<RemarkCountRow> = sql.fetch_all(self).await?;
            for r in rows {
                let (Some(kind), Some(status)) = (RemarkKind::parse(&r.kind), RemarkStatus::parse(&r.status)) else {
                    return Err(StoreError::Corrupt(format!("remark `{}` `{}`", r.kind, r.status)));
                };
                out.entry(ConsultationId(r.consultation_id)).or_default().add(
                    kind,
                    status,
                    u64::try_from(r.n).unwrap_or(0),
                );
            }
        }
        Ok(out)
    }

    // ----- documents -----

    /// Adds a document to an activity's results: a link, or stored content.
    pub async fn insert_document(
        &self,
        document: &consult_core::Document,
        content: Option<&[u8]>,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let d = document;
        let (url, media_type, size) = match &d.source {
            DocumentSource::Link { url } => (Some(url.clone()), None, None),
            DocumentSource::Stored { media_type, size } => (
                None,
                Some(media_type.clone()),
                Some(i64::try_from(*size).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            ),
        };
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO documents (id, consultation_id, title, url, media_type, size, content, added_at, added_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(d.id)
        .bind(d.consultation_id.0)
        .bind(&d.title)
        .bind(url)
        .bind(media_type)
        .bind(size)
        .bind(content)
        .bind(d.added_at)
        .bind(&d.added_by)
        .execute(&mut tx)
        .await?;
        let detail = json!({ "document": d.id, "title": d.title });
        let entity_id = d.consultation_id.to_string();
        tx.audit(
            actor,
            d.added_at,
            "consultation.document",
            "consultation",
            &entity_id,
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// Removes a document.
    pub async fn delete_document(
        &self,
        document: &consult_core::Document,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let d = document;
        let mut tx = self.begin().await?;
        query("DELETE FROM documents WHERE id = $1")
            .bind(d.id)
            .execute(&mut tx)
            .await?;
        let detail = json!({ "document": d.id, "title": d.title, "removed": true });
        let entity_id = d.consultation_id.to_string();
        tx.audit(actor, now, "consultation.document", "consultation", &entity_id, &detail)
            .await?;
        tx.commit().await
    }

    /// The documents of some activities, or the one document with an id, oldest first.
    async fn find_documents(&self, ids: &[Uuid], id: Option<Uuid>) -> Result<Vec<Document>, StoreError> {
        let mut out = Vec::new();
        let chunks: Vec<&[Uuid]> = if id.is_some() {
            vec![&[]]
        } else {
            ids.chunks(500).collect()
        };
        for chunk in chunks {
            let mut sql = Sql::new(
                "SELECT id, consultation_id, title, url, media_type, size, added_at, added_by FROM documents WHERE ",
            );
            match id {
                Some(one) => {
                    let p = sql.arg(one);
                    sql.push(&format!("id = {p}"));
                }
                None => {
                    let list = sql.list(chunk.iter().copied());
                    sql.push(&format!("consultation_id IN ({list})"));
                }
            }
            sql.push(" ORDER BY added_at, id");
            let rows: Vec<DocumentRow> = sql.fetch_all(self).await?;
            for r in rows {
                out.push(Document::try_from(r)?);
            }
        }
        Ok(out)
    }

    /// The documents of each activity, oldest first.
    pub async fn documents(
        &self,
        ids: &[ConsultationId],
    ) -> Result<HashMap<ConsultationId, Vec<consult_core::Document>>, StoreError> {
        let raw: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        let mut out: HashMap<ConsultationId, Vec<consult_core::Document>> = HashMap::new();
        if raw.is_empty() {
            return Ok(out);
        }
        for d in self.find_documents(&raw, None).await? {
            out.entry(d.consultation_id).or_default().push(d);
        }
        Ok(out)
    }

    /// One document.
    pub async fn document(&self, id: Uuid) -> Result<Option<consult_core::Document>, StoreError> {
        Ok(self.find_documents(&[], Some(id)).await?.pop())
    }

    /// A stored document's content (`None` for links and unknown ids).
    pub async fn document_content(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Option<Vec<u8>>,)> = query("SELECT content FROM documents WHERE id = $1")
            .bind(id)
            .fetch_optional(self)
            .await?;
        Ok(row.and_then(|(c,)| c))
    }

    // ----- service plans, programmes, plan reviews -----

    /// Saves a service's annual plan (replacing the previous version).
    pub async fn save_service_plan(
        &self,
        org: OrganisationId,
        plan: &consult_core::ServicePlan,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let entries = serde_json::to_string(&plan.entries).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO service_plans (organisation_id, year, service, entries, agreed, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (organisation_id, year, service) DO UPDATE SET \
             entries = excluded.entries, agreed = excluded.agreed, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(org.0)
        .bind(plan.year)
        .bind(&plan.service)
        .bind(entries)
        .bind(plan.agreed)
        .bind(plan.updated_at)
        .bind(&plan.updated_by)
        .execute(&mut tx)
        .await?;
        let detail =
            json!({ "year": plan.year, "service": plan.service, "entries": plan.entries.len(), "agreed": plan.agreed });
        tx.audit(
            actor,
            plan.updated_at,
            "plan.service",
            "organisation",
            &org.0.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// An organisation's service plans for a year, by service.
    pub async fn service_plans(
        &self,
        org: &Organisation,
        year: i32,
    ) -> Result<Vec<consult_core::ServicePlan>, StoreError> {
        let rows: Vec<ServicePlanRow> = query(
            "SELECT service, entries, agreed, updated_at, updated_by FROM service_plans WHERE organisation_id = $1 AND year = $2 ORDER BY service",
        )
        .bind(org.id.0)
        .bind(year)
        .fetch_all(self)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ServicePlan {
                    organisation: org.slug.as_str().to_owned(),
                    service: r.service,
                    year,
                    entries: serde_json::from_str(&r.entries)
                        .map_err(|e| StoreError::Corrupt(format!("plan entries: {e}")))?,
                    agreed: r.agreed,
                    updated_at: r.updated_at,
                    updated_by: r.updated_by,
                })
            })
            .collect()
    }

    /// Replaces an organisation's recurring programme.
    pub async fn save_programme(
        &self,
        org: OrganisationId,
        items: &[consult_core::ProgrammeItem],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(items).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO programmes (organisation_id, items, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (organisation_id) DO UPDATE SET items = excluded.items, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(org.0)
        .bind(body)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut tx)
        .await?;
        let detail = json!({ "items": items.len() });
        tx.audit(
            actor,
            now,
            "plan.programme",
            "organisation",
            &org.0.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// An organisation's recurring programme.
    pub async fn programme(&self, org: OrganisationId) -> Result<Vec<consult_core::ProgrammeItem>, StoreError> {
        let row: Option<(String,)> = query("SELECT items FROM programmes WHERE organisation_id = $1")
            .bind(org.0)
            .fetch_optional(self)
            .await?;
        match row {
            None => Ok(Vec::new()),
            Some((items,)) => serde_json::from_str::<Vec<ProgrammeItem>>(&items)
                .map_err(|e| StoreError::Corrupt(format!("programme: {e}"))),
        }
    }

    /// Records (or corrects) a six-monthly review of the council-wide plan.
    pub async fn record_plan_review(
        &self,
        org: OrganisationId,
        year: i32,
        review: &consult_core::PlanReview,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO plan_reviews (organisation_id, year, half, reviewed_on, reviewed_by, notes) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (organisation_id, year, half) DO UPDATE SET reviewed_on = excluded.reviewed_on, \
             reviewed_by = excluded.reviewed_by, notes = excluded.notes",
        )
        .bind(org.0)
        .bind(year)
        .bind(i32::try_from(review.half).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(review.reviewed_on)
        .bind(&review.by)
        .bind(&review.notes)
        .execute(&mut tx)
        .await?;
        let detail = json!({ "year": year, "half": review.half });
        tx.audit(actor, now, "plan.review", "organisation", &org.0.to_string(), &detail)
            .await?;
        tx.commit().await
    }

    /// The reviews held of a year's plan.
    pub async fn plan_reviews(
        &self,
        org: OrganisationId,
        year: i32,
    ) -> Result<Vec<consult_core::PlanReview>, StoreError> {
        let rows: Vec<PlanReviewRow> = query(
            "SELECT half, reviewed_on, reviewed_by, notes FROM plan_reviews WHERE organisation_id = $1 AND year = $2 ORDER BY half",
        )
        .bind(org.0)
        .bind(year)
        .fetch_all(self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| PlanReview {
                half: u32::try_from(r.half).unwrap_or(0),
                reviewed_on: r.reviewed_on,
                by: r.reviewed_by,
                notes: r.notes,
            })
            .collect())
    }
}

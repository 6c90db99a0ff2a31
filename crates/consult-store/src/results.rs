//! After the event: "you said, we did" (feedback and its publication), debriefs, and the
//! external evaluation sample.

use crate::db::{Sql, query};
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{Actor, Consultation, ConsultationId, ContactChannel, Debrief, Feedback, NewMessage, StatusChange};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct EvaluationRow {
    consultation_id: Uuid,
    debrief: Option<String>,
    external: bool,
}

#[derive(sqlx::FromRow)]
struct FeedbackRow {
    consultation_id: Uuid,
    items: String,
    summary: Option<String>,
    published_on: Option<NaiveDate>,
    updated_at: DateTime<Utc>,
    updated_by: String,
}

impl Store {
    /// How many respondents to an activity wait to hear about its results (addresses kept until
    /// the results are published, then deleted as the notices are queued).
    pub async fn results_notices_waiting(&self, id: ConsultationId) -> Result<i64, StoreError> {
        let (n,): (i64,) = query("SELECT COUNT(*) FROM results_requests WHERE consultation_id = $1")
            .bind(id.0)
            .fetch_one(self)
            .await?;
        Ok(n)
    }

    /// Saves an activity's feedback if the activity is still at `expected_version`, with the
    /// status changes publishing it makes (from [`consult_core::plan_publication`]), in one
    /// transaction. When `notices` is given (the results are published), every "tell me when
    /// the results are published" request of the activity becomes a queued message made by it
    /// (request id, channel, address) and the request is deleted, in the same transaction.
    pub async fn save_feedback(
        &self,
        id: ConsultationId,
        expected_version: i64,
        feedback: &consult_core::Feedback,
        changes: &[StatusChange],
        notices: Option<&(dyn Fn(Uuid, ContactChannel, String) -> NewMessage + Sync)>,
        actor: &Actor,
    ) -> Result<Consultation, StoreError> {
        let now = feedback.updated_at;
        let mut tx = self.begin().await?;
        // Every save bumps the activity's version, so two editors cannot overwrite each
        // other's feedback unseen.
        tx.bump_version(id, expected_version, changes.last().map(|c| c.to), now)
            .await?;
        tx.insert_history(id.0, changes).await?;
        let items = serde_json::to_string(&feedback.items).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        query(
            "INSERT INTO feedback (consultation_id, items, summary, published_on, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consultation_id) DO UPDATE SET items = excluded.items, \
             summary = excluded.summary, published_on = excluded.published_on, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(id.0)
        .bind(items)
        .bind(&feedback.summary)
        .bind(feedback.published_on)
        .bind(now)
        .bind(&feedback.updated_by)
        .execute(&mut tx)
        .await?;
        let mut notified = 0;
        if let Some(make) = notices {
            let requests: Vec<(Uuid, String, String)> =
                query("SELECT id, channel, address FROM results_requests WHERE consultation_id = $1")
                    .bind(id.0)
                    .fetch_all(&mut tx)
                    .await?;
            let mut messages = Vec::with_capacity(requests.len());
            for (request, channel, address) in requests {
                let channel = ContactChannel::parse(&channel)
                    .ok_or_else(|| StoreError::Corrupt(format!("results request {request}: channel `{channel}`")))?;
                messages.push(make(request, channel, address));
            }
            notified = tx.queue_messages(&messages, now).await?;
            query("DELETE FROM results_requests WHERE consultation_id = $1")
                .bind(id.0)
                .execute(&mut tx)
                .await?;
        }
        let detail = json!({
            "items": feedback.items.len(),
            "not_done": feedback.items.iter().filter(|i| i.not_done()).count(),
            "published_on": feedback.published_on,
            "changes": changes,
            "results_notices": notified,
        });
        tx.audit(
            actor,
            now,
            "consultation.feedback",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        self.reread(id).await
    }
    /// The feedback recorded for each of the activities that has any.
    pub async fn feedback(
        &self,
        ids: &[ConsultationId],
    ) -> Result<HashMap<ConsultationId, consult_core::Feedback>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(
                "SELECT consultation_id, items, summary, published_on, updated_at, updated_by FROM feedback WHERE consultation_id IN (",
            );
            let list = sql.list(chunk.iter().map(|id| id.0));
            sql.push(&list).push(")");
            let rows: Vec<FeedbackRow> = sql.fetch_all(self).await?;
            for r in rows {
                let items =
                    serde_json::from_str(&r.items).map_err(|e| StoreError::Corrupt(format!("feedback items: {e}")))?;
                let feedback = Feedback {
                    items,
                    summary: r.summary,
                    published_on: r.published_on,
                    updated_at: r.updated_at,
                    updated_by: r.updated_by,
                };
                out.insert(ConsultationId(r.consultation_id), feedback);
            }
        }
        Ok(out)
    }
    /// Records (or replaces) an activity's debrief.
    pub async fn save_debrief(
        &self,
        id: ConsultationId,
        debrief: &consult_core::Debrief,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let now = debrief.recorded_at;
        let body = serde_json::to_string(debrief).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO evaluations (consultation_id, debrief, external, external_year, updated_at, updated_by) \
             VALUES ($1, $2, $3, NULL, $4, $5) ON CONFLICT (consultation_id) DO UPDATE SET debrief = excluded.debrief, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(id.0)
        .bind(body)
        .bind(false)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut tx)
        .await?;
        let detail = json!({ "learning_points": debrief.learning_points.len(), "tags": debrief.tags });
        tx.audit(
            actor,
            now,
            "consultation.debrief",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await
    }
    /// Marks activities for external evaluation in `year`'s sample, in one transaction.
    pub async fn mark_external(
        &self,
        ids: &[ConsultationId],
        year: i32,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for id in ids {
            query(
                "INSERT INTO evaluations (consultation_id, debrief, external, external_year, updated_at, updated_by) \
                 VALUES ($1, NULL, $2, $3, $4, $5) ON CONFLICT (consultation_id) DO UPDATE SET external = excluded.external, \
                 external_year = COALESCE(evaluations.external_year, excluded.external_year), updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(id.0)
            .bind(true)
            .bind(year)
            .bind(now)
            .bind(&actor.name)
            .execute(&mut tx)
            .await?;
        }
        let detail = json!({ "year": year, "activities": ids.iter().map(|id| id.0.to_string()).collect::<Vec<_>>() });
        tx.audit(
            actor,
            now,
            "evaluation.sample",
            "evaluation",
            &year.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await
    }
    /// Each activity's debrief (if recorded) and whether it is marked for external evaluation.
    pub async fn evaluations(
        &self,
        ids: &[ConsultationId],
    ) -> Result<HashMap<ConsultationId, (Option<consult_core::Debrief>, bool)>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql =
                Sql::new("SELECT consultation_id, debrief, external FROM evaluations WHERE consultation_id IN (");
            let list = sql.list(chunk.iter().map(|id| id.0));
            sql.push(&list).push(")");
            let rows: Vec<EvaluationRow> = sql.fetch_all(self).await?;
            for r in rows {
                let debrief: Option<Debrief> = r
                    .debrief
                    .map(|d| serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("debrief: {e}"))))
                    .transpose()?;
                out.insert(ConsultationId(r.consultation_id), (debrief, r.external));
            }
        }
        Ok(out)
    }
}

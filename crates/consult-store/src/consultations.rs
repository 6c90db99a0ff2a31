//! Activities: registering, reading, updating and transitioning them, the register's listing
//! and change feed, and what is recorded after them (feedback, debriefs, external evaluation).

use crate::db::{Sql, Tx, query};
use crate::{ConsultationFilter, Cursor, Order, Page, PageRequest, Reader, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, Approval, Assessment, Consultation, ConsultationId, ConsultationPlan, OrganisationId, Role, Signer, Status,
    StatusChange,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

/// The status seen on `$today`: the SQL twin of [`consult_core::Status::on`]. A conformance test
/// checks the two agree.
fn effective_status(today: &str) -> String {
    format!(
        "CASE WHEN c.status IN ('approved', 'open') AND c.closes_on < {today} THEN 'closed' \
         WHEN c.status = 'approved' AND c.opens_on <= {today} THEN 'open' ELSE c.status END"
    )
}

pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for ch in s.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// The lower-cased text searched by `q`.
fn search_text(plan: &ConsultationPlan) -> String {
    let mut s = plan.title().to_lowercase();
    for part in plan
        .summary()
        .into_iter()
        .chain(plan.topics().iter().map(String::as_str))
    {
        s.push('\n');
        s.push_str(&part.to_lowercase());
    }
    s
}

fn topics_lower(plan: &ConsultationPlan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in plan.topics() {
        let t = t.to_lowercase();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn plan_json(plan: &ConsultationPlan) -> Result<String, StoreError> {
    serde_json::to_string(plan).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn input_value(plan: &ConsultationPlan) -> Value {
    serde_json::to_value(plan.to_input()).unwrap_or(Value::Null)
}

/// The fields that differ between two plans, as `{ field: { from, to } }`.
fn plan_diff(old: &ConsultationPlan, new: &ConsultationPlan) -> Value {
    let (Value::Object(old), Value::Object(new)) = (input_value(old), input_value(new)) else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for (k, v) in &new {
        let before = old.get(k).cloned().unwrap_or(Value::Null);
        if &before != v {
            out.insert(k.clone(), json!({ "from": before, "to": v }));
        }
    }
    Value::Object(out)
}

fn parse_status(s: &str) -> Result<Status, StoreError> {
    s.parse().map_err(StoreError::Corrupt)
}

const CONSULTATION_COLUMNS: &str = "c.id, c.organisation_id, c.status, c.version, c.plan, c.created_at, c.updated_at";
const HISTORY_COLUMNS: &str = "consultation_id, from_status, to_status, at, actor, reason, override_justification, actor_role, actor_organisation_id";

/// An activity as stored, without its history and approval.
#[derive(sqlx::FromRow)]
struct ConsultationRow {
    id: Uuid,
    organisation_id: Uuid,
    status: String,
    version: i64,
    plan: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ConsultationRow {
    /// The activity, with its history and approval.
    fn into_consultation(
        self,
        history: Vec<StatusChange>,
        approval: Option<Approval>,
    ) -> Result<Consultation, StoreError> {
        let id = self.id;
        let plan: ConsultationPlan =
            serde_json::from_str(&self.plan).map_err(|e| StoreError::Corrupt(format!("consultation {id}: {e}")))?;
        Ok(Consultation {
            id: ConsultationId(id),
            organisation_id: OrganisationId(self.organisation_id),
            plan,
            recorded_status: parse_status(&self.status)?,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            status_history: history,
            approval,
        })
    }
}

/// One status change of an activity.
#[derive(sqlx::FromRow)]
struct HistoryRow {
    consultation_id: Uuid,
    from_status: String,
    to_status: String,
    at: DateTime<Utc>,
    actor: String,
    reason: Option<String>,
    override_justification: Option<String>,
    actor_role: Option<String>,
    actor_organisation_id: Option<Uuid>,
}

/// The role and organisation stored with a change or an approval (none before migration 0017).
fn signer(role: Option<String>, organisation: Option<Uuid>) -> Result<Option<Signer>, StoreError> {
    role.map(|r| {
        Ok(Signer {
            role: r.parse::<Role>().map_err(StoreError::Corrupt)?,
            organisation: organisation.map(OrganisationId),
        })
    })
    .transpose()
}

fn history_by_id(rows: Vec<HistoryRow>) -> Result<HashMap<Uuid, Vec<StatusChange>>, StoreError> {
    let mut out: HashMap<Uuid, Vec<StatusChange>> = HashMap::new();
    for r in rows {
        out.entry(r.consultation_id).or_default().push(StatusChange {
            from: parse_status(&r.from_status)?,
            to: parse_status(&r.to_status)?,
            at: r.at,
            by: r.actor,
            reason: r.reason,
            override_justification: r.override_justification,
            signer: signer(r.actor_role, r.actor_organisation_id)?,
        });
    }
    Ok(out)
}

/// The approval of an activity, with the assessment it was given on (JSON).
#[derive(sqlx::FromRow)]
struct ApprovalRow {
    consultation_id: Uuid,
    at: DateTime<Utc>,
    actor: String,
    override_justification: Option<String>,
    assessment: String,
    actor_role: Option<String>,
    actor_organisation_id: Option<Uuid>,
}

fn approvals_by_id(rows: Vec<ApprovalRow>) -> Result<HashMap<Uuid, Approval>, StoreError> {
    rows.into_iter()
        .map(|r| {
            let id = r.consultation_id;
            let assessment: Assessment = serde_json::from_str(&r.assessment)
                .map_err(|e| StoreError::Corrupt(format!("approval of {id}: {e}")))?;
            Ok((
                id,
                Approval {
                    at: r.at,
                    by: r.actor,
                    override_justification: r.override_justification,
                    assessment,
                    signer: signer(r.actor_role, r.actor_organisation_id)?,
                },
            ))
        })
        .collect()
}

impl Tx {
    /// Rewrites the side tables the register filters on (areas, groups, topics).
    async fn write_side_tables(&mut self, id: Uuid, plan: &ConsultationPlan) -> Result<(), StoreError> {
        for table in ["consultation_areas", "consultation_groups", "consultation_topics"] {
            query(format!("DELETE FROM {table} WHERE consultation_id = $1"))
                .bind(id)
                .execute(&mut *self)
                .await?;
        }
        for a in &plan.audience().areas {
            query("INSERT INTO consultation_areas (consultation_id, code) VALUES ($1, $2)")
                .bind(id)
                .bind(a.as_str())
                .execute(&mut *self)
                .await?;
        }
        for g in &plan.audience().groups {
            query("INSERT INTO consultation_groups (consultation_id, slug) VALUES ($1, $2)")
                .bind(id)
                .bind(g)
                .execute(&mut *self)
                .await?;
        }
        for t in topics_lower(plan) {
            query("INSERT INTO consultation_topics (consultation_id, topic) VALUES ($1, $2)")
                .bind(id)
                .bind(t)
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }

    /// Appends status changes to an activity's history.
    pub(crate) async fn insert_history(&mut self, id: Uuid, changes: &[StatusChange]) -> Result<(), StoreError> {
        for ch in changes {
            query(
                "INSERT INTO status_history (consultation_id, from_status, to_status, at, actor, reason, override_justification, \
                 actor_role, actor_organisation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(ch.from.as_str())
            .bind(ch.to.as_str())
            .bind(ch.at)
            .bind(&ch.by)
            .bind(&ch.reason)
            .bind(&ch.override_justification)
            .bind(ch.signer.map(|s| s.role.as_str()))
            .bind(ch.signer.and_then(|s| s.organisation).map(|o| o.0))
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }

    /// Bumps the version if it is still `expected`; tells a lost race from a missing record.
    pub(crate) async fn bump_version(
        &mut self,
        id: ConsultationId,
        expected: i64,
        status: Option<Status>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = query(
            "UPDATE consultations SET version = version + 1, updated_at = $1, status = COALESCE($2, status) \
             WHERE id = $3 AND version = $4",
        )
        .bind(now)
        .bind(status.map(|s| s.as_str()))
        .bind(id.0)
        .bind(expected)
        .execute(&mut *self)
        .await?;
        if done == 1 {
            return Ok(());
        }
        let exists: Option<(i64,)> = query("SELECT version FROM consultations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self)
            .await?;
        Err(match exists {
            None => StoreError::NotFound(format!("consultation {id}")),
            Some(_) => StoreError::Conflict(
                "the activity was changed by someone else meanwhile; reload it and try again".into(),
            ),
        })
    }
}

impl Store {
    /// Registers a new activity (normally as a draft), with its first audit entry.
    pub async fn insert_consultation(&self, c: &Consultation, actor: &Actor) -> Result<(), StoreError> {
        self.insert_consultations(std::slice::from_ref(c), actor, "consultation.create")
            .await
    }

    /// Registers many activities in one transaction: all or none (imports).
    pub async fn import_consultations(&self, cs: &[Consultation], actor: &Actor) -> Result<(), StoreError> {
        self.insert_consultations(cs, actor, "consultation.import").await
    }

    async fn insert_consultations(&self, cs: &[Consultation], actor: &Actor, action: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for c in cs {
            let plan = &c.plan;
            query(
                "INSERT INTO consultations (id, organisation_id, status, version, title, search_text, level, opens_on, closes_on, plan, created_at, updated_at, feedback_due, service) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(c.id.0)
            .bind(c.organisation_id.0)
            .bind(c.recorded_status.as_str())
            .bind(c.version)
            .bind(plan.title())
            .bind(search_text(plan))
            .bind(plan.level().as_str())
            .bind(plan.opens_on())
            .bind(plan.closes_on())
            .bind(plan_json(plan)?)
            .bind(c.created_at)
            .bind(c.updated_at)
            .bind(consult_core::feedback_due(plan))
            .bind(plan.service())
            .execute(&mut tx)
            .await?;
            tx.write_side_tables(c.id.0, plan).await?;
            tx.insert_history(c.id.0, &c.status_history).await?;
            let detail = json!({ "status": c.recorded_status, "plan": input_value(plan) });
            tx.audit(actor, c.created_at, action, "consultation", &c.id.to_string(), &detail)
                .await?;
        }
        tx.commit().await
    }

    async fn histories(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<StatusChange>>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut sql = Sql::new(&format!(
            "SELECT {HISTORY_COLUMNS} FROM status_history WHERE consultation_id IN ("
        ));
        let list = sql.list(ids.iter().copied());
        sql.push(&list).push(") ORDER BY id");
        history_by_id(sql.fetch_all(self).await?)
    }

    async fn approvals(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Approval>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut sql = Sql::new(
            "SELECT consultation_id, at, actor, override_justification, assessment, actor_role, actor_organisation_id \
             FROM approvals WHERE consultation_id IN (",
        );
        let list = sql.list(ids.iter().copied());
        sql.push(&list).push(")");
        approvals_by_id(sql.fetch_all(self).await?)
    }

    /// One activity with its history.
    pub async fn get_consultation(&self, id: ConsultationId) -> Result<Option<Consultation>, StoreError> {
        let row: Option<ConsultationRow> = query(format!(
            "SELECT {CONSULTATION_COLUMNS} FROM consultations c WHERE c.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut h = self.histories(&[id.0]).await?;
        let mut a = self.approvals(&[id.0]).await?;
        row.into_consultation(h.remove(&id.0).unwrap_or_default(), a.remove(&id.0))
            .map(Some)
    }

    /// Activities by id, with their histories and approvals, in id order (ids not found are
    /// left out).
    pub async fn consultations_by_id(&self, ids: &[ConsultationId]) -> Result<Vec<Consultation>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!(
            "SELECT {CONSULTATION_COLUMNS} FROM consultations c WHERE c.id IN ("
        ));
        let list = sql.list(ids.iter().map(|i| i.0));
        sql.push(&list).push(") ORDER BY c.id");
        let rows: Vec<ConsultationRow> = sql.fetch_all(self).await?;
        self.hydrate(rows).await
    }

    /// Activities from their rows, with their histories and approvals (read once for all).
    async fn hydrate(&self, rows: Vec<ConsultationRow>) -> Result<Vec<Consultation>, StoreError> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut histories = self.histories(&ids).await?;
        let mut approvals = self.approvals(&ids).await?;
        rows.into_iter()
            .map(|r| {
                let h = histories.remove(&r.id).unwrap_or_default();
                let a = approvals.remove(&r.id);
                r.into_consultation(h, a)
            })
            .collect()
    }

    /// The activity as stored after a write.
    pub(crate) async fn reread(&self, id: ConsultationId) -> Result<Consultation, StoreError> {
        self.get_consultation(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("consultation {id}")))
    }

    /// Replaces the plan of an activity if it is still at `expected_version`; audits the changed
    /// fields. Returns the updated record.
    pub async fn update_plan(
        &self,
        id: ConsultationId,
        expected_version: i64,
        plan: &ConsultationPlan,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Consultation, StoreError> {
        let mut tx = self.begin().await?;
        let old: Option<(String,)> = query("SELECT plan FROM consultations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut tx)
            .await?;
        let Some((old,)) = old else {
            return Err(StoreError::NotFound(format!("consultation {id}")));
        };
        let old: ConsultationPlan = serde_json::from_str(&old).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.bump_version(id, expected_version, None, now).await?;
        query(
            "UPDATE consultations SET organisation_id = (SELECT id FROM organisations WHERE slug = $1), title = $2, \
             search_text = $3, level = $4, opens_on = $5, closes_on = $6, plan = $7, feedback_due = $9, service = $10 WHERE id = $8",
        )
        .bind(plan.organisation().as_str())
        .bind(plan.title())
        .bind(search_text(plan))
        .bind(plan.level().as_str())
        .bind(plan.opens_on())
        .bind(plan.closes_on())
        .bind(plan_json(plan)?)
        .bind(id.0)
        .bind(consult_core::feedback_due(plan))
        .bind(plan.service())
        .execute(&mut tx)
        .await?;
        tx.write_side_tables(id.0, plan).await?;
        let detail = plan_diff(&old, plan);
        tx.audit(
            actor,
            now,
            "consultation.update",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        self.reread(id).await
    }

    /// Records status changes (from [`consult_core::plan_transition`]) if the activity is still at
    /// `expected_version`; the last change's target becomes the recorded status. An approval is
    /// stored with the assessment it was given on.
    pub async fn record_transition(
        &self,
        id: ConsultationId,
        expected_version: i64,
        changes: &[StatusChange],
        approval: Option<&Approval>,
        actor: &Actor,
    ) -> Result<Consultation, StoreError> {
        let Some(last) = changes.last() else {
            return Err(StoreError::Conflict("no status change to record".into()));
        };
        let now = last.at;
        let mut tx = self.begin().await?;
        tx.bump_version(id, expected_version, Some(last.to), now).await?;
        tx.insert_history(id.0, changes).await?;
        if let Some(a) = approval {
            let assessment = serde_json::to_string(&a.assessment).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            query(
                "INSERT INTO approvals (consultation_id, at, actor, override_justification, assessment, actor_role, \
                 actor_organisation_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id.0)
            .bind(a.at)
            .bind(&a.by)
            .bind(&a.override_justification)
            .bind(assessment)
            .bind(a.signer.map(|s| s.role.as_str()))
            .bind(a.signer.and_then(|s| s.organisation).map(|o| o.0))
            .execute(&mut tx)
            .await?;
        }
        let detail = serde_json::to_value(changes).unwrap_or(Value::Null);
        tx.audit(
            actor,
            now,
            "consultation.transition",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        self.reread(id).await
    }

    /// A page of the register matching `filter`, as seen by `reader` on `today`.
    pub async fn list_consultations(
        &self,
        filter: &ConsultationFilter,
        reader: &Reader,
        today: NaiveDate,
        page: &PageRequest,
    ) -> Result<Page<Consultation>, StoreError> {
        let mut sql = Sql::new("");
        let t = sql.arg(today);
        sql.push(&format!(
            "SELECT {CONSULTATION_COLUMNS} FROM (SELECT c.*, {} AS effective FROM consultations c) c WHERE 1 = 1",
            effective_status(&t)
        ));
        match reader {
            Reader::Everything => {}
            Reader::Public => {
                sql.push(" AND c.effective NOT IN ('draft', 'submitted', 'withdrawn')");
            }
            Reader::Organisation(org) => {
                let o = sql.arg(org.0);
                sql.push(&format!(
                    " AND (c.effective NOT IN ('draft', 'submitted', 'withdrawn') OR c.organisation_id = {o})"
                ));
            }
            Reader::Service(org, service) => {
                let o = sql.arg(org.0);
                let s = sql.arg(service.to_lowercase());
                sql.push(&format!(
                    " AND (c.effective NOT IN ('draft', 'submitted', 'withdrawn') \
                     OR (c.organisation_id = {o} AND lower(c.service) = {s}))"
                ));
            }
            Reader::Areas(areas) => {
                let l = if areas.is_empty() {
                    "NULL".to_owned()
                } else {
                    sql.list(areas.iter().map(|a| a.as_str()))
                };
                sql.push(&format!(
                    " AND (c.effective NOT IN ('draft', 'submitted', 'withdrawn') OR EXISTS \
                     (SELECT 1 FROM consultation_areas a WHERE a.consultation_id = c.id AND a.code IN ({l})))"
                ));
            }
        }
        if !filter.statuses.is_empty() {
            let l = sql.list(filter.statuses.iter().map(|s| s.as_str()));
            sql.push(&format!(" AND c.effective IN ({l})"));
        }
        if let Some(level) = filter.level {
            let p = sql.arg(level.as_str());
            sql.push(&format!(" AND c.level = {p}"));
        }
        if let Some(org) = &filter.organisation {
            let p = sql.arg(org);
            sql.push(&format!(
                " AND c.organisation_id IN (SELECT id FROM organisations WHERE slug = {p})"
            ));
        }
        if !filter.areas.is_empty() {
            let l = sql.list(filter.areas.iter().map(|a| a.as_str()));
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM consultation_areas a WHERE a.consultation_id = c.id AND a.code IN ({l}))"
            ));
        }
        if let Some(group) = &filter.group {
            let p = sql.arg(group);
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM consultation_groups g WHERE g.consultation_id = c.id AND g.slug = {p})"
            ));
        }
        if let Some(topic) = &filter.topic {
            let p = sql.arg(topic.trim().to_lowercase());
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM consultation_topics t WHERE t.consultation_id = c.id AND t.topic = {p})"
            ));
        }
        if let Some(service) = filter.service.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let p = sql.arg(service.to_lowercase());
            sql.push(&format!(" AND lower(c.service) = {p}"));
        }
        if let Some(q) = filter.text.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let p = sql.arg(escape_like(q));
            sql.push(&format!(" AND c.search_text LIKE {p} ESCAPE '\\'"));
        }
        if let Some(from) = filter.from {
            let p = sql.arg(from);
            sql.push(&format!(" AND c.closes_on >= {p}"));
        }
        if let Some(to) = filter.to {
            let p = sql.arg(to);
            sql.push(&format!(" AND c.opens_on <= {p}"));
        }
        if filter.feedback_overdue {
            // The SQL twin of consult_core::feedback_overdue.
            sql.push(&format!(" AND c.effective = 'closed' AND c.feedback_due < {t}"));
        }
        match (&page.cursor, filter.order) {
            (None, _) => {}
            (Some(Cursor { opens_on: Some(d), id }), Order::ByOpening) => {
                let d = sql.arg(*d);
                let i = sql.arg(*id);
                sql.push(&format!(" AND (c.opens_on > {d} OR (c.opens_on = {d} AND c.id > {i}))"));
            }
            (Some(Cursor { id, .. }), _) => {
                let i = sql.arg(*id);
                sql.push(&format!(" AND c.id > {i}"));
            }
        }
        sql.push(match filter.order {
            Order::ByRegistration => " ORDER BY c.id",
            Order::ByOpening => " ORDER BY c.opens_on, c.id",
        });
        let limit = sql.arg(i64::from(page.limit) + 1);
        sql.push(&format!(" LIMIT {limit}"));

        let mut rows: Vec<ConsultationRow> = sql.fetch_all(self).await?;
        let more = rows.len() > page.limit as usize;
        rows.truncate(page.limit as usize);
        let items = self.hydrate(rows).await?;
        let next = if more {
            items.last().map(|c| Cursor {
                opens_on: (filter.order == Order::ByOpening).then(|| c.plan.opens_on()),
                id: c.id.0,
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Every activity matching `filter`, as seen by `reader` on `today`: the pages of
    /// [`Store::list_consultations`] read to the end.
    pub async fn list_all_consultations(
        &self,
        filter: &ConsultationFilter,
        reader: &Reader,
        today: NaiveDate,
    ) -> Result<Vec<Consultation>, StoreError> {
        let mut page = PageRequest {
            limit: 500,
            cursor: None,
        };
        let mut out = Vec::new();
        loop {
            let found = self.list_consultations(filter, reader, today, &page).await?;
            out.extend(found.items);
            match found.next {
                Some(next) => page.cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// A page of the forward plan: activities approved or open on `today` that match `filter`
    /// (its dates are the window), by opening date, as the public sees them.
    pub async fn forward_plan(
        &self,
        filter: &ConsultationFilter,
        today: NaiveDate,
        page: &PageRequest,
    ) -> Result<Page<Consultation>, StoreError> {
        let filter = ConsultationFilter {
            statuses: vec![Status::Approved, Status::Open],
            order: Order::ByOpening,
            ..filter.clone()
        };
        self.list_consultations(&filter, &Reader::Public, today, page).await
    }

    /// Activities changed after change number `after` (all when `None`), oldest change first,
    /// without their history, with the number to pass next time: what the overlap index is
    /// built and caught up from. Every insert or update of an activity takes the next number.
    pub async fn changed_after(&self, after: Option<i64>) -> Result<(Vec<Consultation>, i64), StoreError> {
        // The counter's value is read first: every change up to it is included.
        let (upto,): (i64,) = query("SELECT n FROM register_changes WHERE id = 1")
            .fetch_one(self)
            .await?;
        let after = after.unwrap_or(-1);
        if upto <= after {
            return Ok((Vec::new(), upto));
        }
        let rows: Vec<ConsultationRow> = query(format!(
            "SELECT {CONSULTATION_COLUMNS} FROM consultations c WHERE c.change_seq > $1 AND c.change_seq <= $2 ORDER BY c.change_seq"
        ))
        .bind(after)
        .bind(upto)
        .fetch_all(self)
        .await?;
        let changed = rows
            .into_iter()
            .map(|r| r.into_consultation(Vec::new(), None))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((changed, upto))
    }
}

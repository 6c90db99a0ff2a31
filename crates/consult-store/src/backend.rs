//! The two native backends. Their SQL is written once, in [`backend!`], with `$n` parameters,
//! which both SQLite and PostgreSQL accept; each backend keeps its own column types in its own
//! migrations.

use crate::StoreError;
use crate::types::ChecklistSettings;
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, AnswerCounts, AreaCode, Attestation, AudienceEntry, Candidate, ConsultationId, ContactChannel, Dismissal,
    Document, DocumentSource, ElectionPeriod, Exclusion, FatigueRules, Framework, InvitationPlan, Matching,
    MonitoringScheme, Organisation, OrganisationId, PlanReview, ProgrammeItem, Remark, RemarkCounts, RemarkKind,
    RemarkStatus, Resident, Response, Role, ServicePlan,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// A bound value in dynamically built SQL.
enum Arg {
    Uuid(Uuid),
    Text(String),
    Date(NaiveDate),
    Int(i64),
    Time(DateTime<Utc>),
}

/// SQL text with its arguments, numbering parameters as they are added.
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    /// Adds an argument and returns its placeholder.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
    /// Placeholders for a list of arguments: `$3, $4, $5`.
    fn list(&mut self, args: impl IntoIterator<Item = Arg>) -> String {
        args.into_iter().map(|a| self.arg(a)).collect::<Vec<_>>().join(", ")
    }
}

const TABLES: &[&str] = &[
    "organisations",
    "services",
    "areas",
    "tokens",
    "consultations",
    "consultation_areas",
    "consultation_groups",
    "consultation_topics",
    "status_history",
    "audit_log",
    "frameworks",
    "organisation_frameworks",
    "election_periods",
    "attestations",
    "approvals",
    "overlap_dismissals",
    "residents",
    "resident_interests",
    "resident_areas",
    "resident_groups",
    "contacts",
    "fatigue_rules",
    "responses",
    "monitoring_answers",
    "baselines",
    "baseline_counts",
    "monitoring_schemes",
    "organisation_schemes",
    "feedback",
    "evaluations",
    "remarks",
    "documents",
    "service_plans",
    "programmes",
    "plan_reviews",
];

/// A kind of definition kept with every version (custom frameworks, monitoring schemes): its
/// table (key, version, definition, created_at, created_by) and how its writes are audited.
struct VersionedKind {
    table: &'static str,
    action: &'static str,
    entity: &'static str,
}

const FRAMEWORKS: VersionedKind = VersionedKind {
    table: "frameworks",
    action: "framework.add",
    entity: "framework",
};

const MONITORING_SCHEMES: VersionedKind = VersionedKind {
    table: "monitoring_schemes",
    action: "monitoring_scheme.add",
    entity: "monitoring_scheme",
};

/// A versioned definition: a key, and a version the store gives it.
trait Versioned: serde::Serialize + Clone + Send + Sync {
    fn key(&self) -> &str;
    fn version(&self) -> u32;
    fn set_version(&mut self, version: u32);
}

impl Versioned for Framework {
    fn key(&self) -> &str {
        &self.key
    }
    fn version(&self) -> u32 {
        self.version
    }
    fn set_version(&mut self, version: u32) {
        self.version = version;
    }
}

impl Versioned for MonitoringScheme {
    fn key(&self) -> &str {
        &self.key
    }
    fn version(&self) -> u32 {
        self.version
    }
    fn set_version(&mut self, version: u32) {
        self.version = version;
    }
}

/// How far back each resident's recent invitation dates are kept: the longest fatigue window
/// an organisation may set.
const RECENT_INVITATION_DAYS: i64 = 3650;

/// Each resident keeps at most this many newest invitation dates (`YYYY-MM-DD,` each): enough
/// for the highest `max_contacts`.
const RECENT_INVITATIONS_TEXT: i64 = FatigueRules::MOST_CONTACTS as i64 * 11 - 1;

/// `AND ...` conditions on `r` (residents) selecting the residents `m` matches (the SQL twin of
/// [`Matching::matches`]); `None` when the activity names neither topics nor groups, so nobody
/// matches.
fn matching_conditions(m: &Matching, sql: &mut Sql) -> Option<String> {
    if m.matches_nobody() {
        return None;
    }
    // Set-based semi-joins on the area, interest and group indexes: the databases hash them
    // (or drive from the smallest) rather than probing per resident.
    let mut out = String::new();
    if !m.areas.is_empty() {
        let l = sql.list(m.areas.iter().map(|a| Arg::Text(a.to_string())));
        out.push_str(&format!(
            " AND r.id IN (SELECT resident_id FROM resident_areas WHERE code IN ({l}))"
        ));
    }
    let mut any = Vec::new();
    if !m.topics.is_empty() {
        let l = sql.list(m.topics.iter().map(|t| Arg::Text(t.to_lowercase())));
        any.push(format!(
            "r.id IN (SELECT resident_id FROM resident_interests WHERE topic IN ({l}))"
        ));
    }
    if !m.groups.is_empty() {
        let l = sql.list(m.groups.iter().map(|g| Arg::Text(g.clone())));
        any.push(format!(
            "r.id IN (SELECT resident_id FROM resident_groups WHERE slug IN ({l}))"
        ));
    }
    out.push_str(&format!(" AND ({})", any.join(" OR ")));
    Some(out)
}

/// The matching residents (`id`, `channels`) with the reason each is left out (`reason`, NULL
/// when invited): the SQL twin of [`consult_core::invitation_for`], reading the recent
/// invitation dates kept with each resident newest first at a fixed width, so the `k`-th newest
/// is a substring. A conformance test checks the two agree.
fn invitation_reasons(
    consultation: ConsultationId,
    matching: &Matching,
    rules: &FatigueRules,
    today: NaiveDate,
) -> Option<Sql> {
    let mut sql = Sql::new("");
    let conditions = matching_conditions(matching, &mut sql)?;
    let c = sql.arg(Arg::Uuid(consultation.0));
    let window = sql.arg(Arg::Text(rules.window_start(today).format("%Y-%m-%d").to_string()));
    let gap = sql.arg(Arg::Text(rules.gap_cutoff(today).format("%Y-%m-%d").to_string()));
    let kth = (i64::from(rules.max_contacts) - 1) * 11 + 1;
    sql.text = format!(
        "SELECT r.id, r.channels, CASE \
         WHEN r.consent_at IS NULL THEN 'no_consent' \
         WHEN r.channels = '' THEN 'no_channel' \
         WHEN r.id IN (SELECT resident_id FROM contacts WHERE consultation_id = {c} AND kind = 'invitation') THEN 'already_invited' \
         WHEN substr(r.recent_invitations, {kth}, 10) >= {window} THEN 'fatigue_max_contacts' \
         WHEN substr(r.recent_invitations, 1, 10) > {gap} THEN 'fatigue_min_gap' \
         END AS reason FROM residents r WHERE 1 = 1{conditions}"
    );
    Some(sql)
}

/// A resident's recent invitation dates, as kept with them, newest first (`2026-03-02,2026-01-05`). Read for
/// every matching resident of an invitation plan, so parsed by hand rather than by format string.
fn recent_dates(text: &str) -> Result<Vec<NaiveDate>, StoreError> {
    text.split(',')
        .filter(|d| !d.is_empty())
        .map(|d| {
            let b = d.as_bytes();
            let num = |r: std::ops::Range<usize>| -> Option<u32> {
                b.get(r)?
                    .iter()
                    .try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
            };
            (b.len() == 10 && b[4] == b'-' && b[7] == b'-')
                .then(|| NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?))
                .flatten()
                .ok_or_else(|| StoreError::Corrupt(format!("invitation date `{d}`")))
        })
        .collect()
}

fn channels_text(channels: &[ContactChannel]) -> String {
    channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
}

fn channels_from(text: &str) -> Vec<ContactChannel> {
    text.split(',').filter_map(ContactChannel::parse).collect()
}

/// Changes to the residents' register since a change number (see [`crate::Store::audience_changes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceChanges {
    /// Every change up to this number is included: pass it as `after` next time.
    pub upto: i64,
    /// What an audience index keeps of each resident changed.
    pub changed: Vec<AudienceEntry>,
    /// Residents deleted.
    pub removed: Vec<Uuid>,
}

/// One contact-log entry as shown to the resident it concerns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContactRecord {
    /// The activity.
    pub consultation_id: Uuid,
    /// Its title.
    pub title: String,
    /// `invitation` or `response`.
    pub kind: String,
    /// The channel used.
    pub channel: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Uuid(u) => q.bind(*u),
                Arg::Text(t) => q.bind(t.clone()),
                Arg::Date(d) => q.bind(*d),
                Arg::Int(i) => q.bind(*i),
                Arg::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}

macro_rules! backend {
    ($name:ident, $db:ty, $begin:literal) => {
        /// One native backend.
        #[derive(Debug, Clone)]
        pub(crate) struct $name {
            pool: sqlx::Pool<$db>,
        }

        impl $name {
            pub(crate) fn new(pool: sqlx::Pool<$db>) -> Self {
                Self { pool }
            }

            /// The connection pool, for whole-database work (`copy`).
            pub(crate) fn pool(&self) -> &sqlx::Pool<$db> {
                &self.pool
            }

            async fn begin(&self) -> Result<sqlx::Transaction<'static, $db>, StoreError> {
                Ok(self.pool.begin_with($begin).await?)
            }

            /// The next number of the residents' register's change counter, for the rows this
            /// transaction touches. The counter's row lock orders writers: every change numbered
            /// up to the counter's visible value is committed.
            async fn next_resident_change(tx: &mut sqlx::Transaction<'static, $db>) -> Result<i64, StoreError> {
                let (n,): (i64,) = sqlx::query_as("UPDATE resident_changes SET n = n + 1 WHERE id = 1 RETURNING n")
                    .fetch_one(&mut **tx)
                    .await?;
                Ok(n)
            }

            async fn audit(
                tx: &mut sqlx::Transaction<'static, $db>,
                actor: &Actor,
                at: DateTime<Utc>,
                action: &str,
                entity: &str,
                entity_id: &str,
                detail: &Value,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(at)
                .bind(&actor.name)
                .bind(action)
                .bind(entity)
                .bind(entity_id)
                .bind(detail.to_string())
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            pub(crate) async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            pub(crate) async fn close(&self) {
                self.pool.close().await
            }

            pub(crate) async fn insert_remark(&self, r: &Remark, actor: &Actor) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
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
                .execute(&mut *tx)
                .await?;
                // No contact details in the audit log.
                let detail = json!({ "id": r.id, "kind": r.kind.as_str() });
                Self::audit(&mut tx, actor, r.received_at, "remark.receive", "consultation", &r.consultation_id.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn update_remark(&self, r: &Remark, actor: &Actor) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                let done = sqlx::query("UPDATE remarks SET status = $1, reply = $2, updated_at = $3 WHERE id = $4")
                    .bind(r.status.as_str())
                    .bind(&r.reply)
                    .bind(r.updated_at)
                    .bind(r.id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("remark {}", r.id)));
                }
                let detail = json!({ "id": r.id, "status": r.status.as_str() });
                Self::audit(&mut tx, actor, r.updated_at, "remark.update", "consultation", &r.consultation_id.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn remarks(&self, consultation: Option<Uuid>, id: Option<Uuid>) -> Result<Vec<Remark>, StoreError> {
                let mut sql = Sql::new(
                    "SELECT id, consultation_id, kind, body, principle, contact, status, reply, received_at, updated_at FROM remarks WHERE 1 = 1",
                );
                if let Some(c) = consultation {
                    let p = sql.arg(Arg::Uuid(c));
                    sql.push(&format!(" AND consultation_id = {p}"));
                }
                if let Some(i) = id {
                    let p = sql.arg(Arg::Uuid(i));
                    sql.push(&format!(" AND id = {p}"));
                }
                sql.push(" ORDER BY received_at, id");
                type Row = (Uuid, Uuid, String, String, Option<String>, Option<String>, String, Option<String>, DateTime<Utc>, DateTime<Utc>);
                let rows: Vec<Row> = bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|(id, cid, kind, body, principle, contact, status, reply, received_at, updated_at)| {
                        Ok(Remark {
                            id,
                            consultation_id: ConsultationId(cid),
                            kind: RemarkKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("remark kind `{kind}`")))?,
                            body,
                            principle,
                            contact,
                            status: RemarkStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("remark status `{status}`")))?,
                            reply,
                            received_at,
                            updated_at,
                        })
                    })
                    .collect()
            }

            pub(crate) async fn remark_counts(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, RemarkCounts>, StoreError> {
                let mut out: HashMap<Uuid, RemarkCounts> = HashMap::new();
                for chunk in ids.chunks(500) {
                    let mut sql = Sql::new("SELECT consultation_id, kind, status, COUNT(*) FROM remarks WHERE consultation_id IN (");
                    let list = sql.list(chunk.iter().map(|id| Arg::Uuid(*id)));
                    sql.push(&list).push(") GROUP BY consultation_id, kind, status");
                    let rows: Vec<(Uuid, String, String, i64)> = bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                    for (id, kind, status, n) in rows {
                        let (Some(kind), Some(status)) = (RemarkKind::parse(&kind), RemarkStatus::parse(&status)) else {
                            return Err(StoreError::Corrupt(format!("remark `{kind}` `{status}`")));
                        };
                        out.entry(id).or_default().add(kind, status, u64::try_from(n).unwrap_or(0));
                    }
                }
                Ok(out)
            }

            pub(crate) async fn insert_document(&self, d: &Document, content: Option<&[u8]>, actor: &Actor) -> Result<(), StoreError> {
                let (url, media_type, size) = match &d.source {
                    DocumentSource::Link { url } => (Some(url.clone()), None, None),
                    DocumentSource::Stored { media_type, size } => {
                        (None, Some(media_type.clone()), Some(i64::try_from(*size).map_err(|e| StoreError::Corrupt(e.to_string()))?))
                    }
                };
                let mut tx = self.begin().await?;
                sqlx::query(
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
                .execute(&mut *tx)
                .await?;
                let detail = json!({ "document": d.id, "title": d.title });
                Self::audit(&mut tx, actor, d.added_at, "consultation.document", "consultation", &d.consultation_id.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn delete_document(&self, d: &Document, actor: &Actor, now: DateTime<Utc>) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query("DELETE FROM documents WHERE id = $1").bind(d.id).execute(&mut *tx).await?;
                let detail = json!({ "document": d.id, "title": d.title, "removed": true });
                Self::audit(&mut tx, actor, now, "consultation.document", "consultation", &d.consultation_id.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn documents(&self, ids: &[Uuid], id: Option<Uuid>) -> Result<Vec<Document>, StoreError> {
                let mut out = Vec::new();
                let chunks: Vec<&[Uuid]> = if id.is_some() { vec![&[]] } else { ids.chunks(500).collect() };
                for chunk in chunks {
                    let mut sql = Sql::new("SELECT id, consultation_id, title, url, media_type, size, added_at, added_by FROM documents WHERE ");
                    match id {
                        Some(one) => {
                            let p = sql.arg(Arg::Uuid(one));
                            sql.push(&format!("id = {p}"));
                        }
                        None => {
                            let list = sql.list(chunk.iter().map(|i| Arg::Uuid(*i)));
                            sql.push(&format!("consultation_id IN ({list})"));
                        }
                    }
                    sql.push(" ORDER BY added_at, id");
                    type Row = (Uuid, Uuid, String, Option<String>, Option<String>, Option<i64>, DateTime<Utc>, String);
                    let rows: Vec<Row> = bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                    for (id, cid, title, url, media_type, size, added_at, added_by) in rows {
                        let source = match (url, media_type, size) {
                            (Some(url), _, _) => DocumentSource::Link { url },
                            (None, Some(media_type), Some(size)) => DocumentSource::Stored { media_type, size: u64::try_from(size).unwrap_or(0) },
                            _ => return Err(StoreError::Corrupt(format!("document {id} has neither link nor content"))),
                        };
                        out.push(Document { id, consultation_id: ConsultationId(cid), title, source, added_at, added_by });
                    }
                }
                Ok(out)
            }

            pub(crate) async fn document_content(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
                let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as("SELECT content FROM documents WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.and_then(|(c,)| c))
            }

            pub(crate) async fn save_service_plan(&self, org: OrganisationId, plan: &ServicePlan, actor: &Actor) -> Result<(), StoreError> {
                let entries = serde_json::to_string(&plan.entries).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let mut tx = self.begin().await?;
                sqlx::query(
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
                .execute(&mut *tx)
                .await?;
                let detail = json!({ "year": plan.year, "service": plan.service, "entries": plan.entries.len(), "agreed": plan.agreed });
                Self::audit(&mut tx, actor, plan.updated_at, "plan.service", "organisation", &org.0.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn service_plans(&self, org: OrganisationId, slug: &str, year: i32) -> Result<Vec<ServicePlan>, StoreError> {
                let rows: Vec<(String, String, bool, DateTime<Utc>, String)> = sqlx::query_as(
                    "SELECT service, entries, agreed, updated_at, updated_by FROM service_plans WHERE organisation_id = $1 AND year = $2 ORDER BY service",
                )
                .bind(org.0)
                .bind(year)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(service, entries, agreed, updated_at, updated_by)| {
                        Ok(ServicePlan {
                            organisation: slug.to_owned(),
                            service,
                            year,
                            entries: serde_json::from_str(&entries).map_err(|e| StoreError::Corrupt(format!("plan entries: {e}")))?,
                            agreed,
                            updated_at,
                            updated_by,
                        })
                    })
                    .collect()
            }

            pub(crate) async fn save_programme(
                &self,
                org: OrganisationId,
                items: &[ProgrammeItem],
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let body = serde_json::to_string(items).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO programmes (organisation_id, items, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (organisation_id) DO UPDATE SET items = excluded.items, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                )
                .bind(org.0)
                .bind(body)
                .bind(now)
                .bind(&actor.name)
                .execute(&mut *tx)
                .await?;
                let detail = json!({ "items": items.len() });
                Self::audit(&mut tx, actor, now, "plan.programme", "organisation", &org.0.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn programme(&self, org: OrganisationId) -> Result<Vec<ProgrammeItem>, StoreError> {
                let row: Option<(String,)> = sqlx::query_as("SELECT items FROM programmes WHERE organisation_id = $1")
                    .bind(org.0)
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    None => Ok(Vec::new()),
                    Some((items,)) => serde_json::from_str(&items).map_err(|e| StoreError::Corrupt(format!("programme: {e}"))),
                }
            }

            pub(crate) async fn record_plan_review(
                &self,
                org: OrganisationId,
                year: i32,
                review: &PlanReview,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
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
                .execute(&mut *tx)
                .await?;
                let detail = json!({ "year": year, "half": review.half });
                Self::audit(&mut tx, actor, now, "plan.review", "organisation", &org.0.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn plan_reviews(&self, org: OrganisationId, year: i32) -> Result<Vec<PlanReview>, StoreError> {
                let rows: Vec<(i32, NaiveDate, String, String)> = sqlx::query_as(
                    "SELECT half, reviewed_on, reviewed_by, notes FROM plan_reviews WHERE organisation_id = $1 AND year = $2 ORDER BY half",
                )
                .bind(org.0)
                .bind(year)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(half, reviewed_on, by, notes)| PlanReview { half: u32::try_from(half).unwrap_or(0), reviewed_on, by, notes })
                    .collect())
            }

            pub(crate) async fn checklist_settings(&self, org: OrganisationId) -> Result<ChecklistSettings, StoreError> {
                let keys: Vec<(String,)> = sqlx::query_as(
                    "SELECT framework_key FROM organisation_frameworks WHERE organisation_id = $1 ORDER BY framework_key",
                )
                .bind(org.0)
                .fetch_all(&self.pool)
                .await?;
                let periods: Vec<(String, NaiveDate, NaiveDate)> = sqlx::query_as(
                    "SELECT name, starts_on, ends_on FROM election_periods WHERE organisation_id = $1 ORDER BY starts_on, id",
                )
                .bind(org.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(ChecklistSettings {
                    frameworks: keys.into_iter().map(|(k,)| k).collect(),
                    election_periods: periods
                        .into_iter()
                        .map(|(name, starts_on, ends_on)| ElectionPeriod { name, starts_on, ends_on })
                        .collect(),
                })
            }

            pub(crate) async fn set_checklist_settings(
                &self,
                org: &Organisation,
                settings: &ChecklistSettings,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                for table in ["organisation_frameworks", "election_periods"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE organisation_id = $1"))
                        .bind(org.id.0)
                        .execute(&mut *tx)
                        .await?;
                }
                for key in &settings.frameworks {
                    sqlx::query("INSERT INTO organisation_frameworks (organisation_id, framework_key) VALUES ($1, $2)")
                        .bind(org.id.0)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
                for p in &settings.election_periods {
                    sqlx::query("INSERT INTO election_periods (organisation_id, name, starts_on, ends_on) VALUES ($1, $2, $3, $4)")
                        .bind(org.id.0)
                        .bind(&p.name)
                        .bind(p.starts_on)
                        .bind(p.ends_on)
                        .execute(&mut *tx)
                        .await?;
                }
                let detail = serde_json::to_value(settings).unwrap_or(Value::Null);
                Self::audit(&mut tx, actor, now, "organisation.checklist", "organisation", org.slug.as_str(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn custom_frameworks(&self) -> Result<Vec<Framework>, StoreError> {
                self.definitions(&FRAMEWORKS).await
            }

            pub(crate) async fn add_framework(
                &self,
                framework: &Framework,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<Framework, StoreError> {
                self.add_definition(&FRAMEWORKS, framework, actor, now).await
            }

            /// Every stored version of a kind of versioned definition, by key and version.
            async fn definitions<T: serde::de::DeserializeOwned>(&self, kind: &VersionedKind) -> Result<Vec<T>, StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(&format!("SELECT definition FROM {} ORDER BY key, version", kind.table))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|(d,)| serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("{}: {e}", kind.entity))))
                    .collect()
            }

            /// Stores a definition as the next version of its key (versions are never changed).
            async fn add_definition<T: Versioned>(
                &self,
                kind: &VersionedKind,
                item: &T,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<T, StoreError> {
                let mut tx = self.begin().await?;
                let (latest,): (Option<i64>,) = sqlx::query_as(&format!("SELECT MAX(version) FROM {} WHERE key = $1", kind.table))
                    .bind(item.key())
                    .fetch_one(&mut *tx)
                    .await?;
                let mut stored = item.clone();
                stored.set_version(u32::try_from(latest.unwrap_or(0) + 1).map_err(|e| StoreError::Corrupt(e.to_string()))?);
                let definition = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query(&format!(
                    "INSERT INTO {} (key, version, definition, created_at, created_by) VALUES ($1, $2, $3, $4, $5)",
                    kind.table
                ))
                .bind(stored.key())
                .bind(i64::from(stored.version()))
                .bind(definition)
                .bind(now)
                .bind(&actor.name)
                .execute(&mut *tx)
                .await?;
                let detail = json!({ "key": stored.key(), "version": stored.version() });
                Self::audit(&mut tx, actor, now, kind.action, kind.entity, stored.key(), &detail).await?;
                tx.commit().await?;
                Ok(stored)
            }

            pub(crate) async fn attestations(&self, id: ConsultationId) -> Result<Vec<Attestation>, StoreError> {
                let rows: Vec<(String, bool, Option<String>, String, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT check_id, answer, evidence, actor, at FROM attestations WHERE consultation_id = $1 ORDER BY check_id",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(check, answer, evidence, by, at)| Attestation { check, answer, evidence, by, at })
                    .collect())
            }

            pub(crate) async fn record_attestations(
                &self,
                id: ConsultationId,
                answers: &[Attestation],
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let now = answers.first().map(|a| a.at).unwrap_or_default();
                let mut tx = self.begin().await?;
                for a in answers {
                    sqlx::query(
                        "INSERT INTO attestations (consultation_id, check_id, answer, evidence, actor, at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (consultation_id, check_id) DO UPDATE SET answer = excluded.answer, evidence = excluded.evidence, \
                         actor = excluded.actor, at = excluded.at",
                    )
                    .bind(id.0)
                    .bind(&a.check)
                    .bind(a.answer)
                    .bind(&a.evidence)
                    .bind(&a.by)
                    .bind(a.at)
                    .execute(&mut *tx)
                    .await?;
                }
                let detail = serde_json::to_value(answers).unwrap_or(Value::Null);
                Self::audit(&mut tx, actor, now, "consultation.attest", "consultation", &id.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn dismissal_counts(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, u64>, StoreError> {
                let mut out = HashMap::new();
                for chunk in ids.chunks(500) {
                    let mut sql = Sql::new("SELECT consultation_id, COUNT(*) FROM overlap_dismissals WHERE consultation_id IN (");
                    let list = sql.list(chunk.iter().map(|id| Arg::Uuid(*id)));
                    sql.push(&list).push(") GROUP BY consultation_id");
                    let rows: Vec<(Uuid, i64)> = bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                    out.extend(rows.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))));
                }
                Ok(out)
            }

            pub(crate) async fn dismissals(&self, id: ConsultationId) -> Result<Vec<Dismissal>, StoreError> {
                let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT other_id, reason, actor, at FROM overlap_dismissals WHERE consultation_id = $1 ORDER BY at, other_id",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(other, reason, by, at)| Dismissal { other: ConsultationId(other), reason, by, at })
                    .collect())
            }

            pub(crate) async fn dismiss(
                &self,
                id: ConsultationId,
                dismissal: &Dismissal,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO overlap_dismissals (consultation_id, other_id, reason, actor, at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (consultation_id, other_id) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at = excluded.at",
                )
                .bind(id.0)
                .bind(dismissal.other.0)
                .bind(&dismissal.reason)
                .bind(&dismissal.by)
                .bind(dismissal.at)
                .execute(&mut *tx)
                .await?;
                let detail = json!({ "other": dismissal.other, "reason": dismissal.reason });
                Self::audit(&mut tx, actor, dismissal.at, "consultation.dismiss_overlap", "consultation", &id.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn create_resident(&self, r: &Resident, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                let change = Self::next_resident_change(&mut tx).await?;
                sqlx::query(
                    "INSERT INTO residents (id, email, phone, postal_address, channels, consent_at, token_hash, created_at, change_seq) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(r.id)
                .bind(&r.email)
                .bind(&r.phone)
                .bind(&r.postal_address)
                .bind(channels_text(&r.channels))
                .bind(r.consent_at)
                .bind(token_hash)
                .bind(now)
                .bind(change)
                .execute(&mut *tx)
                .await?;
                for (table, column, values) in [
                    ("resident_interests", "topic", r.interests.clone()),
                    ("resident_areas", "code", r.areas.iter().map(|a| a.to_string()).collect()),
                    ("resident_groups", "slug", r.groups.clone()),
                ] {
                    for v in values {
                        sqlx::query(&format!("INSERT INTO {table} (resident_id, {column}) VALUES ($1, $2)"))
                            .bind(r.id)
                            .bind(v)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let public = Actor { name: "public".into(), role: Role::Officer, organisation: None };
                // The audit log names the record, never the person's details.
                Self::audit(&mut tx, &public, now, "resident.register", "resident", &r.id.to_string(), &json!({})).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn resident(&self, id: Uuid, token_hash: &str) -> Result<Option<Resident>, StoreError> {
                let row: Option<(Option<String>, Option<String>, Option<String>, String, Option<DateTime<Utc>>)> = sqlx::query_as(
                    "SELECT email, phone, postal_address, channels, consent_at FROM residents WHERE id = $1 AND token_hash = $2",
                )
                .bind(id)
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some((email, phone, postal_address, channels, consent_at)) = row else { return Ok(None) };
                let list = |table: &'static str, column: &'static str| {
                    let sql = format!("SELECT {column} FROM {table} WHERE resident_id = $1 ORDER BY {column}");
                    let pool = self.pool.clone();
                    async move {
                        let rows: Vec<(String,)> = sqlx::query_as(&sql).bind(id).fetch_all(&pool).await?;
                        Ok::<Vec<String>, StoreError>(rows.into_iter().map(|r| r.0).collect())
                    }
                };
                let interests = list("resident_interests", "topic").await?;
                let areas = list("resident_areas", "code")
                    .await?
                    .iter()
                    .map(|c| AreaCode::parse(c))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(StoreError::Corrupt)?;
                let groups = list("resident_groups", "slug").await?;
                Ok(Some(Resident {
                    id,
                    email,
                    phone,
                    postal_address,
                    interests,
                    areas,
                    groups,
                    channels: channels_from(&channels),
                    consent_at,
                }))
            }

            pub(crate) async fn resident_contacts(&self, id: Uuid) -> Result<Vec<ContactRecord>, StoreError> {
                let rows: Vec<(Uuid, String, String, Option<String>, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT k.consultation_id, c.title, k.kind, k.channel, k.at FROM contacts k \
                     JOIN consultations c ON c.id = k.consultation_id WHERE k.resident_id = $1 ORDER BY k.at, k.id",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(consultation_id, title, kind, channel, at)| ContactRecord { consultation_id, title, kind, channel, at })
                    .collect())
            }

            pub(crate) async fn delete_resident(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let mut tx = self.begin().await?;
                for table in ["contacts", "resident_interests", "resident_areas", "resident_groups"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE resident_id = $1")).bind(id).execute(&mut *tx).await?;
                }
                let done = sqlx::query("DELETE FROM residents WHERE id = $1").bind(id).execute(&mut *tx).await?;
                if done.rows_affected() == 1 {
                    // Only the id, so audience indexes drop the resident too.
                    let change = Self::next_resident_change(&mut tx).await?;
                    sqlx::query("INSERT INTO resident_removals (id, change_seq) VALUES ($1, $2)")
                        .bind(id)
                        .bind(change)
                        .execute(&mut *tx)
                        .await?;
                }
                let public = Actor { name: "resident".into(), role: Role::Officer, organisation: None };
                Self::audit(&mut tx, &public, now, "resident.delete", "resident", &id.to_string(), &json!({})).await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn unsubscribe(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                let change = Self::next_resident_change(&mut tx).await?;
                sqlx::query("UPDATE residents SET consent_at = NULL, change_seq = $2 WHERE id = $1")
                    .bind(id)
                    .bind(change)
                    .execute(&mut *tx)
                    .await?;
                let public = Actor { name: "resident".into(), role: Role::Officer, organisation: None };
                Self::audit(&mut tx, &public, now, "resident.unsubscribe", "resident", &id.to_string(), &json!({})).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn invitation_candidates(
                &self,
                consultation: ConsultationId,
                matching: &Matching,
                window_start: NaiveDate,
            ) -> Result<Vec<Candidate>, StoreError> {
                let mut sql = Sql::new("SELECT r.id, r.channels, r.consent_at, r.recent_invitations FROM residents r WHERE 1 = 1");
                let Some(conditions) = matching_conditions(matching, &mut sql) else {
                    return Ok(Vec::new());
                };
                sql.push(&conditions);
                let invited = self.invited_to(consultation).await?;
                let rows: Vec<(Uuid, String, Option<DateTime<Utc>>, String)> =
                    bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|(id, channels, consent, recent)| {
                        let (mut n, mut last) = (0u32, None::<NaiveDate>);
                        for d in recent_dates(&recent)? {
                            if d >= window_start {
                                n += 1;
                                last = last.max(Some(d));
                            }
                        }
                        Ok(Candidate {
                            id,
                            channel: channels_from(&channels).first().copied(),
                            consented: consent.is_some(),
                            contacts_in_window: n,
                            last_contact: last,
                            already_invited: invited.contains(&id),
                        })
                    })
                    .collect()
            }

            /// An invitation plan computed in the database in one pass over the matching
            /// residents: counts of who is left out and why, and the invited rows, without
            /// sending the left-out residents to the client. With `rows = false` only the counts
            /// are read (fatigue findings).
            pub(crate) async fn invitation_plan(
                &self,
                consultation: ConsultationId,
                matching: &Matching,
                rules: &FatigueRules,
                today: NaiveDate,
                rows: bool,
            ) -> Result<InvitationPlan, StoreError> {
                let mut plan = InvitationPlan::default();
                let Some(mut sql) = invitation_reasons(consultation, matching, rules, today) else {
                    return Ok(plan);
                };
                // Rows: (reason, count, NULL, NULL) per reason left out, then with `rows`
                // (NULL, 1, id, channels) per resident invited. Both databases materialise a
                // CTE read twice, so the residents are decided once.
                sql.text = if rows {
                    format!(
                        "WITH t AS ({}) \
                         SELECT t.reason, COUNT(*), NULL, NULL FROM t WHERE t.reason IS NOT NULL GROUP BY t.reason \
                         UNION ALL SELECT NULL, 1, t.id, t.channels FROM t WHERE t.reason IS NULL",
                        sql.text
                    )
                } else {
                    format!(
                        "SELECT t.reason, COUNT(*), NULL, NULL FROM ({}) t WHERE t.reason IS NOT NULL GROUP BY t.reason",
                        sql.text
                    )
                };
                let found: Vec<(Option<String>, i64, Option<Uuid>, Option<String>)> =
                    bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                for (reason, n, id, channels) in found {
                    match (reason, id) {
                        (Some(reason), _) => {
                            let r = Exclusion::parse(&reason)
                                .ok_or_else(|| StoreError::Corrupt(format!("exclusion `{reason}`")))?;
                            let n = u64::try_from(n).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                            plan.excluded.insert(r, n);
                        }
                        (None, Some(id)) => {
                            let channel = channels_from(channels.as_deref().unwrap_or_default())
                                .first()
                                .copied()
                                .ok_or_else(|| StoreError::Corrupt(format!("resident {id} without a channel")))?;
                            plan.invited.push((id, channel));
                            *plan.by_channel.entry(channel).or_default() += 1;
                        }
                        (None, None) => return Err(StoreError::Corrupt("invitation plan row without a reason or resident".into())),
                    }
                }
                Ok(plan)
            }

            /// The residents already invited to an activity: one range scan of its contacts.
            pub(crate) async fn invited_to(&self, consultation: ConsultationId) -> Result<HashSet<Uuid>, StoreError> {
                let invited: Vec<(Uuid,)> = sqlx::query_as(
                    "SELECT DISTINCT resident_id FROM contacts WHERE consultation_id = $1 AND kind = 'invitation'",
                )
                .bind(consultation.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(invited.into_iter().map(|(id,)| id).collect())
            }

            /// The changes to the residents' register numbered after `after` (everything when
            /// `None`): what an audience index keeps of each resident changed, and who was
            /// deleted, up to the counter's value read first (every change up to it is
            /// committed). A resident changed again while this reads is read again next time.
            pub(crate) async fn audience_changes(&self, after: Option<i64>) -> Result<AudienceChanges, StoreError> {
                let (upto,): (i64,) = sqlx::query_as("SELECT n FROM resident_changes WHERE id = 1").fetch_one(&self.pool).await?;
                let after = after.unwrap_or(-1);
                let mut changes = AudienceChanges { upto, changed: Vec::new(), removed: Vec::new() };
                if upto <= after {
                    return Ok(changes);
                }
                let everyone = after < 0;
                let rows: Vec<(Uuid, String, Option<DateTime<Utc>>, String)> = sqlx::query_as(
                    "SELECT r.id, r.channels, r.consent_at, r.recent_invitations FROM residents r \
                     WHERE r.change_seq > $1 AND r.change_seq <= $2",
                )
                .bind(after)
                .bind(upto)
                .fetch_all(&self.pool)
                .await?;
                let mut side: HashMap<Uuid, (Vec<AreaCode>, Vec<String>, Vec<String>)> = HashMap::with_capacity(rows.len());
                for (i, (table, column)) in [("resident_areas", "code"), ("resident_interests", "topic"), ("resident_groups", "slug")]
                    .into_iter()
                    .enumerate()
                {
                    // Read after the residents: a newer side row belongs to a resident whose
                    // newer number brings it back next time.
                    let sql = if everyone {
                        format!("SELECT t.resident_id, t.{column} FROM {table} t")
                    } else {
                        format!(
                            "SELECT t.resident_id, t.{column} FROM {table} t JOIN residents r ON r.id = t.resident_id \
                             WHERE r.change_seq > $1"
                        )
                    };
                    let mut q = sqlx::query_as(&sql);
                    if !everyone {
                        q = q.bind(after);
                    }
                    let found: Vec<(Uuid, String)> = q.fetch_all(&self.pool).await?;
                    for (id, value) in found {
                        let e = side.entry(id).or_default();
                        match i {
                            0 => e.0.push(AreaCode::parse(&value).map_err(StoreError::Corrupt)?),
                            1 => e.1.push(value),
                            _ => e.2.push(value),
                        }
                    }
                }
                changes.changed = rows
                    .into_iter()
                    .map(|(id, channels, consent, recent)| {
                        let (areas, interests, groups) = side.remove(&id).unwrap_or_default();
                        Ok(AudienceEntry {
                            id,
                            areas,
                            interests,
                            groups,
                            channel: channels_from(&channels).first().copied(),
                            consented: consent.is_some(),
                            recent_invitations: recent_dates(&recent)?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                let removed: Vec<(Uuid,)> =
                    sqlx::query_as("SELECT id FROM resident_removals WHERE change_seq > $1 AND change_seq <= $2")
                        .bind(after)
                        .bind(upto)
                        .fetch_all(&self.pool)
                        .await?;
                changes.removed = removed.into_iter().map(|(id,)| id).collect();
                Ok(changes)
            }

            pub(crate) async fn rebuild_recent_invitations(&self) -> Result<u64, StoreError> {
                let mut tx = self.begin().await?;
                let change = Self::next_resident_change(&mut tx).await?;
                let done = sqlx::query(
                    &format!("UPDATE residents SET recent_invitations = COALESCE(substr(\
                     (SELECT string_agg(CAST(k.on_date AS TEXT), ',' ORDER BY k.on_date DESC) FROM contacts k \
                      WHERE k.resident_id = residents.id AND k.kind = 'invitation' AND k.on_date >= $1), 1, {RECENT_INVITATIONS_TEXT}), ''), \
                     change_seq = $2"),
                )
                .bind(Utc::now().date_naive() - chrono::Duration::days(RECENT_INVITATION_DAYS))
                .bind(change)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }

            pub(crate) async fn record_invitations(
                &self,
                consultation: ConsultationId,
                invited: &[(Uuid, ContactChannel)],
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                let change = Self::next_resident_change(&mut tx).await?;
                for chunk in invited.chunks(400) {
                    let mut sql = Sql::new("INSERT INTO contacts (resident_id, consultation_id, kind, channel, at, on_date) VALUES ");
                    let mut rows = Vec::with_capacity(chunk.len());
                    for (resident, channel) in chunk {
                        let r = sql.arg(Arg::Uuid(*resident));
                        let c = sql.arg(Arg::Uuid(consultation.0));
                        let ch = sql.arg(Arg::Text(channel.as_str().into()));
                        let at = sql.arg(Arg::Time(now));
                        let d = sql.arg(Arg::Date(now.date_naive()));
                        rows.push(format!("({r}, {c}, 'invitation', {ch}, {at}, {d})"));
                    }
                    sql.push(&rows.join(", "));
                    bind_args!(sqlx::query(&sql.text), &sql.args).execute(&mut *tx).await?;
                    // Keep each resident's recent invitation dates with them, in the same
                    // transaction: read, add today, drop what is older than any window.
                    let mut read = Sql::new("SELECT id, recent_invitations FROM residents WHERE id IN (");
                    let list = read.list(chunk.iter().map(|(r, _)| Arg::Uuid(*r)));
                    read.push(&list).push(")");
                    let current: Vec<(Uuid, String)> = bind_args!(sqlx::query_as(&read.text), &read.args).fetch_all(&mut *tx).await?;
                    let today = now.date_naive();
                    let horizon = today - chrono::Duration::days(RECENT_INVITATION_DAYS);
                    // VALUES columns are column1, column2 on both backends.
                    let mut write = Sql::new("");
                    let changed = write.arg(Arg::Int(change));
                    write.push(&format!("UPDATE residents SET recent_invitations = v.column2, change_seq = {changed} FROM (VALUES "));
                    let mut values = Vec::with_capacity(current.len());
                    for (id, recent) in &current {
                        let mut dates: Vec<NaiveDate> = recent_dates(recent)?.into_iter().filter(|d| *d >= horizon).collect();
                        dates.push(today);
                        dates.sort_unstable_by(|a, b| b.cmp(a));
                        dates.truncate(FatigueRules::MOST_CONTACTS as usize);
                        let text = dates.iter().map(|d| d.format("%Y-%m-%d").to_string()).collect::<Vec<_>>().join(",");
                        let i = write.arg(Arg::Uuid(*id));
                        let t = write.arg(Arg::Text(text));
                        values.push(format!("({i}, {t})"));
                    }
                    write.push(&values.join(", ")).push(") AS v WHERE residents.id = v.column1");
                    if !current.is_empty() {
                        bind_args!(sqlx::query(&write.text), &write.args).execute(&mut *tx).await?;
                    }
                }
                let detail = json!({ "invited": invited.len() });
                Self::audit(&mut tx, actor, now, "consultation.invite", "consultation", &consultation.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn fatigue_rules(&self, org: OrganisationId) -> Result<FatigueRules, StoreError> {
                let row: Option<(i64, i64, i64, i64)> = sqlx::query_as(
                    "SELECT max_contacts, window_days, min_gap_days, max_concurrent FROM fatigue_rules WHERE organisation_id = $1",
                )
                .bind(org.0)
                .fetch_optional(&self.pool)
                .await?;
                let n = |v: i64| u32::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()));
                Ok(match row {
                    None => FatigueRules::default(),
                    Some((a, b, c, d)) => FatigueRules { max_contacts: n(a)?, window_days: n(b)?, min_gap_days: n(c)?, max_concurrent: n(d)? },
                })
            }

            pub(crate) async fn set_fatigue_rules(
                &self,
                org: &Organisation,
                rules: &FatigueRules,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO fatigue_rules (organisation_id, max_contacts, window_days, min_gap_days, max_concurrent) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organisation_id) DO UPDATE SET max_contacts = excluded.max_contacts, \
                     window_days = excluded.window_days, min_gap_days = excluded.min_gap_days, max_concurrent = excluded.max_concurrent",
                )
                .bind(org.id.0)
                .bind(i64::from(rules.max_contacts))
                .bind(i64::from(rules.window_days))
                .bind(i64::from(rules.min_gap_days))
                .bind(i64::from(rules.max_concurrent))
                .execute(&mut *tx)
                .await?;
                let detail = serde_json::to_value(rules).unwrap_or(Value::Null);
                Self::audit(&mut tx, actor, now, "organisation.fatigue_rules", "organisation", org.slug.as_str(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            /// Writes one response and its monitoring answers.
            async fn write_response(
                tx: &mut sqlx::Transaction<'static, $db>,
                r: &Response,
                key: Option<&str>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO responses (id, consultation_id, channel, comments, idempotency_key, received_at, recorded_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(r.id)
                .bind(r.consultation_id.0)
                .bind(r.channel.as_str())
                .bind(&r.comments)
                .bind(key)
                .bind(r.received_at)
                .bind(&r.recorded_by)
                .execute(&mut **tx)
                .await?;
                for (characteristic, category) in &r.monitoring {
                    sqlx::query("INSERT INTO monitoring_answers (response_id, consultation_id, scheme, characteristic, category) VALUES ($1, $2, $3, $4, $5)")
                        .bind(r.id)
                        .bind(r.consultation_id.0)
                        .bind(&r.scheme)
                        .bind(characteristic)
                        .bind(category)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// Stores a response unless one with the same idempotency key was stored for this
            /// activity; returns the stored response's id and whether it was new.
            pub(crate) async fn insert_response(&self, r: &Response, key: Option<&str>) -> Result<(Uuid, bool), StoreError> {
                let mut tx = self.begin().await?;
                if let Some(key) = key {
                    let existing: Option<(Uuid,)> =
                        sqlx::query_as("SELECT id FROM responses WHERE consultation_id = $1 AND idempotency_key = $2")
                            .bind(r.consultation_id.0)
                            .bind(key)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if let Some((id,)) = existing {
                        return Ok((id, false));
                    }
                }
                Self::write_response(&mut tx, r, key).await?;
                tx.commit().await?;
                Ok((r.id, true))
            }

            pub(crate) async fn response_counts(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, u64>, StoreError> {
                if ids.is_empty() {
                    return Ok(HashMap::new());
                }
                let mut sql = Sql::new("SELECT consultation_id, COUNT(*) FROM responses WHERE consultation_id IN (");
                let list = sql.list(ids.iter().map(|id| Arg::Uuid(*id)));
                sql.push(&list).push(") GROUP BY consultation_id");
                let rows: Vec<(Uuid, i64)> = bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))).collect())
            }

            pub(crate) async fn put_baselines(
                &self,
                baselines: &[crate::Baseline],
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                for crate::Baseline { area, name, source, counts } in baselines {
                sqlx::query(
                    "INSERT INTO baselines (area, name, source, imported_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (area) DO UPDATE SET name = excluded.name, source = excluded.source, imported_at = excluded.imported_at",
                )
                .bind(area.as_str())
                .bind(name)
                .bind(source)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                for (characteristic, categories) in counts {
                    sqlx::query("DELETE FROM baseline_counts WHERE area = $1 AND characteristic = $2")
                        .bind(area.as_str())
                        .bind(characteristic)
                        .execute(&mut *tx)
                        .await?;
                    for (category, n) in categories {
                        sqlx::query("INSERT INTO baseline_counts (area, characteristic, category, count) VALUES ($1, $2, $3, $4)")
                            .bind(area.as_str())
                            .bind(characteristic)
                            .bind(category)
                            .bind(i64::try_from(*n).unwrap_or(i64::MAX))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let detail = json!({ "name": name, "source": source, "characteristics": counts.keys().collect::<Vec<_>>() });
                Self::audit(&mut tx, actor, now, "baseline.import", "area", area.as_str(), &detail).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn baseline(&self, areas: &[AreaCode]) -> Result<consult_core::BaselineCounts, StoreError> {
                let mut out = consult_core::BaselineCounts::new();
                if areas.is_empty() {
                    return Ok(out);
                }
                let mut sql = Sql::new("SELECT characteristic, category, CAST(SUM(count) AS BIGINT) FROM baseline_counts WHERE area IN (");
                let list = sql.list(areas.iter().map(|a| Arg::Text(a.to_string())));
                sql.push(&list).push(") GROUP BY characteristic, category");
                let rows: Vec<(String, String, i64)> = bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                for (c, k, n) in rows {
                    out.entry(c).or_default().insert(k, u64::try_from(n).unwrap_or(0));
                }
                Ok(out)
            }

            pub(crate) async fn monitoring_counts(
                &self,
                ids: &[Uuid],
            ) -> Result<(u64, BTreeMap<String, AnswerCounts>), StoreError> {
                let mut by_scheme: BTreeMap<String, AnswerCounts> = BTreeMap::new();
                if ids.is_empty() {
                    return Ok((0, by_scheme));
                }
                let mut sql = Sql::new("SELECT COUNT(*) FROM responses WHERE consultation_id IN (");
                let list = sql.list(ids.iter().map(|id| Arg::Uuid(*id)));
                sql.push(&list).push(")");
                let (respondents,): (i64,) = bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_one(&self.pool).await?;
                // Read from the covering index (activity, scheme, characteristic, category).
                let mut sql = Sql::new(
                    "SELECT scheme, characteristic, category, COUNT(*) FROM monitoring_answers WHERE consultation_id IN (",
                );
                let list = sql.list(ids.iter().map(|id| Arg::Uuid(*id)));
                sql.push(&list).push(") GROUP BY scheme, characteristic, category");
                let rows: Vec<(String, String, String, i64)> = bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(&self.pool).await?;
                for (s, c, k, n) in rows {
                    by_scheme.entry(s).or_default().entry(c).or_default().insert(k, u64::try_from(n).unwrap_or(0));
                }
                Ok((u64::try_from(respondents).unwrap_or(0), by_scheme))
            }

            pub(crate) async fn monitoring_schemes(&self) -> Result<Vec<MonitoringScheme>, StoreError> {
                self.definitions(&MONITORING_SCHEMES).await
            }

            pub(crate) async fn add_monitoring_scheme(
                &self,
                scheme: &MonitoringScheme,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<MonitoringScheme, StoreError> {
                self.add_definition(&MONITORING_SCHEMES, scheme, actor, now).await
            }

            pub(crate) async fn organisation_scheme(&self, org: OrganisationId) -> Result<Option<String>, StoreError> {
                let row: Option<(String,)> = sqlx::query_as("SELECT scheme FROM organisation_schemes WHERE organisation_id = $1")
                    .bind(org.0)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(s,)| s))
            }

            pub(crate) async fn set_organisation_scheme(
                &self,
                org: OrganisationId,
                scheme: &str,
                actor: &Actor,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query("DELETE FROM organisation_schemes WHERE organisation_id = $1")
                    .bind(org.0)
                    .execute(&mut *tx)
                    .await?;
                if scheme != consult_core::DEFAULT_SCHEME_ID {
                    sqlx::query("INSERT INTO organisation_schemes (organisation_id, scheme) VALUES ($1, $2)")
                        .bind(org.0)
                        .bind(scheme)
                        .execute(&mut *tx)
                        .await?;
                }
                let detail = json!({ "scheme": scheme });
                Self::audit(&mut tx, actor, now, "organisation.monitoring_scheme", "organisation", &org.0.to_string(), &detail).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
                let mut out = Vec::new();
                for table in TABLES {
                    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                        .fetch_one(&self.pool)
                        .await?;
                    out.push(((*table).to_owned(), n));
                }
                Ok(out)
            }
        }
    };
}

backend!(SqliteBackend, sqlx::Sqlite, "BEGIN IMMEDIATE");
backend!(PgBackend, sqlx::Postgres, "BEGIN");

impl SqliteBackend {
    /// Stores imported responses in one transaction. Each statement takes a chunk of rows as one
    /// JSON parameter expanded by `json_each` (binding every value separately costs more than the
    /// insert itself); what a run of responses shares (the activity, the scheme) is bound once.
    pub(crate) async fn insert_responses(&self, responses: &[Response]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for run in responses.chunk_by(|a, b| a.consultation_id == b.consultation_id && a.scheme == b.scheme) {
            let (cid, scheme) = (run[0].consultation_id.0, run[0].scheme.clone());
            for part in run.chunks(500) {
                let rows: Vec<Value> = part
                    .iter()
                    .map(|r| {
                        json!([
                            r.id.simple().to_string(),
                            r.channel.as_str(),
                            r.comments,
                            stored_time(r.received_at),
                            r.recorded_by
                        ])
                    })
                    .collect();
                sqlx::query(
                    "INSERT INTO responses (id, consultation_id, channel, comments, idempotency_key, received_at, recorded_by) \
                     SELECT unhex(value ->> 0), $1, value ->> 1, value ->> 2, NULL, value ->> 3, value ->> 4 FROM json_each($2)",
                )
                .bind(cid)
                .bind(Value::Array(rows).to_string())
                .execute(&mut *tx)
                .await?;
                let answers: Vec<Value> = part
                    .iter()
                    .flat_map(|r| {
                        r.monitoring
                            .iter()
                            .map(move |(c, k)| json!([r.id.simple().to_string(), c, k]))
                    })
                    .collect();
                if !answers.is_empty() {
                    sqlx::query(
                        "INSERT INTO monitoring_answers (response_id, consultation_id, scheme, characteristic, category) \
                         SELECT unhex(value ->> 0), $1, $2, value ->> 1, value ->> 2 FROM json_each($3)",
                    )
                    .bind(cid)
                    .bind(&scheme)
                    .bind(Value::Array(answers).to_string())
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

impl PgBackend {
    /// Stores imported responses in one transaction with `COPY ... FROM STDIN`: the rows stream
    /// in PostgreSQL's text format, which the server reads with none of the per-statement or
    /// JSON work an INSERT needs.
    pub(crate) async fn insert_responses(&self, responses: &[Response]) -> Result<(), StoreError> {
        const CHUNK: usize = 1 << 20;
        let mut tx = self.begin().await?;
        let mut copy = tx
            .copy_in_raw(
                "COPY responses (id, consultation_id, channel, comments, idempotency_key, received_at, recorded_by) FROM STDIN",
            )
            .await?;
        let mut buf = String::with_capacity(CHUNK + 4096);
        for r in responses {
            copy_row(
                &mut buf,
                &[
                    Some(&r.id.to_string()),
                    Some(&r.consultation_id.0.to_string()),
                    Some(r.channel.as_str()),
                    r.comments.as_deref(),
                    None,
                    Some(&stored_time(r.received_at)),
                    r.recorded_by.as_deref(),
                ],
            );
            if buf.len() >= CHUNK {
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            }
        }
        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        copy.finish().await?;
        let mut copy = tx
            .copy_in_raw(
                "COPY monitoring_answers (response_id, consultation_id, scheme, characteristic, category) FROM STDIN",
            )
            .await?;
        for r in responses {
            let (id, cid) = (r.id.to_string(), r.consultation_id.0.to_string());
            for (characteristic, category) in &r.monitoring {
                copy_row(
                    &mut buf,
                    &[
                        Some(&id),
                        Some(&cid),
                        Some(&r.scheme),
                        Some(characteristic),
                        Some(category),
                    ],
                );
            }
            if buf.len() >= CHUNK {
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            }
        }
        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        copy.finish().await?;
        tx.commit().await?;
        // A large import changes the tables' make-up at once: refresh the planner's statistics
        // now (a sample, well under a second) rather than plan reports on stale ones until
        // autovacuum comes round.
        if responses.len() >= 10_000 {
            sqlx::query("ANALYZE responses, monitoring_answers")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// The text sqlx writes for a time, so stored times compare alike.
fn stored_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Appends one row in PostgreSQL's COPY text format: tab-separated, `\N` for NULL, and
/// backslash, tab, newline and carriage return escaped.
fn copy_row(buf: &mut String, fields: &[Option<&str>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        match field {
            None => buf.push_str("\\N"),
            Some(text) => {
                for ch in text.chars() {
                    match ch {
                        '\\' => buf.push_str("\\\\"),
                        '\t' => buf.push_str("\\t"),
                        '\n' => buf.push_str("\\n"),
                        '\r' => buf.push_str("\\r"),
                        c => buf.push(c),
                    }
                }
            }
        }
    }
    buf.push('\n');
}

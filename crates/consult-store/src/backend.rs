//! The two native backends. Their SQL is written once, in [`backend!`], with `$n` parameters,
//! which both SQLite and PostgreSQL accept; each backend keeps its own column types in its own
//! migrations.

use crate::StoreError;
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, AreaCode, AudienceEntry, Candidate, ConsultationId, ContactChannel, Exclusion, FatigueRules, InvitationPlan,
    Matching, Organisation, OrganisationId, Resident, Role,
};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
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

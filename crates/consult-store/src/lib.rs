//! # consult-store
//!
//! Storage for consult over [`consult_core`] types, with two native backends chosen once from the
//! database URL: SQLite (`sqlite://consult.db`, the embedded default, created on first use, WAL and
//! foreign keys on) and PostgreSQL (`postgres://...`, for scale). Each backend has its own
//! migrations, run at connect. Both run the same SQL text (numbered `$n` parameters work in both),
//! generated once by a macro, so they cannot drift.
//!
//! Every write runs in one transaction together with its status history and audit-log entries:
//! either all of it is stored or none.
//!
//! ```no_run
//! # async fn demo() -> Result<(), consult_store::StoreError> {
//! let store = consult_store::Store::connect("sqlite://consult.db").await?;
//! for org in store.list_organisations().await? {
//!     println!("{} {}", org.slug, org.name);
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audience;
mod audit;
mod backend;
mod consultations;
pub mod copy;
mod db;
pub mod demo;
pub mod invitations;
mod organisations;
pub mod overlap;
pub mod plans;
pub mod review;
pub mod testing;
mod types;

pub use types::*;

pub use backend::{AudienceChanges, ContactRecord};
use backend::{PgBackend, SqliteBackend};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, AreaCode, AreaHierarchy, Assessment, AssessmentContext, Attestation, Candidate, Consultation,
    ConsultationId, ContactChannel, Dismissal, FatigueRules, Framework, FrameworkCatalogue, InvitationPlan, Matching,
    MonitoringScheme, Organisation, OrganisationId, RegisterContext, Resident, Response,
};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// A uniqueness rule or a concurrent change stopped the write; nothing was stored.
    #[error("{0}")]
    Conflict(String),
    /// A referenced record does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database cannot be reached; retry later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A stored record could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            // PostgreSQL shutting down or restarting (57P01-57P03) or a broken connection (08xxx):
            // nothing was done, try again shortly.
            sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) => {
                StoreError::Unavailable(e)
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(format!("already exists ({})", db.message()))
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::NotFound(format!("refers to a record that does not exist ({})", db.message()))
            }
            _ => StoreError::Database(e),
        }
    }
}

/// Which backend a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The register's storage: a handle that is cheap to clone and safe to share across tasks.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Inner,
    pools: db::Pools,
}

#[derive(Debug, Clone)]
enum Inner {
    Sqlite(SqliteBackend),
    Postgres(PgBackend),
}

macro_rules! dispatch {
    ($self:ident, $b:ident => $call:expr) => {
        match &$self.inner {
            Inner::Sqlite($b) => $call,
            Inner::Postgres($b) => $call,
        }
    };
}

impl Store {
    /// Connects to `url` and runs the backend's migrations. `sqlite://PATH` creates the file if
    /// absent; `sqlite::memory:` is an in-memory database; `postgres://` or `postgresql://` selects
    /// PostgreSQL.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    /// Connects with explicit pool options.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Store, StoreError> {
        let inner = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|_| StoreError::UnsupportedUrl(url.to_owned()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 64 MiB of page cache per connection (the default is 2 MiB): large imports and
                // reports keep their indexes in memory.
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory");
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let pool = SqlitePoolOptions::new()
                // An in-memory database lives in one connection.
                .max_connections(if in_memory { 1 } else { options.max_connections })
                .min_connections(if in_memory { 1 } else { 0 })
                .idle_timeout(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(1800))
                })
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Inner::Sqlite(SqliteBackend::new(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect(url)
                .await?;
            Self::migrate_postgres(&pool).await?;
            Inner::Postgres(PgBackend::new(pool))
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let pools = match &inner {
            Inner::Sqlite(b) => db::Pools::Sqlite(b.pool().clone()),
            Inner::Postgres(b) => db::Pools::Postgres(b.pool().clone()),
        };
        Ok(Store { inner, pools })
    }

    /// Builds a PostgreSQL store on an existing pool (for tests using a private schema), running
    /// migrations.
    pub async fn from_pg_pool(pool: sqlx::PgPool) -> Result<Store, StoreError> {
        Self::migrate_postgres(&pool).await?;
        Ok(Store {
            pools: db::Pools::Postgres(pool.clone()),
            inner: Inner::Postgres(PgBackend::new(pool)),
        })
    }

    async fn migrate_postgres(pool: &sqlx::PgPool) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres").run(pool).await?;
        Ok(())
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, b => b.ping().await)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        dispatch!(self, b => b.close().await)
    }

    // ----- consultations -----

    /// How many overlap findings were dismissed (with a reason) for each of the activities.
    pub async fn dismissal_counts(&self, ids: &[ConsultationId]) -> Result<HashMap<ConsultationId, u64>, StoreError> {
        let raw: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        let found = dispatch!(self, b => b.dismissal_counts(&raw).await)?;
        Ok(found.into_iter().map(|(k, v)| (ConsultationId(k), v)).collect())
    }

    /// Stores a comment, compliment or complaint.
    pub async fn insert_remark(&self, remark: &consult_core::Remark, actor: &Actor) -> Result<(), StoreError> {
        dispatch!(self, b => b.insert_remark(remark, actor).await)
    }

    /// Saves a remark's new status and reply.
    pub async fn update_remark(&self, remark: &consult_core::Remark, actor: &Actor) -> Result<(), StoreError> {
        dispatch!(self, b => b.update_remark(remark, actor).await)
    }

    /// The remarks about an activity, oldest first (with contact details: not for the public).
    pub async fn remarks(&self, id: ConsultationId) -> Result<Vec<consult_core::Remark>, StoreError> {
        dispatch!(self, b => b.remarks(Some(id.0), None).await)
    }

    /// One remark.
    pub async fn remark(&self, id: Uuid) -> Result<Option<consult_core::Remark>, StoreError> {
        Ok(dispatch!(self, b => b.remarks(None, Some(id)).await)?.pop())
    }

    /// Counts of remarks per activity, by kind (complaints resolved apart).
    pub async fn remark_counts(
        &self,
        ids: &[ConsultationId],
    ) -> Result<HashMap<ConsultationId, consult_core::RemarkCounts>, StoreError> {
        let raw: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        let found = dispatch!(self, b => b.remark_counts(&raw).await)?;
        Ok(found.into_iter().map(|(k, v)| (ConsultationId(k), v)).collect())
    }

    /// Adds a document to an activity's results: a link, or stored content.
    pub async fn insert_document(
        &self,
        document: &consult_core::Document,
        content: Option<&[u8]>,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.insert_document(document, content, actor).await)
    }

    /// Removes a document.
    pub async fn delete_document(
        &self,
        document: &consult_core::Document,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.delete_document(document, actor, now).await)
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
        for d in dispatch!(self, b => b.documents(&raw, None).await)? {
            out.entry(d.consultation_id).or_default().push(d);
        }
        Ok(out)
    }

    /// One document.
    pub async fn document(&self, id: Uuid) -> Result<Option<consult_core::Document>, StoreError> {
        Ok(dispatch!(self, b => b.documents(&[], Some(id)).await)?.pop())
    }

    /// A stored document's content (`None` for links and unknown ids).
    pub async fn document_content(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        dispatch!(self, b => b.document_content(id).await)
    }

    /// Saves a service's annual plan (replacing the previous version).
    pub async fn save_service_plan(
        &self,
        org: OrganisationId,
        plan: &consult_core::ServicePlan,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.save_service_plan(org, plan, actor).await)
    }

    /// An organisation's service plans for a year, by service.
    pub async fn service_plans(
        &self,
        org: &Organisation,
        year: i32,
    ) -> Result<Vec<consult_core::ServicePlan>, StoreError> {
        dispatch!(self, b => b.service_plans(org.id, org.slug.as_str(), year).await)
    }

    /// Replaces an organisation's recurring programme.
    pub async fn save_programme(
        &self,
        org: OrganisationId,
        items: &[consult_core::ProgrammeItem],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.save_programme(org, items, actor, now).await)
    }

    /// An organisation's recurring programme.
    pub async fn programme(&self, org: OrganisationId) -> Result<Vec<consult_core::ProgrammeItem>, StoreError> {
        dispatch!(self, b => b.programme(org).await)
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
        dispatch!(self, b => b.record_plan_review(org, year, review, actor, now).await)
    }

    /// The reviews held of a year's plan.
    pub async fn plan_reviews(
        &self,
        org: OrganisationId,
        year: i32,
    ) -> Result<Vec<consult_core::PlanReview>, StoreError> {
        dispatch!(self, b => b.plan_reviews(org, year).await)
    }

    // ----- principles checklist -----

    /// The frameworks an organisation has adopted and its pre-election periods.
    pub async fn checklist_settings(&self, org: OrganisationId) -> Result<ChecklistSettings, StoreError> {
        dispatch!(self, b => b.checklist_settings(org).await)
    }

    /// Replaces an organisation's checklist settings.
    pub async fn set_checklist_settings(
        &self,
        org: &Organisation,
        settings: &ChecklistSettings,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.set_checklist_settings(org, settings, actor, now).await)
    }

    /// Every version of every framework: built in and added.
    pub async fn framework_catalogue(&self) -> Result<FrameworkCatalogue, StoreError> {
        Ok(FrameworkCatalogue::new(
            dispatch!(self, b => b.custom_frameworks().await)?,
        ))
    }

    /// Stores a new version of a custom framework (version = previous + 1) and returns it.
    pub async fn add_framework(
        &self,
        framework: &Framework,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Framework, StoreError> {
        dispatch!(self, b => b.add_framework(framework, actor, now).await)
    }

    /// The answers recorded for an activity's checks.
    pub async fn attestations(&self, id: ConsultationId) -> Result<Vec<Attestation>, StoreError> {
        dispatch!(self, b => b.attestations(id).await)
    }

    /// Records answers (replacing earlier answers to the same checks), audited.
    pub async fn record_attestations(
        &self,
        id: ConsultationId,
        answers: &[Attestation],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.record_attestations(id, answers, actor).await)
    }

    /// The frameworks that apply to an activity: the newest version of each its organisation has
    /// adopted.
    pub async fn applicable_frameworks(
        &self,
        org: OrganisationId,
    ) -> Result<(FrameworkCatalogue, ChecklistSettings), StoreError> {
        Ok((self.framework_catalogue().await?, self.checklist_settings(org).await?))
    }

    /// The overlap findings dismissed for an activity.
    pub async fn dismissals(&self, id: ConsultationId) -> Result<Vec<Dismissal>, StoreError> {
        dispatch!(self, b => b.dismissals(id).await)
    }

    /// Records (or replaces) the dismissal of one overlap finding, audited.
    pub async fn dismiss(&self, id: ConsultationId, dismissal: &Dismissal, actor: &Actor) -> Result<(), StoreError> {
        dispatch!(self, b => b.dismiss(id, dismissal, actor).await)
    }

    /// The principles checklist of a stored activity as of `today`, with its unresolved overlap
    /// and fatigue findings described for the "be coordinated" checks.
    pub async fn assess(
        &self,
        c: &Consultation,
        today: NaiveDate,
        unresolved_findings: &[String],
    ) -> Result<Assessment, StoreError> {
        let (catalogue, settings) = self.applicable_frameworks(c.organisation_id).await?;
        let frameworks: Vec<&Framework> = settings.frameworks.iter().filter_map(|k| catalogue.get(k)).collect();
        let attestations = self.attestations(c.id).await?;
        let ctx = AssessmentContext {
            today,
            notice_from: c.approval.as_ref().map_or(today, |a| a.at.date_naive()),
            pre_election: &settings.election_periods,
            unresolved_findings,
            attestations: &attestations,
        };
        Ok(consult_core::assess(&c.plan, &frameworks, &ctx))
    }

    // ----- residents, invitations, fatigue -----

    /// Registers a resident; returns the private management token (shown once, stored hashed).
    pub async fn create_resident(&self, resident: &Resident, now: DateTime<Utc>) -> Result<String, StoreError> {
        let secret = token::generate("rst")?;
        dispatch!(self, b => b.create_resident(resident, &token::hash(&secret), now).await)?;
        Ok(secret)
    }

    /// A resident's own record, given their id and management token; `None` if either is wrong.
    pub async fn resident(&self, id: Uuid, secret: &str) -> Result<Option<Resident>, StoreError> {
        dispatch!(self, b => b.resident(id, &token::hash(secret)).await)
    }

    /// Every contact-log entry about one resident (for their export).
    pub async fn resident_contacts(&self, id: Uuid) -> Result<Vec<ContactRecord>, StoreError> {
        dispatch!(self, b => b.resident_contacts(id).await)
    }

    /// Erases a resident and their contact log. Returns whether they existed.
    pub async fn delete_resident(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        dispatch!(self, b => b.delete_resident(id, now).await)
    }

    /// Withdraws a resident's consent: no more invitations.
    pub async fn unsubscribe(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        dispatch!(self, b => b.unsubscribe(id, now).await)
    }

    /// The matching residents of an activity as candidates, with their contact counts since
    /// `window_start`: what [`consult_core::plan_invitations`] reads. Planning itself uses
    /// [`Store::invitation_plan`], which decides in the database; this is its reference.
    pub async fn invitation_candidates(
        &self,
        consultation: ConsultationId,
        matching: &Matching,
        window_start: NaiveDate,
    ) -> Result<Vec<Candidate>, StoreError> {
        dispatch!(self, b => b.invitation_candidates(consultation, matching, window_start).await)
    }

    /// Plans invitations for the matching residents of an activity under `rules` on `today`,
    /// deciding in the database (the SQL twin of [`consult_core::invitation_for`]): only the
    /// invited rows are read, and with `rows = false` only the counts of who is left out.
    pub async fn invitation_plan(
        &self,
        consultation: ConsultationId,
        matching: &Matching,
        rules: &FatigueRules,
        today: NaiveDate,
        rows: bool,
    ) -> Result<InvitationPlan, StoreError> {
        dispatch!(self, b => b.invitation_plan(consultation, matching, rules, today, rows).await)
    }

    /// The residents already invited to an activity.
    pub async fn invited_to(&self, consultation: ConsultationId) -> Result<HashSet<Uuid>, StoreError> {
        dispatch!(self, b => b.invited_to(consultation).await)
    }

    /// The changes to the residents' register numbered after `after` (everything when `None`),
    /// for an audience index to catch up exactly: the residents changed and those deleted, with
    /// the number to pass next time.
    pub async fn audience_changes(&self, after: Option<i64>) -> Result<AudienceChanges, StoreError> {
        dispatch!(self, b => b.audience_changes(after).await)
    }

    /// Rebuilds every resident's recent invitation dates from the contact log (after contacts
    /// were loaded by other means than [`Store::record_invitations`]). Returns residents updated.
    pub async fn rebuild_recent_invitations(&self) -> Result<u64, StoreError> {
        dispatch!(self, b => b.rebuild_recent_invitations().await)
    }

    /// Records a committed invitation plan in the contact log, all or nothing, keeping each
    /// invited resident's recent invitation dates with them.
    pub async fn record_invitations(
        &self,
        consultation: ConsultationId,
        invited: &[(Uuid, ContactChannel)],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.record_invitations(consultation, invited, actor, now).await)
    }

    /// An organisation's fatigue rules (the defaults until set).
    pub async fn fatigue_rules(&self, org: OrganisationId) -> Result<FatigueRules, StoreError> {
        dispatch!(self, b => b.fatigue_rules(org).await)
    }

    /// Sets an organisation's fatigue rules.
    pub async fn set_fatigue_rules(
        &self,
        org: &Organisation,
        rules: &FatigueRules,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.set_fatigue_rules(org, rules, actor, now).await)
    }

    // ----- responses -----

    /// Stores a response in one transaction with its monitoring answers. With an idempotency key,
    /// a retry stores nothing and returns the first one's id; the flag says whether it is new.
    pub async fn insert_response(
        &self,
        response: &Response,
        idempotency_key: Option<&str>,
    ) -> Result<(Uuid, bool), StoreError> {
        let first = dispatch!(self, b => b.insert_response(response, idempotency_key).await);
        match first {
            // Two retries raced: the other one stored it.
            Err(StoreError::Conflict(_)) if idempotency_key.is_some() => {
                dispatch!(self, b => b.insert_response(response, idempotency_key).await)
            }
            other => other,
        }
    }

    /// Stores many responses (an import) in one transaction: all or none.
    pub async fn insert_responses(&self, responses: &[Response]) -> Result<(), StoreError> {
        dispatch!(self, b => b.insert_responses(responses).await)
    }

    /// Responses per activity.
    pub async fn response_counts(&self, ids: &[ConsultationId]) -> Result<HashMap<ConsultationId, u64>, StoreError> {
        let raw: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        let counts = dispatch!(self, b => b.response_counts(&raw).await)?;
        Ok(counts.into_iter().map(|(k, v)| (ConsultationId(k), v)).collect())
    }

    // ----- equality monitoring -----

    /// Stores (or updates) population baselines, all in one transaction: for each area, the
    /// characteristics given replace those already held and others are kept, so several census
    /// tables combine.
    pub async fn put_baselines(
        &self,
        baselines: &[Baseline],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, b => b.put_baselines(baselines, actor, now).await)
    }

    /// The population of several areas combined (empty when none has a baseline).
    pub async fn baseline(&self, areas: &[AreaCode]) -> Result<consult_core::BaselineCounts, StoreError> {
        dispatch!(self, b => b.baseline(areas).await)
    }

    /// Respondents to the activities, and their monitoring answers counted per scheme answered,
    /// characteristic and category: aggregates only, never one response's answers.
    pub async fn monitoring_counts(
        &self,
        ids: &[ConsultationId],
    ) -> Result<(u64, std::collections::BTreeMap<String, consult_core::AnswerCounts>), StoreError> {
        let raw: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        dispatch!(self, b => b.monitoring_counts(&raw).await)
    }

    /// What a representativeness report in `scheme` counts for the activities: answers given
    /// under any stored scheme, translated into `scheme` where their categories map onto it.
    pub async fn tally(
        &self,
        ids: &[ConsultationId],
        scheme: &MonitoringScheme,
    ) -> Result<consult_core::Tally, StoreError> {
        let (respondents, by_scheme) = self.monitoring_counts(ids).await?;
        let known = if by_scheme.keys().all(|id| id == &scheme.id()) {
            vec![scheme.clone()]
        } else {
            self.monitoring_schemes().await?
        };
        Ok(consult_core::Tally::in_scheme(scheme, respondents, &by_scheme, |id| {
            known.iter().find(|s| s.id() == id)
        }))
    }

    /// Every monitoring scheme: the built-in default first, then organisations' own, every
    /// version, by key and version.
    pub async fn monitoring_schemes(&self) -> Result<Vec<MonitoringScheme>, StoreError> {
        let mut all = vec![MonitoringScheme::census2021().map_err(StoreError::Corrupt)?];
        all.extend(dispatch!(self, b => b.monitoring_schemes().await)?);
        Ok(all)
    }

    /// A scheme by `key@version`, or by `key` for its latest version.
    pub async fn monitoring_scheme(&self, id: &str) -> Result<Option<MonitoringScheme>, StoreError> {
        let all = self.monitoring_schemes().await?;
        Ok(match id.split_once('@') {
            Some(_) => all.into_iter().find(|s| s.id() == id),
            None => all.into_iter().filter(|s| s.key == id).max_by_key(|s| s.version),
        })
    }

    /// Stores a new version of an organisation's own scheme (version = previous + 1).
    pub async fn add_monitoring_scheme(
        &self,
        scheme: &MonitoringScheme,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MonitoringScheme, StoreError> {
        dispatch!(self, b => b.add_monitoring_scheme(scheme, actor, now).await)
    }

    /// The scheme an organisation asks its respondents: its own if it adopted one, else the
    /// default.
    pub async fn organisation_scheme(&self, org: OrganisationId) -> Result<MonitoringScheme, StoreError> {
        let id = dispatch!(self, b => b.organisation_scheme(org).await)?;
        match id {
            None => MonitoringScheme::census2021().map_err(StoreError::Corrupt),
            Some(id) => self
                .monitoring_scheme(&id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("organisation scheme `{id}` is not stored"))),
        }
    }

    /// Adopts a stored scheme (exact version) for an organisation's future responses.
    pub async fn set_organisation_scheme(
        &self,
        org: OrganisationId,
        scheme: &MonitoringScheme,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = scheme.id();
        dispatch!(self, b => b.set_organisation_scheme(org, &id, actor, now).await)
    }

    /// Counts of rows per table, for checks after copies and imports.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        dispatch!(self, b => b.counts().await)
    }
}

/// A population baseline for one area.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The area.
    pub area: AreaCode,
    /// Its name.
    pub name: String,
    /// Where the counts come from.
    pub source: String,
    /// Counts per characteristic and category.
    pub counts: consult_core::BaselineCounts,
}

/// The organisations and areas at one moment, to validate plans against.
#[derive(Debug, Clone, Default)]
pub struct RegisterSnapshot {
    /// Every organisation.
    pub organisations: Vec<Organisation>,
    /// The area hierarchy.
    pub areas: AreaHierarchy,
}

impl RegisterSnapshot {
    /// The context [`ConsultationPlan::parse`] needs.
    pub fn context(&self) -> RegisterContext<'_> {
        RegisterContext {
            organisations: &self.organisations,
            areas: &self.areas,
        }
    }
}

mod token {
    use super::StoreError;
    use sha2::{Digest, Sha256};

    /// A new secret: a prefix (`cst` for staff, `rst` for residents), `_` and 64 hex digits
    /// (256 random bits).
    pub(crate) fn generate(prefix: &str) -> Result<String, StoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Corrupt(format!("no randomness available: {e}")))?;
        Ok(format!("{prefix}_{}", hex::encode(bytes)))
    }

    /// The stored form: SHA-256 of the secret, hex. Secrets are 256-bit random, so a fast hash
    /// is enough; lookups go by hash, so the secret is never compared byte by byte.
    pub(crate) fn hash(secret: &str) -> String {
        hex::encode(Sha256::digest(secret.as_bytes()))
    }
}

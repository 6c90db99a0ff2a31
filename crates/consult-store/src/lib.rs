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
mod checklist;
mod consultations;
pub mod copy;
mod db;
pub mod demo;
pub mod invitations;
mod library;
mod organisations;
pub mod overlap;
pub mod plans;
mod responses;
pub mod review;
pub mod testing;
mod types;

pub use types::*;

pub use backend::{AudienceChanges, ContactRecord};
use backend::{PgBackend, SqliteBackend};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, AreaCode, AreaHierarchy, Assessment, AssessmentContext, Candidate, Consultation, ConsultationId,
    ContactChannel, FatigueRules, Framework, InvitationPlan, Matching, MonitoringScheme, Organisation, OrganisationId,
    RegisterContext, Resident,
};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::collections::HashSet;
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

    // ----- principles checklist -----

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

    // ----- equality monitoring -----

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

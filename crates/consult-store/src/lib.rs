//! # consult-store
//!
//! Storage for consult over [`consult_core`] types, with two native backends chosen once from the
//! database URL: SQLite (`sqlite://consult.db`, the embedded default, created on first use, WAL and
//! foreign keys on) and PostgreSQL (`postgres://...`, for scale). Each backend has its own
//! migrations, run at connect. Both run the same SQL text (numbered `$n` parameters work in both),
//! written once, so they cannot drift.
//!
//! Every write runs in one transaction together with its status history and audit-log entries:
//! either all of it is stored or none.
//!
//! ## How one method serves two databases
//!
//! Each operation is one ordinary `impl Store` method in the module of its area
//! (`organisations`, `consultations`, `checklist`, `residents`, `responses`, `library`, `audit`).
//! The store holds an enum of the two pools (`db::Pools`). Queries are built as `db::Sql`: SQL
//! text plus its arguments kept as owned values (`db::Arg`), bound with `.bind(..)` like sqlx's
//! own builder, and run with `.execute`, `.fetch_all`, `.fetch_optional` or `.fetch_one` on the
//! store (a pool) or on an open `db::Tx` (a transaction on either backend, begun by
//! `Store::begin` with `BEGIN IMMEDIATE` on SQLite and `BEGIN` on PostgreSQL, committed by
//! `Tx::commit`, rolled back when dropped). Only those four runners look at the backend: one
//! small macro (`on_conn!`) expands each into one arm per backend and connection kind, so the
//! sqlx call is type-checked against both. Rows are `#[derive(sqlx::FromRow)]` structs, decodable
//! by both backends (`db::Record`). Helpers used inside transactions (the audit entry, the next
//! resident change number, status history, version bumps) are methods on `db::Tx`.
//!
//! Chosen over a closure-running macro (`on_pool!(self, |pool| ...)` around every query) because
//! method bodies then contain no macro at all, so rustfmt formats and rust-analyzer checks all of
//! them; and over a generic `impl<DB: sqlx::Database>` because the bounds sqlx needs per bound
//! type, row type and executor would be repeated on every method. The cost is that arguments are
//! owned (a string copied per bound text value), which is small next to a database round trip.
//! SQL differs by backend only where it must: the bulk response import (SQLite `json_each`,
//! PostgreSQL `COPY`), rows sent as one JSON parameter (`json_each` or `jsonb_array_elements`,
//! as an invitation plan's contact log, residents and outbox are written), claiming the outbox
//! (`FOR UPDATE SKIP LOCKED`) and the transaction's `BEGIN`.
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

mod audit;
mod checklist;
mod coding;
mod consultations;
pub mod copy;
mod db;
mod keys;
mod library;
mod organisations;
mod outbox;
mod questionnaires;
mod residents;
mod responses;
mod results;
mod sessions;
mod staff;
pub mod testing;
mod types;

pub use types::*;

use consult_core::{AreaCode, AreaHierarchy, Organisation, RegisterContext};
pub use outbox::{ClaimedMessage, OutboxCounts, OutboxEntry, OutboxFilter, SettledTry};
pub use questionnaires::{Breakdown, ExportPage, ExportReader, NOT_ANSWERED, QuestionnaireChange, ResponseRecord};
pub use residents::{AudienceChanges, ContactRecord, Verified};
pub use responses::{IdempotencyKey, Stored};
pub use sessions::{Credentials, NewSession, OidcLogin, SessionRecord};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

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
    pools: db::Pools,
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
        let pools = if url.starts_with("sqlite:") {
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
            db::Pools::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect(url)
                .await?;
            Self::migrate_postgres(&pool).await?;
            db::Pools::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Store { pools })
    }

    /// Builds a PostgreSQL store on an existing pool (for tests using a private schema), running
    /// migrations.
    pub async fn from_pg_pool(pool: sqlx::PgPool) -> Result<Store, StoreError> {
        Self::migrate_postgres(&pool).await?;
        Ok(Store {
            pools: db::Pools::Postgres(pool),
        })
    }

    async fn migrate_postgres(pool: &sqlx::PgPool) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres").run(pool).await?;
        Ok(())
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match self.pools {
            db::Pools::Sqlite(_) => Backend::Sqlite,
            db::Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        db::query("SELECT 1").execute(self).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &self.pools {
            db::Pools::Sqlite(pool) => pool.close().await,
            db::Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// Counts of rows per table, for checks after copies and imports.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut out = Vec::new();
        for table in TABLES {
            let (n,): (i64,) = db::query(format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(self)
                .await?;
            out.push(((*table).to_owned(), n));
        }
        Ok(out)
    }
}

/// Every table, for [`Store::counts`].
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
    "disclosure_keys",
    "staff_users",
    "staff_wards",
];

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
    /// The context [`consult_core::ConsultationPlan::parse`] needs.
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

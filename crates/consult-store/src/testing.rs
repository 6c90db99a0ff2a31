//! Helpers for tests of code that embeds the store: a fresh database per test, on SQLite or on a
//! private schema of a PostgreSQL server.

use crate::{Store, StoreError};
use sqlx::Executor;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

/// The environment variable that holds the PostgreSQL URL for tests.
pub const POSTGRES_URL_VAR: &str = "CONSULT_TEST_POSTGRES_URL";

/// The test PostgreSQL URL, if set.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR).ok().filter(|s| !s.is_empty())
}

/// Why a PostgreSQL variant of a test is `#[ignore]`d: it runs only when asked for
/// (`cargo nextest run --run-ignored all`, as `cargo xtask ci` does when
/// `CONSULT_TEST_POSTGRES_URL` is set), so a run without PostgreSQL reports it as skipped rather
/// than passed.
pub const POSTGRES_IGNORED: &str = "PostgreSQL variant: set CONSULT_TEST_POSTGRES_URL and run ignored tests";

/// The test PostgreSQL URL for a PostgreSQL variant that was asked to run.
///
/// # Panics
///
/// When `CONSULT_TEST_POSTGRES_URL` is not set: a PostgreSQL test that was asked to run and
/// cannot must fail, never pass without testing anything.
#[allow(clippy::panic)]
pub fn require_postgres_url() -> String {
    postgres_url().unwrap_or_else(|| {
        panic!(
            "{POSTGRES_URL_VAR} is not set: this PostgreSQL variant cannot run (set it, or run without ignored tests)"
        )
    })
}

/// A store on a new, empty schema of the PostgreSQL server at `url`, so tests can run in parallel
/// against one database. Returns the store and the schema's name.
pub async fn postgres_schema(url: &str) -> Result<(Store, String), StoreError> {
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
    admin.execute(format!("CREATE SCHEMA {schema}").as_str()).await?;
    admin.close().await;
    let options = PgConnectOptions::from_str(url)?.options([("search_path", schema.as_str())]);
    let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await?;
    Ok((Store::from_pg_pool(pool).await?, schema))
}

/// The URL of a PostgreSQL server with `search_path` set to `schema`, for processes (the CLI
/// binary, a second server) that must see the same private schema.
pub fn postgres_url_with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Drops a schema made by [`postgres_schema`].
pub async fn drop_postgres_schema(url: &str, schema: &str) -> Result<(), StoreError> {
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
    admin
        .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
        .await?;
    admin.close().await;
    Ok(())
}

//! End-to-end tests: one binary, a module per area. Each scenario runs on SQLite and, when
//! `CONSULT_TEST_POSTGRES_URL` is set, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Generates a `sqlite` and an ignored `postgres` test from `async fn $name(app: &TestApp)`.
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            use consult_tests::{Db, TestApp};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = TestApp::start(Db::Sqlite).await;
                super::$name(&app).await;
                app.stop().await;
            }

            // Skipped (not passed) unless asked for: see `testing::POSTGRES_IGNORED`.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "PostgreSQL variant: set CONSULT_TEST_POSTGRES_URL and run ignored tests"]
            async fn postgres() {
                let app = TestApp::start(Db::Postgres).await;
                super::$name(&app).await;
                app.stop().await;
            }
        }
    };
}

mod analysis;
mod api;
mod authz;
mod briefings;
mod cache;
mod charts;
mod checklist;
mod cli;
mod copy;
mod delivery;
mod errors;
mod export;
mod faults;
mod feedback;
mod hub;
mod hub_questionnaire;
mod input;
mod overlap;
mod plans;
mod questionnaire;
mod reading;
mod residents;
mod responses;
mod slow;
mod themes;
mod tidy;
mod tokens;
mod workspace;

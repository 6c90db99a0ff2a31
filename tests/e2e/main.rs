//! End-to-end tests: one binary, a module per area. Each scenario runs on SQLite and, when
//! `CONSULT_TEST_POSTGRES_URL` is set, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Generates a `sqlite` and a `postgres` test from `async fn $name(app: &TestApp)`.
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            use consult_tests::{Db, TestApp};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = TestApp::start(Db::Sqlite).await.unwrap();
                super::$name(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = TestApp::start(Db::Postgres).await {
                    super::$name(&app).await;
                    app.stop().await;
                }
            }
        }
    };
}

mod api;
mod authz;
mod cache;
mod checklist;
mod cli;
mod copy;
mod errors;
mod faults;
mod feedback;
mod hub;
mod overlap;
mod plans;
mod residents;
mod responses;
mod slow;
mod tidy;

//! What the conformance suites of consult-store and consult-app share: a seeded register on a
//! fresh database of each backend, and the `both!` macro that runs a scenario on each.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use chrono::{DateTime, NaiveDate, Utc};
use consult_core::*;
use consult_store::{ConsultationFilter, PageRequest, Reader, Store};
use uuid::Uuid;

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn now() -> DateTime<Utc> {
    "2026-01-10T09:00:00Z".parse().unwrap()
}

pub fn admin() -> Actor {
    Actor {
        name: "test admin".into(),
        role: Role::Admin,
        organisation: None,
        staff: None,
    }
}

/// Generates two tests from `async fn $name(store: Store, url: String)`: `$name::sqlite`, on a
/// fresh SQLite store, and `$name::postgres`, on a fresh PostgreSQL schema, `#[ignore]`d unless
/// asked for (`--run-ignored all` with `CONSULT_TEST_POSTGRES_URL` set), so a run without
/// PostgreSQL reports it skipped rather than passed. The URL lets a test open a raw pool on the
/// same database, to read back what the store keeps but never returns.
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let store = consult_store::Store::connect(&url).await.unwrap();
                super::$name(store.clone(), url).await;
                store.close().await;
            }

            #[tokio::test]
            #[ignore = "PostgreSQL variant: set CONSULT_TEST_POSTGRES_URL and run ignored tests"]
            async fn postgres() {
                use consult_store::testing;
                let url = testing::require_postgres_url();
                let (store, schema) = testing::postgres_schema(&url).await.unwrap();
                super::$name(store.clone(), testing::postgres_url_with_schema(&url, &schema)).await;
                store.close().await;
                testing::drop_postgres_schema(&url, &schema).await.unwrap();
            }
        }
    };
}

pub async fn seed(store: &Store) -> RegisterSnapshot {
    for (code, name, parent) in [
        ("E10000028", "Staffordshire", None),
        ("E07000199", "Tamworth", Some("E10000028")),
        ("E07000243", "Stevenage", None),
    ] {
        let area = Area {
            code: AreaCode::parse(code).unwrap(),
            name: name.into(),
            parent: parent.map(|p| AreaCode::parse(p).unwrap()),
        };
        store.create_area(&area, &admin(), now()).await.unwrap();
    }
    for (slug, kind) in [("tamworth", "council"), ("stevenage", "council"), ("police", "partner")] {
        let org = Organisation::parse(
            OrganisationId(Uuid::now_v7()),
            OrganisationInput {
                slug: Some(slug.into()),
                name: Some(format!("{slug} body")),
                kind: Some(kind.into()),
                services: vec!["Policy".into()],
            },
        )
        .unwrap();
        store.create_organisation(&org, &admin(), now()).await.unwrap();
    }
    RegisterSnapshot(store.register_snapshot().await.unwrap())
}

pub struct RegisterSnapshot(pub consult_store::RegisterSnapshot);

impl RegisterSnapshot {
    pub fn org(&self, slug: &str) -> OrganisationId {
        self.0
            .organisations
            .iter()
            .find(|o| o.slug.as_str() == slug)
            .unwrap()
            .id
    }

    pub fn consultation(&self, org: &str, title: &str, opens: &str, closes: &str, status: Status) -> Consultation {
        let plan = ConsultationPlan::parse(
            ConsultationInput {
                organisation: Some(org.into()),
                title: Some(title.into()),
                summary: Some(format!("About {title}")),
                level: Some(
                    if title.contains("survey") {
                        "research"
                    } else {
                        "consult"
                    }
                    .into(),
                ),
                opens_on: Some(opens.into()),
                closes_on: Some(closes.into()),
                audience: AudienceInput {
                    groups: vec![if org == "stevenage" { "tenants" } else { "residents" }.into()],
                    areas: vec![if org == "stevenage" { "E07000243" } else { "E07000199" }.into()],
                    equality_groups: vec![],
                },
                topics: vec![if title.contains("Budget") { "Budget" } else { "general" }.into()],
                ..Default::default()
            },
            self.0.context(),
        )
        .unwrap();
        Consultation {
            id: ConsultationId(Uuid::now_v7()),
            organisation_id: self.org(org),
            plan,
            recorded_status: status,
            version: 1,
            created_at: now(),
            updated_at: now(),
            status_history: vec![],
            approval: None,
        }
    }
}

pub fn page(limit: u32) -> PageRequest {
    PageRequest { limit, cursor: None }
}

pub async fn titles(store: &Store, filter: ConsultationFilter, reader: Reader, today: &str) -> Vec<String> {
    let mut out: Vec<String> = store
        .list_consultations(&filter, &reader, day(today), &page(500))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.plan.title().to_owned())
        .collect();
    out.sort();
    out
}

//! One backend-agnostic conformance suite: every test runs on SQLite, and on PostgreSQL when
//! ignored tests are run with `CONSULT_TEST_POSTGRES_URL` set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Days, NaiveDate, Utc};
use consult_core::*;
use consult_store::audience::ResidentCache;
use consult_store::{
    ConsultationFilter, Cursor, NewToken, Order, PageRequest, Reader, Store, StoreError, demo, testing,
};
use std::future::Future;
use uuid::Uuid;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-01-10T09:00:00Z".parse().unwrap()
}

fn admin() -> Actor {
    Actor {
        name: "test admin".into(),
        role: Role::Admin,
        organisation: None,
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

/// Every comment of an activity's responses, read straight from the database.
async fn stored_comments(url: &str, id: ConsultationId) -> Vec<Option<String>> {
    let sql = "SELECT comments FROM responses WHERE consultation_id = $1 ORDER BY id";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).bind(id.0).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).bind(id.0).fetch_all(&pool).await.unwrap()
    }
}

both!(bulk_responses_keep_every_character_and_answer);
async fn bulk_responses_keep_every_character_and_answer(store: Store, url: String) {
    let snap = seed(&store).await;
    let c = snap.consultation(
        "tamworth",
        "Library hours",
        "2026-01-01",
        "2026-03-31",
        Status::Approved,
    );
    store
        .import_consultations(std::slice::from_ref(&c), &admin())
        .await
        .unwrap();
    // What COPY's text format and JSON both have to escape, and text that looks escaped.
    let awkward = [
        Some("tab\there, new\nline and \r return".to_owned()),
        Some("back\\slash \\N \\t literally; quote \" ' ; DROP TABLE responses; --".to_owned()),
        Some("<script>alert(1)</script> ünïcödé 🚌".to_owned()),
        Some(String::new()),
        None,
    ];
    let responses: Vec<Response> = awkward
        .iter()
        .enumerate()
        .map(|(i, comments)| Response {
            id: Uuid::now_v7(),
            consultation_id: c.id,
            channel: if i % 2 == 0 {
                ResponseChannel::Online
            } else {
                ResponseChannel::Paper
            },
            comments: comments.clone(),
            monitoring: [("sex".to_owned(), if i % 2 == 0 { "female" } else { "male" }.to_owned())].into(),
            scheme: "census2021@1".into(),
            received_at: now(),
            recorded_by: (i % 2 == 1).then(|| "Officer\tName".to_owned()),
        })
        .collect();
    store.insert_responses(&responses).await.unwrap();
    assert_eq!(stored_comments(&url, c.id).await, awkward.to_vec());
    assert_eq!(store.response_counts(&[c.id]).await.unwrap()[&c.id], 5);
    let (respondents, by_scheme) = store.monitoring_counts(&[c.id]).await.unwrap();
    assert_eq!(respondents, 5);
    let sex = &by_scheme["census2021@1"]["sex"];
    assert_eq!((sex["female"], sex["male"]), (3, 2), "{sex:?}");
}

async fn seed(store: &Store) -> RegisterSnapshot {
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

struct RegisterSnapshot(consult_store::RegisterSnapshot);

impl RegisterSnapshot {
    fn org(&self, slug: &str) -> OrganisationId {
        self.0
            .organisations
            .iter()
            .find(|o| o.slug.as_str() == slug)
            .unwrap()
            .id
    }

    fn consultation(&self, org: &str, title: &str, opens: &str, closes: &str, status: Status) -> Consultation {
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

fn page(limit: u32) -> PageRequest {
    PageRequest { limit, cursor: None }
}

async fn titles(store: &Store, filter: ConsultationFilter, reader: Reader, today: &str) -> Vec<String> {
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

both!(organisations_areas_and_services);
async fn organisations_areas_and_services(store: Store, _url: String) {
    let snap = seed(&store).await;
    let orgs = store.list_organisations().await.unwrap();
    assert_eq!(
        orgs.iter().map(|o| o.slug.as_str()).collect::<Vec<_>>(),
        ["police", "stevenage", "tamworth"]
    );
    let dup = Organisation {
        id: OrganisationId(Uuid::now_v7()),
        ..orgs[0].clone()
    };
    assert!(matches!(
        store.create_organisation(&dup, &admin(), now()).await,
        Err(StoreError::Conflict(_))
    ));
    let org = store
        .add_service(&orgs[2].slug, "Waste", &admin(), now())
        .await
        .unwrap();
    assert_eq!(org.services, ["Policy", "Waste"]);
    assert!(matches!(
        store.add_service(&orgs[2].slug, "Waste", &admin(), now()).await,
        Err(StoreError::Conflict(_))
    ));
    let areas = store.list_areas().await.unwrap();
    assert_eq!(areas.len(), 3);
    assert!(snap.0.areas.contains_area(
        &AreaCode::parse("E10000028").unwrap(),
        &AreaCode::parse("E07000199").unwrap()
    ));
    let audit = store.audit_log(Some(("organisation", "tamworth")), 10).await.unwrap();
    assert_eq!(
        audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["service.add", "organisation.create"]
    );
}

both!(tokens_are_stored_hashed);
async fn tokens_are_stored_hashed(store: Store, _url: String) {
    let snap = seed(&store).await;
    let issued = store
        .create_token(
            &NewToken {
                name: "Alice".into(),
                role: Role::Officer,
                organisation: Some(snap.org("tamworth")),
            },
            &admin(),
            now(),
        )
        .await
        .unwrap();
    assert!(issued.secret.starts_with("cst_") && issued.secret.len() == 68);
    let found = store.authenticate(&issued.secret).await.unwrap().unwrap();
    assert_eq!(found, issued.info);
    assert_eq!(found.actor().organisation, Some(snap.org("tamworth")));
    assert!(store.authenticate("cst_nope").await.unwrap().is_none());
    let audit = store
        .audit_log(Some(("token", &issued.info.id.to_string())), 10)
        .await
        .unwrap();
    assert!(
        !audit[0].detail.to_string().contains(&issued.secret),
        "the secret never reaches the audit log"
    );
}

both!(consultations_round_trip_update_and_transition_with_audit);
async fn consultations_round_trip_update_and_transition_with_audit(store: Store, _url: String) {
    let snap = seed(&store).await;
    let c = snap.consultation("tamworth", "Budget 2027", "2026-02-01", "2026-03-31", Status::Draft);
    store.insert_consultation(&c, &admin()).await.unwrap();
    let back = store.get_consultation(c.id).await.unwrap().unwrap();
    assert_eq!(back.plan, c.plan);
    assert_eq!(back.recorded_status, Status::Draft);

    // An edit at a stale version is refused and stores nothing.
    let mut input = c.plan.to_input();
    input.title = Some("Budget and council tax 2027".into());
    let plan = ConsultationPlan::parse(input, snap.0.context()).unwrap();
    assert!(matches!(
        store.update_plan(c.id, 7, &plan, &admin(), now()).await,
        Err(StoreError::Conflict(_))
    ));
    let updated = store.update_plan(c.id, 1, &plan, &admin(), now()).await.unwrap();
    assert_eq!(
        (updated.version, updated.plan.title()),
        (2, "Budget and council tax 2027")
    );

    let officer = Actor {
        name: "Olive".into(),
        role: Role::Officer,
        organisation: Some(snap.org("tamworth")),
    };
    let req = TransitionRequest {
        to: Some("submitted".into()),
        ..Default::default()
    };
    let ctx = TransitionContext {
        today: day("2026-01-10"),
        now: now(),
        assessment: None,
        debriefed: false,
    };
    let changes = plan_transition(&updated, &req, &officer, &ctx).unwrap();
    let submitted = store
        .record_transition(c.id, 2, &changes, None, &officer)
        .await
        .unwrap();
    assert_eq!((submitted.recorded_status, submitted.version), (Status::Submitted, 3));
    assert_eq!(submitted.status_history.len(), 1);
    assert_eq!(submitted.status_history[0].by, "Olive");
    // The same change again, at the old version, loses the race.
    assert!(matches!(
        store.record_transition(c.id, 2, &changes, None, &officer).await,
        Err(StoreError::Conflict(_))
    ));

    let audit = store
        .audit_log(Some(("consultation", &c.id.to_string())), 10)
        .await
        .unwrap();
    let actions: Vec<_> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        ["consultation.transition", "consultation.update", "consultation.create"]
    );
    assert_eq!(audit[1].detail["title"]["from"], "Budget 2027");
    assert_eq!(audit[1].detail["title"]["to"], "Budget and council tax 2027");
    assert!(
        audit[1].detail.get("level").is_none(),
        "only changed fields are audited"
    );
}

both!(imports_are_all_or_nothing);
async fn imports_are_all_or_nothing(store: Store, _url: String) {
    let snap = seed(&store).await;
    let a = snap.consultation("tamworth", "First", "2026-02-01", "2026-03-31", Status::Draft);
    let b = snap.consultation("tamworth", "Second", "2026-02-01", "2026-03-31", Status::Draft);
    let before = store.counts().await.unwrap();
    let err = store.import_consultations(&[a.clone(), b, a], &admin()).await;
    assert!(err.is_err());
    assert_eq!(
        store.counts().await.unwrap(),
        before,
        "a failed import leaves nothing behind"
    );
}

both!(filters_visibility_and_pagination);
async fn filters_visibility_and_pagination(store: Store, _url: String) {
    let snap = seed(&store).await;
    let all = [
        snap.consultation("tamworth", "Budget 2027", "2026-01-05", "2026-02-28", Status::Approved),
        snap.consultation("tamworth", "Parks survey", "2026-03-01", "2026-04-30", Status::Approved),
        snap.consultation("tamworth", "Draft idea", "2026-03-01", "2026-04-30", Status::Draft),
        snap.consultation(
            "stevenage",
            "Tenant review 100% _done_",
            "2025-10-01",
            "2025-12-31",
            Status::Approved,
        ),
        snap.consultation(
            "police",
            "Withdrawn parks plan",
            "2026-01-01",
            "2026-03-01",
            Status::Withdrawn,
        ),
    ];
    store.import_consultations(&all, &admin()).await.unwrap();
    let today = "2026-01-10";
    let f = ConsultationFilter::default;

    assert_eq!(
        titles(&store, f(), Reader::Public, today).await,
        ["Budget 2027", "Parks survey", "Tenant review 100% _done_"]
    );
    assert_eq!(titles(&store, f(), Reader::Everything, today).await.len(), 5);
    assert_eq!(
        titles(&store, f(), Reader::Organisation(snap.org("tamworth")), today).await,
        ["Budget 2027", "Draft idea", "Parks survey", "Tenant review 100% _done_"]
    );
    let st = |s: Status| ConsultationFilter {
        statuses: vec![s],
        ..f()
    };
    assert_eq!(
        titles(&store, st(Status::Open), Reader::Public, today).await,
        ["Budget 2027"]
    );
    assert_eq!(
        titles(&store, st(Status::Approved), Reader::Public, today).await,
        ["Parks survey"]
    );
    assert_eq!(
        titles(&store, st(Status::Closed), Reader::Public, today).await,
        ["Tenant review 100% _done_"]
    );
    assert_eq!(
        titles(
            &store,
            ConsultationFilter {
                level: Some(InvolvementLevel::Research),
                ..f()
            },
            Reader::Everything,
            today
        )
        .await,
        ["Parks survey"]
    );
    assert_eq!(
        titles(
            &store,
            ConsultationFilter {
                organisation: Some("stevenage".into()),
                ..f()
            },
            Reader::Public,
            today
        )
        .await,
        ["Tenant review 100% _done_"]
    );
    // Tamworth's activities are found from the county that contains it.
    let county = snap
        .0
        .areas
        .related(&AreaCode::parse("E10000028").unwrap())
        .into_iter()
        .collect();
    assert_eq!(
        titles(
            &store,
            ConsultationFilter { areas: county, ..f() },
            Reader::Public,
            today
        )
        .await,
        ["Budget 2027", "Parks survey"]
    );
    assert_eq!(
        titles(
            &store,
            ConsultationFilter {
                group: Some("tenants".into()),
                ..f()
            },
            Reader::Public,
            today
        )
        .await,
        ["Tenant review 100% _done_"]
    );
    assert_eq!(
        titles(
            &store,
            ConsultationFilter {
                topic: Some("BUDGET".into()),
                ..f()
            },
            Reader::Public,
            today
        )
        .await,
        ["Budget 2027"]
    );
    // LIKE wildcards in the text are literal.
    assert_eq!(
        titles(
            &store,
            ConsultationFilter {
                text: Some("100%".into()),
                ..f()
            },
            Reader::Public,
            today
        )
        .await
        .len(),
        1
    );
    assert_eq!(
        titles(
            &store,
            ConsultationFilter {
                text: Some("0_d".into()),
                ..f()
            },
            Reader::Public,
            today
        )
        .await
        .len(),
        0
    );
    assert_eq!(
        titles(
            &store,
            ConsultationFilter {
                text: Some("PARKS".into()),
                ..f()
            },
            Reader::Everything,
            today
        )
        .await,
        ["Parks survey", "Withdrawn parks plan"]
    );
    assert_eq!(
        titles(
            &store,
            ConsultationFilter {
                from: Some(day("2026-03-15")),
                to: Some(day("2026-03-20")),
                ..f()
            },
            Reader::Public,
            today
        )
        .await,
        ["Parks survey"]
    );

    // Pages of two cover everything once, in both orders.
    for order in [Order::ByRegistration, Order::ByOpening] {
        let mut seen = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let p = store
                .list_consultations(
                    &ConsultationFilter { order, ..f() },
                    &Reader::Everything,
                    day(today),
                    &PageRequest {
                        limit: 2,
                        cursor: cursor.clone(),
                    },
                )
                .await
                .unwrap();
            assert!(p.items.len() <= 2);
            seen.extend(p.items.iter().map(|c| (c.plan.opens_on(), c.id)));
            match p.next {
                Some(c) => cursor = Some(Cursor::decode(&c.encode()).unwrap()),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        if order == Order::ByOpening {
            sorted.sort();
        } else {
            sorted.sort_by_key(|x| x.1);
        }
        assert_eq!(seen, sorted);
        assert_eq!(seen.len(), 5);
    }

    let plan = store
        .forward_plan(day("2026-01-01"), day("2026-12-31"), day(today), &page(50))
        .await
        .unwrap();
    assert_eq!(
        plan.items.iter().map(|c| c.plan.title()).collect::<Vec<_>>(),
        ["Budget 2027", "Parks survey"]
    );
}

both!(sql_and_core_agree_on_status_every_day);
async fn sql_and_core_agree_on_status_every_day(store: Store, _url: String) {
    let snap = seed(&store).await;
    let cs: Vec<Consultation> = Status::ALL
        .iter()
        .map(|s| snap.consultation("tamworth", &format!("Recorded {s}"), "2026-02-01", "2026-02-10", *s))
        .collect();
    store.import_consultations(&cs, &admin()).await.unwrap();
    let mut date = day("2026-01-30");
    while date <= day("2026-02-12") {
        for c in &cs {
            let expected = c.status_on(date);
            let filter = ConsultationFilter {
                statuses: vec![expected],
                ..Default::default()
            };
            let found = store
                .list_consultations(&filter, &Reader::Everything, date, &page(50))
                .await
                .unwrap();
            assert!(
                found.items.iter().any(|x| x.id == c.id),
                "{} on {date}: core says {expected}",
                c.plan.title()
            );
        }
        date = date + Days::new(1);
    }
}

both!(demo_data_loads_once);
async fn demo_data_loads_once(store: Store, _url: String) {
    assert!(demo::load_if_empty(&store, day("2026-11-23"), now()).await.unwrap());
    assert!(!demo::load_if_empty(&store, day("2026-11-23"), now()).await.unwrap());
    let open = store
        .list_consultations(
            &ConsultationFilter {
                statuses: vec![Status::Open],
                ..Default::default()
            },
            &Reader::Public,
            day("2026-11-23"),
            &page(50),
        )
        .await
        .unwrap();
    assert!(open.items.len() >= 3);
    let orgs = store.list_organisations().await.unwrap();
    assert!(orgs.iter().any(|o| o.kind == OrganisationKind::Partner));
}

both!(checklist_settings_frameworks_attestations_and_approvals);
async fn checklist_settings_frameworks_attestations_and_approvals(store: Store, _url: String) {
    let snap = seed(&store).await;
    let tamworth = snap.org("tamworth");
    // A new organisation starts with Gunning and the 2008 Code.
    let settings = store.checklist_settings(tamworth).await.unwrap();
    assert_eq!(settings.frameworks, ["code_2008", "gunning"]);
    assert!(settings.election_periods.is_empty());

    // Custom frameworks keep every version.
    let mut charter = builtin_frameworks().remove(0);
    charter.key = "tamworth_charter".into();
    charter.name = "Tamworth customer charter".into();
    let v1 = store.add_framework(&charter, &admin(), now()).await.unwrap();
    charter.name = "Tamworth customer charter (2027)".into();
    let v2 = store.add_framework(&charter, &admin(), now()).await.unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    let cat = store.framework_catalogue().await.unwrap();
    assert_eq!(
        cat.get("tamworth_charter").unwrap().name,
        "Tamworth customer charter (2027)"
    );
    assert_eq!(
        cat.version("tamworth_charter", 1).unwrap().name,
        "Tamworth customer charter"
    );

    let org = store.get_organisation("tamworth").await.unwrap().unwrap();
    let new_settings = consult_store::ChecklistSettings {
        frameworks: vec!["gunning".into(), "tamworth_charter".into()],
        election_periods: vec![ElectionPeriod {
            name: "Borough elections".into(),
            starts_on: day("2026-03-23"),
            ends_on: day("2026-05-07"),
        }],
    };
    store
        .set_checklist_settings(&org, &new_settings, &admin(), now())
        .await
        .unwrap();
    assert_eq!(store.checklist_settings(tamworth).await.unwrap(), new_settings);

    // Attestations upsert by check; the assessment reads them.
    let c = snap.consultation("tamworth", "Budget 2027", "2026-03-30", "2026-04-30", Status::Submitted);
    store.insert_consultation(&c, &admin()).await.unwrap();
    let answer = |yes: bool, evidence: &str| Attestation {
        check: "gunning/enough_information".into(),
        answer: yes,
        evidence: Some(evidence.into()),
        by: "Olu".into(),
        at: now(),
    };
    store
        .record_attestations(c.id, &[answer(false, "draft documents")], &admin())
        .await
        .unwrap();
    store
        .record_attestations(c.id, &[answer(true, "final documents")], &admin())
        .await
        .unwrap();
    let held = store.attestations(c.id).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].evidence.as_deref(), Some("final documents"));
    let a = store.assess(&c, day("2026-01-10"), &[]).await.unwrap();
    assert_eq!(
        a.frameworks
            .iter()
            .map(|f| (f.key.as_str(), f.version))
            .collect::<Vec<_>>(),
        [("gunning", 1), ("tamworth_charter", 2)]
    );
    let enough = a.checks.iter().find(|r| r.id == "gunning/enough_information").unwrap();
    assert_eq!(enough.outcome, Outcome::Pass);

    // An approval is stored with its assessment and comes back with the record.
    let coord = Actor {
        name: "Cora".into(),
        role: Role::Coordinator,
        organisation: None,
    };
    let ctx = TransitionContext {
        today: day("2026-01-10"),
        now: now(),
        assessment: Some(&a),
        debriefed: false,
    };
    let req = TransitionRequest {
        to: Some("approved".into()),
        override_justification: (!a.approvable).then(|| "Budget timetable".into()),
        ..Default::default()
    };
    let changes = plan_transition(&c, &req, &coord, &ctx).unwrap();
    let approval = Approval {
        at: now(),
        by: "Cora".into(),
        override_justification: changes.last().unwrap().override_justification.clone(),
        assessment: a.clone(),
    };
    let approved = store
        .record_transition(c.id, 1, &changes, Some(&approval), &coord)
        .await
        .unwrap();
    assert_eq!(approved.approval.as_ref().unwrap().assessment, a);
    let listed = store
        .list_consultations(
            &ConsultationFilter::default(),
            &Reader::Everything,
            day("2026-01-10"),
            &page(10),
        )
        .await
        .unwrap();
    assert_eq!(listed.items[0].approval, Some(approval));
}

/// A small deterministic generator (no seed file to keep): the same residents every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

both!(sql_index_and_core_agree_on_invitation_plans);
async fn sql_index_and_core_agree_on_invitation_plans(store: Store, _url: String) {
    let snap = seed(&store).await;
    let target = snap.consultation(
        "tamworth",
        "Budget consultation",
        "2026-01-01",
        "2026-12-31",
        Status::Open,
    );
    let others: Vec<Consultation> = (0..3)
        .map(|i| {
            snap.consultation(
                "tamworth",
                &format!("Earlier {i}"),
                "2025-01-01",
                "2025-12-31",
                Status::Closed,
            )
        })
        .collect();
    store
        .import_consultations(&[vec![target.clone()], others.clone()].concat(), &admin())
        .await
        .unwrap();
    let mut rng = Lcg(7);
    let codes = ["E10000028", "E07000199", "E07000243"];
    let mut residents = Vec::new();
    for i in 0..80u128 {
        let pick = |rng: &mut Lcg, from: &[&str]| -> Vec<String> {
            from.iter()
                .filter(|_| rng.below(2) == 0)
                .map(|s| s.to_string())
                .collect()
        };
        let channels = match rng.below(5) {
            0 => vec![],
            1 => vec![ContactChannel::Post, ContactChannel::Email],
            _ => vec![ContactChannel::Email],
        };
        let resident = Resident {
            id: Uuid::from_u128(i + 1),
            email: Some(format!("r{i}@example.org")),
            phone: None,
            postal_address: Some(format!("{i} High Street")),
            interests: pick(&mut rng, &["budget", "parks"]),
            areas: pick(&mut rng, &codes)
                .iter()
                .map(|c| AreaCode::parse(c).unwrap())
                .collect(),
            groups: pick(&mut rng, &["residents", "tenants"]),
            channels,
            consent_at: Some(now()),
        };
        store.create_resident(&resident, now()).await.unwrap();
        if rng.below(8) == 0 {
            store.unsubscribe(resident.id, now()).await.unwrap();
        }
        residents.push(resident.id);
    }
    // The server's path: the audience index, loaded now and caught up with the invitations
    // recorded below (and the rebuild of recent dates) before each plan.
    let cache = std::sync::Arc::new(ResidentCache::new());
    assert_eq!(cache.sync(&store).await.unwrap(), 80);
    // Invitation histories: up to nine invitations each, over two years, some to the target.
    let start = day("2024-06-01");
    let mut rounds = Vec::new();
    for round in 0..12u64 {
        let on = start + Days::new(round * 61 + rng.below(30));
        rounds.push(on);
        let invited: Vec<(Uuid, ContactChannel)> = residents
            .iter()
            .filter(|_| rng.below(3) == 0)
            .map(|id| (*id, ContactChannel::Email))
            .collect();
        let activity = if round == 11 {
            &target
        } else {
            &others[(round % 3) as usize]
        };
        let at = on.and_hms_opt(10, 0, 0).unwrap().and_utc();
        store
            .record_invitations(activity.id, &invited, &admin(), at)
            .await
            .unwrap();
    }
    let areas: Vec<AreaCode> = ["E10000028", "E07000199"]
        .iter()
        .map(|c| AreaCode::parse(c).unwrap())
        .collect();
    let topics = vec!["budget".to_owned()];
    let groups = vec!["residents".to_owned()];
    let everywhere: Vec<AreaCode> = vec![];
    let check = |rebuilt: bool| {
        let store = store.clone();
        let cache = cache.clone();
        let (areas, topics, groups, everywhere, target, rounds) = (
            areas.clone(),
            topics.clone(),
            groups.clone(),
            everywhere.clone(),
            target.clone(),
            rounds.clone(),
        );
        let mut rng = Lcg(if rebuilt { 11 } else { 13 });
        async move {
            let mut compared = std::collections::BTreeMap::new();
            for case in 0..90 {
                let rules = FatigueRules {
                    max_contacts: 1 + rng.below(6) as u32,
                    window_days: 30 + rng.below(700) as u32,
                    min_gap_days: rng.below(30) as u32,
                    max_concurrent: 3,
                };
                // A third of the days put an invitation exactly on the first day of the window,
                // a third exactly on the minimum gap: the boundaries are where twins part.
                let on = rounds[rng.below(rounds.len() as u64) as usize];
                let today = match case % 3 {
                    0 => day("2024-09-01") + Days::new(rng.below(900)),
                    1 => on + Days::new(u64::from(rules.window_days) - 1),
                    _ => on + Days::new(u64::from(rules.min_gap_days)),
                };
                let matching = Matching {
                    areas: if case % 4 == 0 {
                        everywhere.clone()
                    } else {
                        areas.clone()
                    },
                    topics: topics.clone(),
                    groups: if case % 3 == 0 { vec![] } else { groups.clone() },
                };
                let candidates = store
                    .invitation_candidates(target.id, &matching, rules.window_start(today))
                    .await
                    .unwrap();
                let mut expected = plan_invitations(candidates, &rules, today);
                let mut got = store
                    .invitation_plan(target.id, &matching, &rules, today, true)
                    .await
                    .unwrap();
                expected.invited.sort();
                got.invited.sort();
                assert_eq!(
                    got, expected,
                    "rules {rules:?} on {today} (case {case}, rebuilt {rebuilt})"
                );
                let counts = store
                    .invitation_plan(target.id, &matching, &rules, today, false)
                    .await
                    .unwrap();
                assert_eq!(counts.excluded, expected.excluded);
                assert!(counts.invited.is_empty());
                let mut indexed = cache.plan(&store, target.id, &matching, &rules, today).await.unwrap();
                indexed.invited.sort();
                assert_eq!(indexed, expected, "index: rules {rules:?} on {today} (case {case})");
                for (reason, n) in expected.excluded {
                    *compared.entry(reason).or_insert(0) += n;
                }
            }
            // Every reason was exercised, so the agreement means something.
            assert_eq!(compared.len(), 5, "{compared:?}");
        }
    };
    check(false).await;
    store.rebuild_recent_invitations().await.unwrap();
    check(true).await;
}

both!(the_audience_index_catches_up_with_the_register);
/// The audience index catches up with every kind of change to the residents' register made
/// after it was built: registrations, withdrawn consent, deletions and recorded invitations.
async fn the_audience_index_catches_up_with_the_register(store: Store, _url: String) {
    let snap = seed(&store).await;
    let target = snap.consultation("tamworth", "Parks strategy", "2026-01-01", "2026-12-31", Status::Open);
    store
        .import_consultations(std::slice::from_ref(&target), &admin())
        .await
        .unwrap();
    let tamworth = AreaCode::parse("E07000199").unwrap();
    let resident = |n: u128| Resident {
        id: Uuid::from_u128(n),
        email: Some(format!("r{n}@example.org")),
        phone: None,
        postal_address: None,
        interests: vec!["parks".into()],
        areas: vec![tamworth.clone()],
        groups: vec![],
        channels: vec![ContactChannel::Email],
        consent_at: Some(now()),
    };
    let at = |minutes: i64| now() + chrono::Duration::minutes(minutes);
    for n in 1..=4 {
        store.create_resident(&resident(n), at(0)).await.unwrap();
    }
    let cache = ResidentCache::new();
    assert_eq!(cache.sync(&store).await.unwrap(), 4);
    let matching = Matching {
        areas: vec![tamworth.clone()],
        topics: vec!["parks".into()],
        groups: vec![],
    };
    let rules = FatigueRules::default();
    let today = at(0).date_naive();
    let plan = cache.plan(&store, target.id, &matching, &rules, today).await.unwrap();
    assert_eq!(plan.invited.len(), 4);
    // Later: one registers, one withdraws consent, one is deleted, one is invited.
    store.create_resident(&resident(5), at(10)).await.unwrap();
    store.unsubscribe(Uuid::from_u128(2), at(11)).await.unwrap();
    assert!(store.delete_resident(Uuid::from_u128(3), at(12)).await.unwrap());
    store
        .record_invitations(
            target.id,
            &[(Uuid::from_u128(4), ContactChannel::Email)],
            &admin(),
            at(13),
        )
        .await
        .unwrap();
    let plan = cache.plan(&store, target.id, &matching, &rules, today).await.unwrap();
    assert_eq!(cache.len(), 4);
    let invited: Vec<Uuid> = plan.invited.iter().map(|(id, _)| *id).collect();
    assert_eq!(invited, [Uuid::from_u128(1), Uuid::from_u128(5)]);
    assert_eq!(plan.excluded.get(&Exclusion::NoConsent), Some(&1));
    assert_eq!(plan.excluded.get(&Exclusion::AlreadyInvited), Some(&1));
    // Another activity sees resident 4's new invitation through the minimum gap.
    let other = snap.consultation("tamworth", "Play areas", "2026-01-01", "2026-12-31", Status::Open);
    store
        .import_consultations(std::slice::from_ref(&other), &admin())
        .await
        .unwrap();
    let plan = cache.plan(&store, other.id, &matching, &rules, today).await.unwrap();
    assert_eq!(plan.excluded.get(&Exclusion::FatigueMinGap), Some(&1));
    // And agrees with a fresh index and with the database.
    let fresh = ResidentCache::new();
    fresh.sync(&store).await.unwrap();
    let mut again = fresh.plan(&store, other.id, &matching, &rules, today).await.unwrap();
    again.invited.sort();
    let mut plan = plan;
    plan.invited.sort();
    assert_eq!(again, plan);
    let mut sql = store
        .invitation_plan(other.id, &matching, &rules, today, true)
        .await
        .unwrap();
    sql.invited.sort();
    assert_eq!(sql, plan);
    // Nothing changed since: nothing is read again.
    assert_eq!(cache.sync(&store).await.unwrap(), 0);
}

both!(the_overlap_index_reads_each_change_once);
/// The overlap index reads each change once: a bulk import is read at the next sync and never
/// again, an edit is read once, whatever the clocks of the writers say.
async fn the_overlap_index_reads_each_change_once(store: Store, _url: String) {
    let snap = seed(&store).await;
    let make = |n: usize| {
        (0..n)
            .map(|i| {
                snap.consultation(
                    "tamworth",
                    &format!("Parks review {i}"),
                    "2026-02-01",
                    "2026-03-31",
                    Status::Approved,
                )
            })
            .collect::<Vec<_>>()
    };
    let first = make(40);
    store.import_consultations(&first, &admin()).await.unwrap();
    let cache = consult_store::overlap::OverlapCache::new(OverlapConfig::default());
    assert_eq!(cache.sync(&store).await.unwrap(), 40);
    assert_eq!(cache.sync(&store).await.unwrap(), 0, "an import is read once");
    store.import_consultations(&make(3), &admin()).await.unwrap();
    assert_eq!(cache.sync(&store).await.unwrap(), 3);
    // An edit stamped with a time long past is still seen.
    let mut plan = first[0].plan.clone();
    let mut input = plan.to_input();
    input.title = Some("Play areas review".into());
    plan = ConsultationPlan::parse(input, snap.0.context()).unwrap();
    let old = "2020-01-01T00:00:00Z".parse().unwrap();
    store.update_plan(first[0].id, 1, &plan, &admin(), old).await.unwrap();
    assert_eq!(cache.sync(&store).await.unwrap(), 1);
    assert_eq!(cache.sync(&store).await.unwrap(), 0);
    assert_eq!(cache.len(), 43);
}

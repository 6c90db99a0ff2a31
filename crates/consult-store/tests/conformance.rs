//! One backend-agnostic conformance suite of the store: every test runs on SQLite, and on
//! PostgreSQL when ignored tests are run with `CONSULT_TEST_POSTGRES_URL` set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use chrono::Days;
use consult_core::*;
use consult_store::{ConsultationFilter, Cursor, NewToken, Order, PageRequest, Reader, Store, StoreError};
use std::collections::BTreeMap;
use support::*;
use uuid::Uuid;

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
            questionnaire_version: None,
            answers: Default::default(),
            area: None,
            results_notice: None,
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
                expires_at: None,
            },
            &admin(),
            now(),
        )
        .await
        .unwrap();
    assert!(issued.secret.starts_with("cst_") && issued.secret.len() == 68);
    let found = store.authenticate(&issued.secret).await.unwrap().unwrap();
    assert_eq!(found.info, issued.info);
    assert_eq!(found.organisation_slug.as_deref(), Some("tamworth"));
    assert_eq!(found.info.actor().organisation, Some(snap.org("tamworth")));
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
        staff: None,
    };
    let req = TransitionRequest {
        to: Some(Status::Submitted),
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
        .forward_plan(
            &ConsultationFilter {
                from: Some(day("2026-01-01")),
                to: Some(day("2026-12-31")),
                ..Default::default()
            },
            day(today),
            &page(50),
        )
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
    let (catalogue, settings) = store.applicable_frameworks(c.organisation_id).await.unwrap();
    let frameworks: Vec<&Framework> = settings.frameworks.iter().filter_map(|k| catalogue.get(k)).collect();
    let attestations = store.attestations(c.id).await.unwrap();
    let ctx = AssessmentContext {
        today: day("2026-01-10"),
        notice_from: day("2026-01-10"),
        pre_election: &settings.election_periods,
        unresolved_findings: &[],
        attestations: &attestations,
    };
    let a = consult_core::assess(&c.plan, &frameworks, &ctx);
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
        staff: None,
    };
    let ctx = TransitionContext {
        today: day("2026-01-10"),
        now: now(),
        assessment: Some(&a),
        debriefed: false,
    };
    let req = TransitionRequest {
        to: Some(Status::Approved),
        override_justification: (!a.approvable).then(|| "Budget timetable".into()),
        ..Default::default()
    };
    let changes = plan_transition(&c, &req, &coord, &ctx).unwrap();
    let approval = Approval {
        at: now(),
        by: "Cora".into(),
        override_justification: changes.last().unwrap().override_justification.clone(),
        assessment: a.clone(),
        signer: Some(coord.signer()),
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

both!(questionnaire_versions_and_answer_rows);
async fn questionnaire_versions_and_answer_rows(store: Store, _url: String) {
    let snap = seed(&store).await;
    let c = snap.consultation("tamworth", "Park survey", "2026-01-01", "2026-03-31", Status::Approved);
    store
        .import_consultations(std::slice::from_ref(&c), &admin())
        .await
        .unwrap();
    assert_eq!(store.questionnaire(c.id).await.unwrap(), None);
    let input: QuestionnaireInput = serde_json::from_value(serde_json::json!({ "sections": [ { "title": "Park",
        "questions": [
            { "key": "uses", "type": "multiple_choice", "text": "What for?", "other": true,
              "options": [ { "key": "walk", "label": "Walking" }, { "key": "play", "label": "Play" } ] },
            { "key": "rate", "type": "number", "text": "Rate", "min": 0, "max": 10 },
            { "key": "agree", "type": "grid", "text": "Agree?", "scale": { "min": 1, "max": 5 },
              "statements": [ { "key": "safe", "text": "Safe" } ] }
        ] } ] }))
    .unwrap();
    let q = Questionnaire::parse(input).unwrap();
    let change = consult_store::QuestionnaireChange::Set;
    let v1 = store
        .save_questionnaire(&admin(), now(), c.id, &q, 0, change)
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    // A writer that read no questionnaire lost the race.
    let lost = store.save_questionnaire(&admin(), now(), c.id, &q, 0, change).await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    let v2 = store
        .save_questionnaire(&admin(), now(), c.id, &q, 1, change)
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let read = store.questionnaire(c.id).await.unwrap().unwrap();
    assert_eq!((read.version, &read.sections), (2, &q.sections));
    let audit = store
        .audit_log(Some(("consultation", &c.id.to_string())), 10)
        .await
        .unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "questionnaire.set").count(), 2);

    let answers = serde_json::from_value(serde_json::json!({
        "uses": ["walk", { "option": "other", "text": "Picnics\tand tea" }], "rate": 7.5, "agree": { "safe": 4 }
    }))
    .unwrap();
    let input = ResponseInput {
        answers,
        ..Default::default()
    };
    let scheme = MonitoringScheme::census2021().unwrap();
    let r = Response::parse_answered(Uuid::now_v7(), c.id, input, &scheme, Some(&read), None, now()).unwrap();
    assert_eq!(r.questionnaire_version, Some(2));
    store.insert_response(&r, None).await.unwrap();
    let rows = store.response_answers(r.id).await.unwrap();
    assert_eq!(rows, r.answers.rows().into_iter().collect::<Vec<_>>().tap_sort());
}

/// Sorts rows as the store returns them (question, then item).
trait TapSort {
    fn tap_sort(self) -> Self;
}

impl TapSort for Vec<AnswerRow> {
    fn tap_sort(mut self) -> Self {
        self.sort_by(|a, b| {
            (a.question.as_str(), a.item.as_deref().unwrap_or(""))
                .cmp(&(b.question.as_str(), b.item.as_deref().unwrap_or("")))
        });
        self
    }
}

both!(codeframe_codes_and_theme_counts);
async fn codeframe_codes_and_theme_counts(store: Store, _url: String) {
    use consult_core::{Coding, Theme, ThemeInput};
    use std::collections::BTreeSet;
    let snap = seed(&store).await;
    let c = snap.consultation(
        "tamworth",
        "Library survey",
        "2026-01-01",
        "2026-03-31",
        Status::Approved,
    );
    store
        .import_consultations(std::slice::from_ref(&c), &admin())
        .await
        .unwrap();
    let input: QuestionnaireInput = serde_json::from_value(serde_json::json!({ "sections": [ { "title": "Library",
        "questions": [ { "key": "ideas", "type": "free_text", "text": "Ideas?" },
                       { "key": "more", "type": "free_text", "text": "More?" } ] } ] }))
    .unwrap();
    let q = Questionnaire::parse(input).unwrap();
    let q = store
        .save_questionnaire(&admin(), now(), c.id, &q, 0, consult_store::QuestionnaireChange::Set)
        .await
        .unwrap();
    let scheme = MonitoringScheme::census2021().unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        let answers =
            serde_json::from_value(serde_json::json!({ "ideas": format!("Idea {i}"), "more": "Yes" })).unwrap();
        let input = ResponseInput {
            answers,
            ..Default::default()
        };
        let r = Response::parse_answered(Uuid::now_v7(), c.id, input, &scheme, Some(&q), None, now()).unwrap();
        store.insert_response(&r, None).await.unwrap();
        ids.push(r.id);
    }
    let mut frame: Vec<Theme> = Vec::new();
    for (key, parent) in [
        ("transport", None),
        ("parking", Some("transport")),
        ("buses", Some("transport")),
        ("hours", None),
    ] {
        let input = ThemeInput {
            key: Some(key.into()),
            label: Some(key.to_uppercase()),
            description: None,
            parent: parent.map(Into::into),
        };
        let t = Theme::create(&input, &frame, &admin(), now()).unwrap();
        frame.push(store.create_theme(&admin(), c.id, &t).await.unwrap());
    }
    let again = store.create_theme(&admin(), c.id, &frame[0]).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let read = store.themes(c.id).await.unwrap();
    let keys: Vec<&str> = read.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["hours", "transport", "buses", "parking"]);
    assert_eq!(read[2].parent.as_deref(), Some("transport"));

    // Codes: (response index, question, themes).
    let plan: [(usize, &str, &[&str]); 6] = [
        (0, "ideas", &["parking"]),
        (1, "ideas", &["parking", "buses"]),
        (2, "ideas", &["transport"]),
        (3, "ideas", &["hours"]),
        (3, "more", &["parking"]),
        (4, "ideas", &["hours", "buses"]),
    ];
    for (i, question, themes) in plan {
        let coding = Coding {
            question: question.into(),
            themes: themes.iter().map(|t| (*t).to_owned()).collect(),
            note: Some("checked".into()),
        };
        store.set_coding(&admin(), now(), c.id, ids[i], &coding).await.unwrap();
    }
    // Counted naively here: a parent counts responses coded with it or a child, each once.
    let parent_of = |t: &str| frame.iter().find(|f| f.key == t).and_then(|f| f.parent.clone());
    let naive = |question: Option<&str>, theme: &str| -> u64 {
        let is_parent = parent_of(theme).is_none();
        let hit: BTreeSet<usize> = plan
            .iter()
            .filter(|(_, q, _)| question.is_none_or(|want| want == *q))
            .filter(|(_, _, ts)| {
                ts.iter()
                    .any(|t| *t == theme || (is_parent && parent_of(t).as_deref() == Some(theme)))
            })
            .map(|(i, _, _)| *i)
            .collect();
        hit.len() as u64
    };
    let (coded, cells) = store.coding_counts(c.id).await.unwrap();
    assert_eq!(coded.get("ideas"), Some(&5));
    assert_eq!(coded.get("more"), Some(&1));
    for cell in &cells {
        assert_eq!(cell.count, naive(Some(&cell.question), &cell.key), "{cell:?}");
    }
    assert_eq!(cells.iter().filter(|c| c.question == "ideas").count(), 4);
    let raised = store.theme_responses(c.id).await.unwrap();
    for t in &frame {
        assert_eq!(
            raised.get(&t.key).copied().unwrap_or(0),
            naive(None, &t.key),
            "{}",
            t.key
        );
    }
    // Reading codes back; uncoded answers.
    let codes = store.codes_of(&[ids[1]]).await.unwrap();
    assert_eq!(codes[&ids[1]][0].themes, ["buses", "parking"]);
    assert_eq!(codes[&ids[1]][0].note.as_deref(), Some("checked"));
    let uncoded = store.uncoded_answers(c.id, "ideas").await.unwrap();
    assert_eq!(uncoded, [(ids[5], "Idea 5".to_owned())]);

    // Moving buses to parking: response 1 had both and keeps one row.
    let moved = store
        .delete_theme(&admin(), now(), c.id, "buses", Some("parking"))
        .await
        .unwrap();
    assert_eq!(moved, 2);
    let codes = store.codes_of(&[ids[1], ids[4]]).await.unwrap();
    assert_eq!(codes[&ids[1]][0].themes, ["parking"]);
    assert_eq!(codes[&ids[4]][0].themes, ["hours", "parking"]);
    let in_use = store.delete_theme(&admin(), now(), c.id, "hours", None).await;
    assert!(matches!(in_use, Err(StoreError::Conflict(_))), "{in_use:?}");
    let parent = store.delete_theme(&admin(), now(), c.id, "transport", None).await;
    assert!(matches!(parent, Err(StoreError::Conflict(_))), "{parent:?}");

    // Rejections are remembered once.
    for _ in 0..2 {
        store
            .reject_suggestion(&admin(), now(), c.id, "ideas", "open_hour")
            .await
            .unwrap();
    }
    let rejected = store.rejected_suggestions(c.id, "ideas").await.unwrap();
    assert_eq!(rejected.into_iter().collect::<Vec<_>>(), ["open_hour"]);
    assert!(store.rejected_suggestions(c.id, "more").await.unwrap().is_empty());
    let audit = store
        .audit_log(Some(("consultation", &c.id.to_string())), 50)
        .await
        .unwrap();
    let count = |action: &str| audit.iter().filter(|a| a.action == action).count();
    assert_eq!(
        (
            count("theme.create"),
            count("response.code"),
            count("theme.delete"),
            count("theme.suggestion_reject")
        ),
        (4, 6, 1, 1)
    );
}

/// One response's answers to the park questionnaire, any of them left out: every valid shape.
fn park_answers()
-> impl proptest::strategy::Strategy<Value = (BTreeMap<String, serde_json::Value>, Option<&'static str>)> {
    use proptest::prelude::*;
    use serde_json::json;
    let visit = prop_oneof![
        Just(json!("yes")),
        Just(json!("no")),
        Just(json!({ "option": "other", "text": "Now and then" }))
    ];
    let uses = (any::<bool>(), any::<bool>(), any::<bool>()).prop_filter_map("some use", |(w, p, o)| {
        let mut v = Vec::new();
        if w {
            v.push(json!("walk"));
        }
        if p {
            v.push(json!("play"));
        }
        if o {
            v.push(json!({ "option": "other", "text": "Dogs" }));
        }
        (!v.is_empty()).then(|| json!(v))
    });
    let ranking = Just(vec!["lights", "bins", "seats"])
        .prop_shuffle()
        .prop_map(|v| json!(v));
    let grid = (1i64..=5, 1i64..=5).prop_map(|(s, c)| json!({ "safe": s, "clean": c }));
    (
        proptest::option::of(visit),
        proptest::option::of(uses),
        proptest::option::of((1i64..=5).prop_map(|p| json!(p))),
        proptest::option::of(ranking),
        proptest::option::of((16i64..=120).prop_map(|a| json!(a))),
        proptest::option::of(grid),
        proptest::option::of(Just(json!("More benches"))),
        prop_oneof![Just(None), Just(Some("female")), Just(Some("male"))],
    )
        .prop_map(|(visit, uses, sat, order, age, agree, ideas, sex)| {
            let mut a = BTreeMap::new();
            for (k, v) in [
                ("visit", visit),
                ("uses", uses),
                ("satisfaction", sat),
                ("priorities", order),
                ("age", age),
                ("agree", agree),
                ("ideas", ideas),
            ] {
                if let Some(v) = v {
                    a.insert(k.to_owned(), v);
                }
            }
            (a, sex)
        })
}

fn park_questionnaire() -> Questionnaire {
    let input: QuestionnaireInput =
        serde_json::from_value(serde_json::json!({ "sections": [ { "title": "Your park", "questions": [
        { "key": "visit", "type": "single_choice", "text": "Do you visit?", "other": true,
          "options": [ { "key": "yes", "label": "Yes" }, { "key": "no", "label": "No" } ] },
        { "key": "uses", "type": "multiple_choice", "text": "Uses?", "other": true,
          "options": [ { "key": "walk", "label": "Walking" }, { "key": "play", "label": "Play" } ] },
        { "key": "satisfaction", "type": "scale", "text": "Satisfied?", "scale": { "min": 1, "max": 5 } },
        { "key": "priorities", "type": "ranking", "text": "Rank",
          "options": [ { "key": "lights", "label": "Lighting" }, { "key": "bins", "label": "Bins" },
                       { "key": "seats", "label": "Seats" } ] },
        { "key": "age", "type": "number", "text": "Age", "min": 16, "max": 120 },
        { "key": "ideas", "type": "free_text", "text": "Ideas?" },
        { "key": "agree", "type": "grid", "text": "Agree?", "scale": { "min": 1, "max": 5 },
          "statements": [ { "key": "safe", "text": "Safe" }, { "key": "clean", "text": "Clean" } ] }
    ] } ] }))
        .unwrap();
    Questionnaire::parse(input).unwrap()
}

/// Mean and median of some values, rounded as the analysis rounds.
fn naive_mean_median(mut v: Vec<f64>) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    let r = |x: f64| (x * 10_000.0).round() / 10_000.0;
    (Some(r(v.iter().sum::<f64>() / n as f64)), Some(r(median)))
}

// Property: whatever valid answers are stored (one at a time or in bulk), the analysis counted
// in SQL equals a naive recount of the answers as sent, for the whole activity, by sex and by
// area.
/// Runs a SQL script (several statements) straight on the database.
async fn run_script(url: &str, script: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::raw_sql(script).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::raw_sql(script).execute(&pool).await.unwrap();
    }
}

both!(analysis_equals_a_naive_recount);
async fn analysis_equals_a_naive_recount(store: Store, url: String) {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    use serde_json::Value;
    let snap = seed(&store).await;
    let scheme = MonitoringScheme::census2021().unwrap();
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(park_answers(), 0..40);
    for case in 0..6 {
        let sent = strategy.new_tree(&mut runner).unwrap().current();
        let c = snap.consultation(
            "tamworth",
            &format!("Park {case}"),
            "2026-01-01",
            "2026-03-31",
            Status::Approved,
        );
        store
            .import_consultations(std::slice::from_ref(&c), &admin())
            .await
            .unwrap();
        let q = store
            .save_questionnaire(
                &admin(),
                now(),
                c.id,
                &park_questionnaire(),
                0,
                consult_store::QuestionnaireChange::Set,
            )
            .await
            .unwrap();
        // Every third respondent gives no area; the others one of two districts.
        let area_of = |i: usize| [Some("E07000199"), Some("E07000243"), None][i % 3];
        let responses: Vec<Response> = sent
            .iter()
            .enumerate()
            .map(|(i, (answers, sex))| {
                let input = ResponseInput {
                    area: area_of(i).map(Into::into),
                    answers: answers.clone(),
                    monitoring: sex
                        .map(|s| [("sex".to_owned(), s.to_owned())].into())
                        .unwrap_or_default(),
                    comments: Some("A comment".into()),
                    ..Default::default()
                };
                Response::parse_answered(Uuid::now_v7(), c.id, input, &scheme, Some(&q), Some("Olu"), now()).unwrap()
            })
            .collect();
        // Half one at a time, half in bulk: both paths store the same rows.
        let (one, bulk) = responses.split_at(responses.len() / 2);
        for r in one {
            store.insert_response(r, None).await.unwrap();
        }
        store.insert_responses(bulk).await.unwrap();

        let check = |label: &str, a: &Analysis, sent: &[&BTreeMap<String, Value>]| {
            let q = |k: &str| a.questions.iter().find(|q| q.key == k).unwrap();
            let answered = |k: &str| sent.iter().filter(|s| s.contains_key(k)).count() as u64;
            for k in ["visit", "uses", "satisfaction", "priorities", "age", "agree", "ideas"] {
                assert_eq!(q(k).answered, Some(answered(k)), "{label}: {k}");
            }
            let chose = |k: &str, option: &str| {
                sent.iter()
                    .filter(|s| match s.get(k) {
                        Some(Value::String(o)) => o == option,
                        Some(Value::Array(list)) => list
                            .iter()
                            .any(|v| v.as_str() == Some(option) || (option == "other" && v.is_object())),
                        Some(Value::Object(_)) => option == "other",
                        _ => false,
                    })
                    .count() as u64
            };
            for k in ["visit", "uses"] {
                for o in q(k).options.as_ref().unwrap() {
                    assert_eq!(o.count, Some(chose(k, &o.key)), "{label}: {k}.{}", o.key);
                }
            }
            let values = |k: &str| -> Vec<f64> { sent.iter().filter_map(|s| s.get(k)?.as_f64()).collect() };
            for k in ["satisfaction", "age"] {
                assert_eq!((q(k).mean, q(k).median), naive_mean_median(values(k)), "{label}: {k}");
            }
            for r in q("priorities").ranking.as_ref().unwrap() {
                let ranks: Vec<f64> = sent
                    .iter()
                    .filter_map(|s| s.get("priorities")?.as_array().cloned())
                    .filter_map(|l| {
                        l.iter()
                            .position(|v| v.as_str() == Some(&r.key))
                            .map(|p| p as f64 + 1.0)
                    })
                    .collect();
                let first = ranks.iter().filter(|p| **p == 1.0).count() as u64;
                assert_eq!(
                    (r.mean_rank, r.first),
                    (naive_mean_median(ranks).0, Some(first)),
                    "{label}: {}",
                    r.key
                );
            }
            for st in q("agree").statements.as_ref().unwrap() {
                let points: Vec<f64> = sent
                    .iter()
                    .filter_map(|s| s.get("agree")?.get(&st.key)?.as_f64())
                    .collect();
                assert_eq!(st.answered, Some(points.len() as u64), "{label}");
                assert_eq!((st.mean, st.median), naive_mean_median(points), "{label}: {}", st.key);
            }
        };
        let all: Vec<&BTreeMap<String, Value>> = sent.iter().map(|(a, _)| a).collect();
        let counts = store.analysis_counts(c.id).await.unwrap();
        assert_eq!(counts.respondents, sent.len() as u64);
        check(&format!("case {case}"), &analyse(&q, &counts), &all);
        for (group, counts) in store
            .analysis_counts_by(c.id, consult_store::Breakdown::Characteristic("sex"))
            .await
            .unwrap()
        {
            let members: Vec<&BTreeMap<String, Value>> = sent
                .iter()
                .filter(|(_, sex)| sex.unwrap_or(consult_store::NOT_ANSWERED) == group)
                .map(|(a, _)| a)
                .collect();
            assert_eq!(counts.respondents, members.len() as u64, "case {case} {group}");
            check(&format!("case {case} {group}"), &analyse(&q, &counts), &members);
        }
        for (group, counts) in store
            .analysis_counts_by(c.id, consult_store::Breakdown::Area)
            .await
            .unwrap()
        {
            let members: Vec<&BTreeMap<String, Value>> = sent
                .iter()
                .enumerate()
                .filter(|(i, _)| area_of(*i).unwrap_or(consult_store::NOT_ANSWERED) == group)
                .map(|(_, (a, _))| a)
                .collect();
            assert_eq!(counts.respondents, members.len() as u64, "case {case} area {group}");
            check(&format!("case {case} area {group}"), &analyse(&q, &counts), &members);
        }
        // Migration 0032 counts the areas of responses stored before it from their rows: the
        // same tallies as those kept as responses are stored.
        let kept = store
            .analysis_counts_by(c.id, consult_store::Breakdown::Area)
            .await
            .unwrap();
        let script = if url.starts_with("sqlite:") {
            include_str!("../migrations/sqlite/0032_area_tallies.sql")
        } else {
            include_str!("../migrations/postgres/0032_area_tallies.sql")
        };
        run_script(&url, "DELETE FROM answer_tallies WHERE characteristic = '@area'").await;
        run_script(&url, script).await;
        let backfilled = store
            .analysis_counts_by(c.id, consult_store::Breakdown::Area)
            .await
            .unwrap();
        assert_eq!(format!("{backfilled:?}"), format!("{kept:?}"), "case {case}: backfill");
    }
}

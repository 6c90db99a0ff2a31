//! The principles checklist and the approval gate over HTTP: refused with 409 and the failing
//! checks, approved once the plan is fixed, and an override that is audited and public.

use consult_tests::{TestApp, consultation};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn outcome(assessment: &Value, id: &str) -> String {
    assessment["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {assessment}"))["outcome"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_both!(approval_gate_fix_and_override);
async fn approval_gate_fix_and_override(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    // Twelve weeks, but the decision is taken before it closes and nothing says what cannot change.
    let mut body = consultation("tamworth", "Leisure centre future", 10, 84);
    body["decision_date"] = json!("2026-03-01");
    body["cannot_change"] = json!([]);
    let (s, created) = app.post("/api/v1/consultations", Some(&tamworth), body).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_owned();
    let path = |rest: &str| format!("/api/v1/consultations/{id}{rest}");

    // The officer sees the checklist before submitting; the public and other officers cannot.
    let (s, a) = app.get(&path("/assessment"), Some(&tamworth)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        a["frameworks"],
        json!([
            { "key": "code_2008", "version": 1, "name": "Code of Practice on Consultation (2008)" },
            { "key": "gunning", "version": 1, "name": "The Gunning principles" }
        ])
    );
    assert_eq!(outcome(&a, "gunning/closes_before_decision"), "fail");
    assert_eq!(outcome(&a, "code_2008/scope_stated"), "fail");
    assert_eq!(outcome(&a, "gunning/enough_information"), "unanswered");
    assert_eq!(
        (a["ready"].as_bool(), a["approvable"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(app.get(&path("/assessment"), None).await.0, StatusCode::UNAUTHORIZED);
    // Another organisation's draft: not found for its officers.
    assert_eq!(
        app.get(&path("/assessment"), Some(&police)).await.0,
        StatusCode::NOT_FOUND
    );

    // Submitted, then refused with the failing blocking checks.
    let to = |status: &str| json!({ "to": status });
    assert_eq!(
        app.post(&path("/transitions"), Some(&tamworth), to("submitted"))
            .await
            .0,
        StatusCode::OK
    );
    let (s, refused) = app
        .post(&path("/transitions"), Some(&app.coordinator), to("approved"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    insta::assert_json_snapshot!("approval_refused", refused);

    // Back to draft, fixed, answered, resubmitted: approved.
    let back = json!({ "to": "draft", "reason": "The decision date and scope need fixing" });
    assert_eq!(
        app.post(&path("/transitions"), Some(&app.coordinator), back).await.0,
        StatusCode::OK
    );
    let fix = json!({ "decision_date": "2026-06-01", "cannot_change": ["The site of the leisure centre"] });
    assert_eq!(app.patch(&path(""), Some(&tamworth), fix).await.0, StatusCode::OK);
    let answers = json!({ "answers": [
        { "check": "gunning/enough_information", "answer": "yes", "evidence": "Options appraisal and costs published" },
        { "check": "gunning/reported_to_decision_maker", "answer": "yes", "evidence": "Report to cabinet in May" }
    ]});
    let (s, a) = app.put(&path("/attestations"), Some(&tamworth), answers).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(outcome(&a, "gunning/closes_before_decision"), "pass");
    assert_eq!(outcome(&a, "gunning/enough_information"), "pass");
    assert_eq!(a["approvable"], true);
    let (s, bad) = app
        .put(
            &path("/attestations"),
            Some(&tamworth),
            json!({ "answers": [{ "check": "gunning/closes_before_decision", "answer": "yes", "evidence": "x" }] }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"][0]["field"], "answers[0].check");
    assert_eq!(
        app.post(&path("/transitions"), Some(&tamworth), to("submitted"))
            .await
            .0,
        StatusCode::OK
    );
    let (s, approved) = app
        .post(&path("/transitions"), Some(&app.coordinator), to("approved"))
        .await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    assert_eq!(approved["approval"]["by"], "Cora Coordinator");
    assert_eq!(approved["approval"]["override"], Value::Null);
    // Answers are closed once approved.
    let late = json!({ "answers": [{ "check": "code_2008/capacity_and_advice", "answer": "yes", "evidence": "x" }] });
    assert_eq!(
        app.put(&path("/attestations"), Some(&tamworth), late).await.0,
        StatusCode::CONFLICT
    );

    // Another activity approved with an override: audited and on the public record.
    let mut rushed = consultation("tamworth", "Emergency bus changes", 7, 14);
    rushed["decision_date"] = json!("2026-01-25");
    let (_, created) = app.post("/api/v1/consultations", Some(&tamworth), rushed).await;
    let rid = created["id"].as_str().unwrap().to_owned();
    let rpath = |rest: &str| format!("/api/v1/consultations/{rid}{rest}");
    assert_eq!(
        app.post(&rpath("/transitions"), Some(&tamworth), to("submitted"))
            .await
            .0,
        StatusCode::OK
    );
    let officer_override = json!({ "to": "approved", "override": "Operator withdrew the service" });
    assert_eq!(
        app.post(&rpath("/transitions"), Some(&tamworth), officer_override)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let with_override = json!({ "to": "approved", "override": "The operator withdraws the service on 1 February; the decision cannot wait" });
    let (s, body) = app
        .post(&rpath("/transitions"), Some(&app.coordinator), with_override)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, public) = app.get(&rpath(""), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        public["approval"]["override"],
        "The operator withdraws the service on 1 February; the decision cannot wait"
    );
    let failing: Vec<&str> = public["approval"]["assessment"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "fail")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failing,
        [
            "code_2008/scope_to_influence",
            "code_2008/twelve_weeks",
            "gunning/closes_before_decision",
            "gunning/time_to_consider"
        ]
    );
    let history = public["status_history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["override"], public["approval"]["override"]);
    let (_, audit) = app.get(&rpath("/audit"), Some(&app.coordinator)).await;
    assert!(
        audit["items"][0]["detail"]
            .to_string()
            .contains("The operator withdraws the service")
    );
}

on_both!(frameworks_and_organisation_choices);
async fn frameworks_and_organisation_choices(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let (s, all) = app.get("/api/v1/frameworks", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 7);
    let (_, oxon) = app.get("/api/v1/frameworks/oxfordshire", None).await;
    assert_eq!(oxon["principles"].as_array().unwrap().len(), 6);

    // An organisation's own charter, in two versions.
    let charter = json!({
        "key": "tamworth_charter", "version": 1, "name": "Tamworth customer charter", "source": "Tamworth 2026",
        "principles": [{ "key": "plain_english", "name": "Plain English", "description": "Write plainly",
            "checks": [{ "key": "summary", "text": "A plain summary", "severity": "blocking",
                "rule": { "kind": "scope_stated", "fields": ["summary"] } }] }]
    });
    assert_eq!(
        app.post("/api/v1/frameworks", Some(&tamworth), charter.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v1) = app
        .post("/api/v1/frameworks", Some(&app.coordinator), charter.clone())
        .await;
    assert_eq!((s, v1["version"].as_u64()), (StatusCode::CREATED, Some(1)));
    let mut v2 = charter.clone();
    v2["name"] = json!("Tamworth customer charter (revised)");
    let (_, v2) = app.post("/api/v1/frameworks", Some(&app.coordinator), v2).await;
    assert_eq!(v2["version"], 2);
    let mut clash = charter.clone();
    clash["key"] = json!("gunning");
    assert_eq!(
        app.post("/api/v1/frameworks", Some(&app.coordinator), clash).await.0,
        StatusCode::CONFLICT
    );
    let mut broken = charter;
    broken["principles"][0]["checks"][0]["rule"] =
        json!({ "kind": "minimum_duration", "min_days": 0, "below": "fail" });
    let (s, p) = app.post("/api/v1/frameworks", Some(&app.coordinator), broken).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "principles[0].checks[0].rule.min_days");

    // Tamworth adopts its charter and Oxfordshire's six, with a pre-election period.
    let (s, c) = app.get("/api/v1/organisations/tamworth/checklist", None).await;
    assert_eq!(
        (s, c["frameworks"].clone()),
        (StatusCode::OK, json!(["code_2008", "gunning"]))
    );
    let settings = json!({
        "frameworks": ["tamworth_charter", "oxfordshire", "gunning"],
        "election_periods": [{ "name": "Borough elections 2026", "starts_on": "2026-03-23", "ends_on": "2026-05-07" }]
    });
    assert_eq!(
        app.put(
            "/api/v1/organisations/tamworth/checklist",
            Some(&tamworth),
            settings.clone()
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, c) = app
        .put(
            "/api/v1/organisations/tamworth/checklist",
            Some(&app.coordinator),
            settings,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let bad = json!({ "frameworks": ["nonesuch"], "election_periods": [{ "name": "", "starts_on": "2026-05-07", "ends_on": "2026-03-23" }] });
    let (s, p) = app
        .put("/api/v1/organisations/tamworth/checklist", Some(&app.coordinator), bad)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "frameworks[0]",
            "election_periods[0].name",
            "election_periods[0].ends_on"
        ]
    );

    // New assessments use the newest version of each adopted framework.
    let (_, created) = app
        .post(
            "/api/v1/consultations",
            Some(&tamworth),
            consultation("tamworth", "Parks", 80, 90),
        )
        .await;
    let (_, a) = app
        .get(
            &format!("/api/v1/consultations/{}/assessment", created["id"].as_str().unwrap()),
            Some(&tamworth),
        )
        .await;
    let used: Vec<(String, u64)> = a["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["key"].as_str().unwrap().to_owned(), f["version"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        used,
        [
            ("gunning".to_owned(), 1),
            ("oxfordshire".to_owned(), 1),
            ("tamworth_charter".to_owned(), 2)
        ]
    );
    assert_eq!(outcome(&a, "tamworth_charter/summary"), "pass");
    assert_eq!(outcome(&a, "oxfordshire/genuine_reason"), "unanswered");

    // With the 2008 Code adopted again, launching in the pre-election period fails.
    let settings = json!({
        "frameworks": ["code_2008"],
        "election_periods": [{ "name": "Borough elections 2026", "starts_on": "2026-03-23", "ends_on": "2026-05-07" }]
    });
    app.put(
        "/api/v1/organisations/tamworth/checklist",
        Some(&app.coordinator),
        settings,
    )
    .await;
    let (_, a) = app
        .get(
            &format!("/api/v1/consultations/{}/assessment", created["id"].as_str().unwrap()),
            Some(&tamworth),
        )
        .await;
    assert_eq!(outcome(&a, "code_2008/not_in_election_period"), "fail");
}

//! Duplication detection over HTTP and the CLI: drafts checked against the partnership's
//! register, findings on stored activities, dismissals feeding the checklist, and a second server
//! instance that sees the first one's writes.

use consult_tests::{TestApp, consultation};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn county_budget() -> Value {
    let mut b = consultation("staffordshire", "Staffordshire budget consultation 2027/28", -3, 84);
    b["summary"] = json!("The county council's proposals for next year's budget, including social care and highways");
    b["topics"] = json!(["budget", "council tax"]);
    b["audience"] = json!({ "groups": ["residents", "council_tax_payers"], "areas": ["E10000028"] });
    b
}

fn borough_budget() -> Value {
    let mut b = consultation("tamworth", "Budget and council tax consultation 2027/28", 0, 84);
    b["summary"] = json!("Tell us which services matter most as we set next year's budget and council tax");
    b["topics"] = json!(["budget", "council tax"]);
    b["audience"] = json!({ "groups": ["residents", "council_tax_payers", "businesses"], "areas": ["E07000199"] });
    b
}

fn youth_forum() -> Value {
    let mut b = consultation("tamworth", "Youth forum: what matters to young people", 0, 84);
    b["summary"] = json!("Young people tell us about activities, safety and getting around");
    b["topics"] = json!(["young people", "youth"]);
    b["audience"] = json!({ "groups": ["children_and_young_people"], "areas": ["E07000199"] });
    b["level"] = json!("involve");
    b
}

fn waste() -> Value {
    let mut b = consultation("tamworth", "Recycling and waste collection changes", 0, 84);
    b["summary"] = json!("Proposed changes to bin collection days and a new food waste service");
    b["topics"] = json!(["recycling", "waste"]);
    b
}

async fn register(app: &TestApp, token: &str, body: Value, approve: bool) -> String {
    app.register_activity(token, body, approve).await
}

fn titles(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap().to_owned())
        .collect()
}

on_both!(overlaps_across_the_partnership);
async fn overlaps_across_the_partnership(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let org = json!({ "slug": "staffordshire", "name": "Staffordshire County Council", "kind": "council" });
    assert_eq!(
        app.post("/api/v1/organisations", Some(&app.admin), org).await.0,
        StatusCode::CREATED
    );
    let county = register(app, &app.coordinator, county_budget(), true).await;
    register(app, &tamworth, youth_forum(), true).await;
    // A partner's unpublished draft on the same subject.
    let mut police_draft = borough_budget();
    police_draft["organisation"] = json!("police");
    police_draft["title"] = json!("Police budget and precept consultation 2027/28");
    register(app, &police, police_draft, false).await;

    // Checking a draft before registering it: the county budget is found, the youth forum is not.
    let (s, report) = app
        .post("/api/v1/checks/overlap", Some(&tamworth), borough_budget())
        .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let first = &report["findings"][0];
    assert_eq!(first["consultation_id"], county.as_str());
    assert_eq!(first["organisation"], "staffordshire");
    assert_eq!(first["suggestion"], "join_up");
    for factor in ["score", "subject", "audience", "time"] {
        let x = first[factor].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x) && x > 0.0, "{factor} {x}");
    }
    assert!(!titles(&report).iter().any(|t| t.starts_with("Youth")), "{report}");
    assert!(
        !titles(&report).iter().any(|t| t.starts_with("Police")),
        "a partner's draft is not shown to officers"
    );
    let (_, as_coordinator) = app
        .post("/api/v1/checks/overlap", Some(&app.coordinator), borough_budget())
        .await;
    assert!(
        titles(&as_coordinator).iter().any(|t| t.starts_with("Police")),
        "coordinators see every plan"
    );
    let (_, unrelated) = app.post("/api/v1/checks/overlap", Some(&tamworth), waste()).await;
    assert!(
        !titles(&unrelated).iter().any(|t| t.starts_with("Youth")),
        "{unrelated}"
    );
    assert_eq!(
        app.post("/api/v1/checks/overlap", None, borough_budget()).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Registered, the finding counts against the checklist until it is dismissed with a reason.
    let id = register(app, &tamworth, borough_budget(), false).await;
    let (s, findings) = app
        .get(&format!("/api/v1/consultations/{id}/overlaps"), Some(&tamworth))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(findings["findings"][0]["consultation_id"], county.as_str());
    assert_eq!(findings["findings"][0]["dismissal"], Value::Null);
    let outcome = |a: &Value| {
        a["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "code_2008/no_duplication")
            .unwrap()
            .clone()
    };
    let (_, a) = app
        .get(&format!("/api/v1/consultations/{id}/assessment"), Some(&tamworth))
        .await;
    let check = outcome(&a);
    assert_eq!(check["outcome"], "fail");
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("Staffordshire budget consultation 2027/28"),
        "{check}"
    );

    let path = format!("/api/v1/consultations/{id}/overlaps/{county}/dismissal");
    let (s, p) = app.put(&path, Some(&tamworth), json!({ "reason": "" })).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    // Another organisation's draft: not found for its officers.
    let (s, _) = app.put(&path, Some(&police), json!({ "reason": "not mine" })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let reason = "Agreed with the county: a joint leaflet, separate questions on district services";
    let (s, after) = app.put(&path, Some(&tamworth), json!({ "reason": reason })).await;
    assert_eq!(s, StatusCode::OK, "{after}");
    assert_eq!(after["findings"][0]["dismissal"]["reason"], reason);
    let (_, a) = app
        .get(&format!("/api/v1/consultations/{id}/assessment"), Some(&tamworth))
        .await;
    assert_eq!(outcome(&a)["outcome"], "pass");
    let (_, audit) = app
        .get(&format!("/api/v1/consultations/{id}/audit"), Some(&tamworth))
        .await;
    assert_eq!(audit["items"][0]["action"], "consultation.dismiss_overlap");
    let unknown = format!("/api/v1/consultations/{id}/overlaps/{}/dismissal", uuid::Uuid::now_v7());
    assert_eq!(
        app.put(&unknown, Some(&tamworth), json!({ "reason": "x" })).await.0,
        StatusCode::NOT_FOUND
    );

    // A second instance on the same database sees writes made through the first.
    let second = app.second_instance().await;
    let client = reqwest::Client::new();
    let ask = |body: Value| {
        client
            .post(format!("{second}/api/v1/checks/overlap"))
            .bearer_auth(&tamworth)
            .json(&body)
            .send()
    };
    let before: Value = ask(waste()).await.unwrap().json().await.unwrap();
    assert!(!titles(&before).iter().any(|t| t.contains("food waste")));
    let mut food = waste();
    food["title"] = json!("Food waste collections trial");
    register(app, &tamworth, food, true).await;
    let after: Value = ask(waste()).await.unwrap().json().await.unwrap();
    assert!(
        titles(&after).iter().any(|t| t == "Food waste collections trial"),
        "{after}"
    );
}

on_both!(cli_overlap);
async fn cli_overlap(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let org = json!({ "slug": "staffordshire", "name": "Staffordshire County Council", "kind": "council" });
    app.post("/api/v1/organisations", Some(&app.admin), org).await;
    let county = register(app, &app.coordinator, county_budget(), true).await;
    let id = register(app, &tamworth, borough_budget(), false).await;
    let out = app.cli(&["overlap", &id, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found[0]["consultation_id"], county.as_str());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    std::fs::write(&file, serde_json::to_vec(&borough_budget()).unwrap()).unwrap();
    let out = app.cli(&["overlap", "--file", file.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("join_up") && table.contains("Staffordshire budget"),
        "{table}"
    );
}

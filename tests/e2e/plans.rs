//! Consultation plans: service plans, the recurring programme, the council-wide plan compiled
//! against what was registered, and its six-monthly reviews; over HTTP and the CLI.

use consult_tests::{TestApp, consultation};
use reqwest::StatusCode;
use serde_json::json;

on_both!(plans_and_the_council_plan);
async fn plans_and_the_council_plan(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    for service in ["Parks", "Corporate"] {
        let (s, b) = app
            .post(
                "/api/v1/organisations/tamworth/services",
                Some(&tamworth),
                json!({ "name": service }),
            )
            .await;
        assert!(s.is_success(), "{b}");
    }
    let mut body = consultation("tamworth", "Play areas consultation", -2, 20);
    body["service"] = json!("Parks");
    let play = app.register_activity(&tamworth, body, true).await;
    let draft = app
        .register_activity(&tamworth, consultation("tamworth", "Unplanned draft", 30, 20), false)
        .await;

    // A service plan: checked field by field; only the organisation's officers and coordinators.
    let path = "/api/v1/organisations/tamworth/plans/2026/services/Parks";
    let plan = json!({ "agreed": true, "entries": [
        { "title": "Play areas", "level": "involve", "month": 1, "consultation_id": play },
        { "title": "Allotments", "level": "consult", "month": 9, "methods": ["online_survey"] } ] });
    assert_eq!(
        app.put(path, Some(&police), plan.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, p) = app
        .put(
            path,
            Some(&tamworth),
            json!({ "entries": [ { "title": "x", "level": "shout", "month": 13 } ] }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["entries[0].level", "entries[0].month"]);
    assert_eq!(
        app.put(
            "/api/v1/organisations/tamworth/plans/2026/services/Libraries",
            Some(&tamworth),
            plan.clone()
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (s, saved) = app.put(path, Some(&tamworth), plan).await;
    assert_eq!(
        (s, saved["entries"].as_array().unwrap().len()),
        (StatusCode::OK, 2),
        "{saved}"
    );
    assert_eq!(app.get(path, None).await.1["agreed"], true);

    // The recurring programme (coordinators) puts its entries in the year's plan.
    let programme = json!({ "items": [
        { "title": "Budget consultation", "service": "Corporate", "every": "yearly", "since": 2020, "month": 10, "level": "consult" },
        { "title": "Residents' survey", "service": "Corporate", "every": "biennial", "since": 2025, "month": 6, "level": "research" },
        { "title": "Citizens' panel", "service": "Corporate", "every": "quarterly", "since": 2024, "month": 2, "level": "consult" } ] });
    assert_eq!(
        app.put(
            "/api/v1/organisations/tamworth/programme",
            Some(&tamworth),
            programme.clone()
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, p) = app
        .put(
            "/api/v1/organisations/tamworth/programme",
            Some(&app.coordinator),
            json!({ "items": [ { "title": "x", "service": "Nowhere", "every": "yearly", "since": 2020, "month": 1, "level": "consult" } ] }),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("items[0].service"))
    );
    let (s, _) = app
        .put(
            "/api/v1/organisations/tamworth/programme",
            Some(&app.coordinator),
            programme,
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // The council-wide plan: the public sees published activities only; staff see the drafts.
    let (s, public) = app.get("/api/v1/organisations/tamworth/plans/2026", None).await;
    assert_eq!(s, StatusCode::OK, "{public}");
    let titles: Vec<(&str, &str)> = public["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["title"].as_str().unwrap(), l["source"].as_str().unwrap()))
        .collect();
    assert!(titles.contains(&("Play areas", "service_plan")), "{titles:?}");
    assert!(titles.contains(&("Budget consultation", "programme")));
    assert!(
        !titles.iter().any(|t| t.0.starts_with("Residents' survey")),
        "biennial: not in 2026"
    );
    assert_eq!(titles.iter().filter(|t| t.0.starts_with("Citizens' panel")).count(), 4);
    assert!(
        !titles.iter().any(|t| t.0 == "Unplanned draft"),
        "drafts are not public"
    );
    assert_eq!(public["delivered"], 1);
    assert_eq!(public["lines"][0]["status"], "open");
    let (_, staff) = app
        .get("/api/v1/organisations/tamworth/plans/2026", Some(&tamworth))
        .await;
    let unplanned: Vec<&str> = staff["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source"] == "unplanned")
        .map(|l| l["consultation_id"].as_str().unwrap())
        .collect();
    assert_eq!(unplanned, [draft.as_str()]);
    assert_eq!(staff["next_review_due"], "2026-06-30");
    assert_eq!(staff["review_overdue"], false);

    // Six-monthly reviews (coordinators): the mid-year one held, the year-end one next.
    let reviews = "/api/v1/organisations/tamworth/plans/2026/reviews";
    assert_eq!(
        app.post(reviews, Some(&tamworth), json!({ "half": 1, "notes": "x" }))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (s, p) = app.post(reviews, Some(&app.coordinator), json!({ "half": 3 })).await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!((s, fields), (StatusCode::UNPROCESSABLE_ENTITY, vec!["half", "notes"]));
    let (s, reviewed) = app
        .post(
            reviews,
            Some(&app.coordinator),
            json!({ "half": 1, "notes": "On track; allotments moved to September." }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{reviewed}");
    assert_eq!(reviewed["next_review_due"], "2026-12-31");
    assert_eq!(
        reviewed["reviews"][0]["notes"],
        "On track; allotments moved to September."
    );

    // The CLI shows the plan and records service plans and reviews.
    let out = app.cli(&["plan", "show", "tamworth", "2026", "--format", "csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Corporate,Budget consultation,consult,programme"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    std::fs::write(
        &file,
        json!({ "entries": [ { "title": "Sunday markets", "level": "consult" } ] }).to_string(),
    )
    .unwrap();
    let out = app.cli(&[
        "plan",
        "service",
        "tamworth",
        "2027",
        "Corporate",
        "--file",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        app.get("/api/v1/organisations/tamworth/plans/2027/services/Corporate", None)
            .await
            .1["entries"][0]["title"],
        "Sunday markets"
    );
    std::fs::write(&file, json!({ "entries": [ { "title": "x" } ] }).to_string()).unwrap();
    let out = app.cli(&[
        "plan",
        "service",
        "tamworth",
        "2027",
        "Corporate",
        "--file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = app.cli(&[
        "plan",
        "review",
        "tamworth",
        "2026",
        "--half",
        "2",
        "--notes",
        "Year closed",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(app.get("/api/v1/organisations/tamworth/plans/2026", None).await.1["next_review_due"].is_null());
}

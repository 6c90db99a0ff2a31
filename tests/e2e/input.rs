//! Input rules (docs/DOMAIN.md, "Input rules"): control characters, invisible titles, dates out
//! of range, unknown query parameters and unbalanced CSV quotes each get a clear 4xx naming what
//! is at fault, on both databases (PostgreSQL refuses NUL in text: none of these may be a 500),
//! and nothing is stored.

use consult_tests::{TestApp, consultation};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The field the first error names.
fn field(p: &Value) -> &str {
    p["errors"][0]["field"].as_str().unwrap_or_default()
}

on_both!(control_characters_are_refused_everywhere);
async fn control_characters_are_refused_everywhere(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", 5, 30), false)
        .await;
    let before = app.store.counts().await.unwrap();

    // Body fields, wherever they go: each a 422 naming the field.
    let token = json!({ "name": "Night\u{0}shift", "role": "coordinator" });
    let (s, p) = app.post("/api/v1/tokens", Some(&app.admin), token).await;
    assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "name"), "{p}");

    let mut c = consultation("tamworth", "Budget\u{0}", 5, 30);
    c["summary"] = json!("fine\r\nbut \u{1b}[31m red");
    let (s, p) = app.post("/api/v1/consultations", Some(&tamworth), c).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(field(&p) == "title" || field(&p) == "summary", "{p}");

    let transition = json!({ "to": "withdrawn", "reason": "gone\u{0}" });
    let (s, p) = app
        .post(
            &format!("/api/v1/consultations/{id}/transitions"),
            Some(&tamworth),
            transition,
        )
        .await;
    assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "reason"), "{p}");

    let baseline = json!({ "area": "E07000199", "name": "Tam\u{0}worth", "counts": { "sex": { "female": 10 } } });
    let (s, p) = app.post("/api/v1/baselines", Some(&app.coordinator), baseline).await;
    assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "name"), "{p}");

    let review = json!({ "half": 1, "notes": "all\u{0}done" });
    let (s, p) = app
        .post(
            "/api/v1/organisations/tamworth/plans/2026/reviews",
            Some(&app.coordinator),
            review,
        )
        .await;
    assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "notes"), "{p}");

    let remark = json!({ "kind": "comment", "body": "a lone\rcarriage return" });
    let (s, p) = app
        .post(&format!("/api/v1/consultations/{id}/remarks"), None, remark)
        .await;
    assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "body"), "{p}");

    // Query parameters: a 422 naming the parameter.
    for path in [
        "/api/v1/consultations?q=%00",
        "/api/v1/library?q=%00",
        "/api/v1/forward-plan?topic=a%1Bb",
    ] {
        let (s, p) = app.get(path, Some(&tamworth)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {p}");
        assert!(["q", "topic"].contains(&field(&p)), "{path}: {p}");
    }
    // A path parameter names no resource.
    let (s, p) = app.get("/api/v1/organisations/tam%00worth", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
    // The hub: a 400 page.
    let res = app
        .client
        .get(format!("{}/register?q=%00", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    assert_eq!(app.store.counts().await.unwrap(), before, "bad input stores nothing");

    // Line ends in multi-line text are kept.
    let mut c = consultation("tamworth", "Parks", 5, 30);
    c["summary"] = json!("first\r\nsecond\n\tthird");
    let (s, p) = app.post("/api/v1/consultations", Some(&tamworth), c).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
}

on_both!(invisible_titles_are_blank);
async fn invisible_titles_are_blank(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let before = app.store.counts().await.unwrap();
    for title in [
        "\u{200B}\u{200C}\u{200D}",
        "\u{FEFF}\u{2060}",
        "\u{202E}\u{2066}",
        "Invoice\u{202E}fdp.exe",
    ] {
        let (s, p) = app
            .post(
                "/api/v1/consultations",
                Some(&tamworth),
                consultation("tamworth", title, 5, 30),
            )
            .await;
        assert_eq!(
            (s, field(&p)),
            (StatusCode::UNPROCESSABLE_ENTITY, "title"),
            "{title:?}: {p}"
        );
    }
    assert_eq!(app.store.counts().await.unwrap(), before);
}

on_both!(dates_out_of_range_are_refused);
async fn dates_out_of_range_are_refused(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let before = app.store.counts().await.unwrap();
    let mut c = consultation("tamworth", "Forever", 5, 30);
    c["closes_on"] = json!("9999-12-31");
    let (s, p) = app.post("/api/v1/consultations", Some(&tamworth), c).await;
    assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "closes_on"), "{p}");
    let mut c = consultation("tamworth", "Long ago", 5, 30);
    c["decision_date"] = json!("1066-10-14");
    let (s, p) = app.post("/api/v1/consultations", Some(&tamworth), c).await;
    assert_eq!(
        (s, field(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, "decision_date"),
        "{p}"
    );

    for path in [
        "/api/v1/forward-plan?from=0001-01-01",
        "/api/v1/consultations?to=3000-01-01",
    ] {
        let (s, p) = app.get(path, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {p}");
        assert!(["from", "to"].contains(&field(&p)), "{path}: {p}");
    }

    let settings = json!({ "frameworks": ["gunning"], "election_periods": [
        { "name": "Far future", "starts_on": "9999-01-01", "ends_on": "9999-12-31" } ] });
    let (s, p) = app
        .put(
            "/api/v1/organisations/tamworth/checklist",
            Some(&app.coordinator),
            settings,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p.to_string().contains("election_periods[0].starts_on"), "{p}");
    assert_eq!(app.store.counts().await.unwrap(), before);
}

on_both!(unknown_query_parameters_are_refused);
async fn unknown_query_parameters_are_refused(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let (s, p) = app.get("/api/v1/consultations?colour=blue&status=open", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{p}");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("`colour`") && detail.contains("`status`"), "{detail}");
    // An address without parameters takes none (the public cache is not bypassed either).
    let (s, p) = app.get("/api/v1/methods?nocache=1", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("takes no query parameters"),
        "{p}"
    );
    let (s, p) = app
        .post(
            "/api/v1/consultations?dry_run=true",
            Some(&tamworth),
            consultation("tamworth", "Budget", 5, 30),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{p}");
    // Known ones still work.
    assert_eq!(
        app.get("/api/v1/consultations?status=open&limit=5", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/forward-plan?topic=parks", None).await.0,
        StatusCode::OK
    );

    // The hub: a 400 page naming the parameter, linking to the page without it.
    for (path, status) in [
        ("/register?utm_source=newsletter", StatusCode::BAD_REQUEST),
        ("/?x=1", StatusCode::BAD_REQUEST),
        ("/register?q=parks&topic=", StatusCode::OK),
        ("/results?q=parks", StatusCode::OK),
    ] {
        let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        let html = res.text().await.unwrap();
        if status == StatusCode::BAD_REQUEST {
            assert!(html.contains("unknown query parameter"), "{html}");
        }
    }
}

on_both!(survey_csv_with_an_unbalanced_quote_is_refused);
async fn survey_csv_with_an_unbalanced_quote_is_refused(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 30), true)
        .await;
    let csv = "Comments,Sex\n\"More evening hours,Female\nKeep it,Male\nFine,Male\nNo,Female\n";
    let mapping = json!({ "comments": "Comments", "columns": { "sex": "Sex" } });
    let (s, p) = app
        .post(
            &format!("/api/v1/consultations/{id}/responses/import"),
            Some(&tamworth),
            json!({ "mapping": mapping, "csv": csv }),
        )
        .await;
    assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "csv"), "{p}");
    assert!(p.to_string().contains("line 2"), "{p}");
    let (_, c) = app.get(&format!("/api/v1/consultations/{id}"), Some(&tamworth)).await;
    assert_eq!(c["response_count"], 0, "nothing is imported");

    // The same from the command line.
    let dir = tempfile::tempdir().unwrap();
    let (file, mapping_file) = (dir.path().join("survey.csv"), dir.path().join("mapping.json"));
    std::fs::write(&file, csv).unwrap();
    std::fs::write(&mapping_file, mapping.to_string()).unwrap();
    let out = app.cli(&[
        "responses",
        "import",
        &id,
        file.to_str().unwrap(),
        "--mapping",
        mapping_file.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    let (_, c) = app.get(&format!("/api/v1/consultations/{id}"), Some(&tamworth)).await;
    assert_eq!(c["response_count"], 0, "nothing is imported");
}

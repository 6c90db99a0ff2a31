//! The register over HTTP: create, list and filter, paginate, transitions, roles, forward plan.

use consult_tests::{TestApp, consultation};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn titles(body: &Value) -> Vec<String> {
    let mut t: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

async fn create(app: &TestApp, token: &str, body: Value) -> String {
    let (s, b) = app.post("/api/v1/consultations", Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "draft");
    b["id"].as_str().unwrap().to_owned()
}

async fn move_to(app: &TestApp, token: &str, id: &str, to: &str, reason: Option<&str>) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/consultations/{id}/transitions"),
        Some(token),
        json!({ "to": to, "reason": reason }),
    )
    .await
}

/// Records why a short activity runs for less than the 2008 Code's twelve weeks.
async fn justify_duration(app: &TestApp, officer: &str, id: &str) {
    let body = json!({ "answers": [{ "check": "code_2008/twelve_weeks", "answer": "yes", "evidence": "A short survey of an existing panel" }] });
    let (s, b) = app
        .put(&format!("/api/v1/consultations/{id}/attestations"), Some(officer), body)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// Sets aside every overlap finding, as an officer who has looked at them would.
async fn dismiss_overlaps(app: &TestApp, officer: &str, id: &str) {
    let (s, report) = app
        .get(&format!("/api/v1/consultations/{id}/overlaps"), Some(officer))
        .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    for f in report["findings"].as_array().unwrap() {
        let other = f["consultation_id"].as_str().unwrap();
        let path = format!("/api/v1/consultations/{id}/overlaps/{other}/dismissal");
        let (s, b) = app
            .put(
                &path,
                Some(officer),
                json!({ "reason": "Different people and questions" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
}

async fn approve(app: &TestApp, officer: &str, id: &str) {
    justify_duration(app, officer, id).await;
    dismiss_overlaps(app, officer, id).await;
    assert_eq!(move_to(app, officer, id, "submitted", None).await.0, StatusCode::OK);
    let (s, b) = move_to(app, &app.coordinator, id, "approved", None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

on_both!(register_lifecycle_end_to_end);
async fn register_lifecycle_end_to_end(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let id = create(app, &tamworth, consultation("tamworth", "Budget 2027", -5, 40)).await;

    // A draft is invisible to the public and to other organisations' officers.
    assert_eq!(
        app.get(&format!("/api/v1/consultations/{id}"), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/consultations/{id}"), Some(&police)).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, body) = app.get(&format!("/api/v1/consultations/{id}"), Some(&tamworth)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["organisation"]["slug"], "tamworth");
    assert_eq!(body["cost"]["amount"], 1500.0);

    // Edit the draft with a merge patch.
    let (s, body) = app
        .patch(
            &format!("/api/v1/consultations/{id}"),
            Some(&tamworth),
            json!({ "title": "Budget and council tax 2027", "topics": ["budget", "council tax"] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "Budget and council tax 2027");
    assert_eq!(body["version"], 2);
    assert_eq!(
        body["methods"],
        json!(["online_survey", "public_meeting"]),
        "fields not in the patch are kept"
    );

    // Officer justifies the short duration and submits; officer may not approve; coordinator approves.
    justify_duration(app, &tamworth, &id).await;
    assert_eq!(move_to(app, &tamworth, &id, "submitted", None).await.0, StatusCode::OK);
    let (s, p) = move_to(app, &tamworth, &id, "approved", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    // Edits after submission are refused.
    let (s, _) = app
        .patch(
            &format!("/api/v1/consultations/{id}"),
            Some(&tamworth),
            json!({ "title": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, body) = move_to(app, &app.coordinator, &id, "approved", None).await;
    assert_eq!(s, StatusCode::OK);
    // It opened five days ago: the client sees it open, with the scheduled opening in its history.
    assert_eq!(body["status"], "open");
    let history: Vec<(String, String, String)> = body["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["from"].as_str().unwrap().into(),
                h["to"].as_str().unwrap().into(),
                h["by"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("draft".into(), "submitted".into(), "Officer of tamworth".into()),
            ("submitted".into(), "approved".into(), "Cora Coordinator".into()),
            ("approved".into(), "open".into(), "schedule".into()),
        ]
    );
    // Now public.
    let (s, public) = app.get(&format!("/api/v1/consultations/{id}"), None).await;
    assert_eq!((s, public["status"].as_str()), (StatusCode::OK, Some("open")));

    // Illegal moves are 409 with the reason; closing early needs a reason (422).
    let (s, p) = move_to(app, &app.coordinator, &id, "results_published", None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("allowed from open: closed, withdrawn"),
        "{p}"
    );
    let (s, p) = move_to(app, &app.coordinator, &id, "closed", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "reason");
    let (s, body) = move_to(app, &app.coordinator, &id, "closed", Some("Budget timetable moved")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["status"], "closed");
    // Publishing results publishes the feedback: refused until there is some.
    assert_eq!(
        move_to(app, &app.coordinator, &id, "results_published", None).await.0,
        StatusCode::CONFLICT
    );
    let feedback = json!({ "items": [ { "theme": "Timing", "you_said": "Too soon", "we_did": "Moved the budget" } ] });
    let (s, f) = app
        .put(
            &format!("/api/v1/consultations/{id}/feedback"),
            Some(&tamworth),
            feedback,
        )
        .await;
    assert_eq!((s, f["published_on"].clone()), (StatusCode::OK, Value::Null), "{f}");
    assert_eq!(
        move_to(app, &app.coordinator, &id, "results_published", None).await.0,
        StatusCode::OK
    );

    // Every change is in the audit trail, newest first.
    let (s, audit) = app
        .get(&format!("/api/v1/consultations/{id}/audit"), Some(&tamworth))
        .await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "consultation.feedback",
            "consultation.feedback",
            "consultation.transition",
            "consultation.transition",
            "consultation.transition",
            "consultation.attest",
            "consultation.update",
            "consultation.create"
        ]
    );
    assert_eq!(
        app.get(&format!("/api/v1/consultations/{id}/audit"), Some(&police))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

on_both!(roles_and_organisation_scoping);
async fn roles_and_organisation_scoping(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    // No token: cannot write.
    let (s, _) = app
        .post("/api/v1/consultations", None, consultation("tamworth", "X", 1, 30))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Officers write only their own organisation's activities.
    let (s, p) = app
        .post(
            "/api/v1/consultations",
            Some(&police),
            consultation("tamworth", "X", 1, 30),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let id = create(app, &tamworth, consultation("tamworth", "Parks", 1, 30)).await;
    let path = format!("/api/v1/consultations/{id}");
    // Another organisation's draft is not theirs to see: not found, as if it did not exist.
    assert_eq!(
        app.patch(&path, Some(&police), json!({ "title": "Hijacked" })).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        move_to(app, &police, &id, "submitted", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        move_to(app, &police, &id, "withdrawn", Some("no")).await.0,
        StatusCode::NOT_FOUND
    );
    // An officer cannot move their own activity to another organisation.
    let (s, _) = app
        .patch(&path, Some(&tamworth), json!({ "organisation": "police" }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Nothing changed.
    let (_, body) = app.get(&path, Some(&app.coordinator)).await;
    assert_eq!(
        (body["title"].as_str(), body["version"].as_i64()),
        (Some("Parks"), Some(1))
    );
    // Coordinators act across organisations; only admins make organisations and tokens.
    let id2 = create(app, &app.coordinator, consultation("police", "Community safety", 1, 30)).await;
    assert_eq!(
        move_to(app, &app.coordinator, &id2, "submitted", None).await.0,
        StatusCode::OK
    );
    let org = json!({ "slug": "fire", "name": "Fire and Rescue", "kind": "partner" });
    assert_eq!(
        app.post("/api/v1/organisations", Some(&app.coordinator), org.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/organisations", Some(&tamworth), org.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/organisations", Some(&app.admin), org).await.0,
        StatusCode::CREATED
    );
    let tok = json!({ "name": "x", "role": "admin" });
    assert_eq!(
        app.post("/api/v1/tokens", Some(&app.coordinator), tok).await.0,
        StatusCode::FORBIDDEN
    );
    // Officers add areas? No: coordinators only.
    let area = json!({ "code": "E07000192", "name": "Cannock Chase", "parent": "E10000028" });
    assert_eq!(
        app.post("/api/v1/areas", Some(&tamworth), area.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/areas", Some(&app.coordinator), area).await.0,
        StatusCode::CREATED
    );
    // Officers see their own drafts in the register, not others'.
    let (_, mine) = app.get("/api/v1/consultations", Some(&tamworth)).await;
    assert_eq!(titles(&mine), ["Parks"]);
    let (_, theirs) = app.get("/api/v1/consultations", Some(&police)).await;
    assert_eq!(titles(&theirs), ["Community safety"]);
    let (_, public) = app.get("/api/v1/consultations", None).await;
    assert_eq!(titles(&public), Vec::<String>::new());
}

on_both!(filters_pagination_and_forward_plan);
async fn filters_pagination_and_forward_plan(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let mut research = consultation("tamworth", "Parks survey", 20, 30);
    research["level"] = json!("research");
    research["topics"] = json!(["Parks"]);
    research["audience"]["groups"] = json!(["tenants"]);
    let mut stevenage = consultation("police", "Stevenage safety", -10, 30);
    stevenage["audience"]["areas"] = json!(["E07000243"]);
    let mut county = consultation("police", "County-wide safety", 40, 30);
    county["audience"]["areas"] = json!(["E10000028"]);
    for (token, body) in [
        (&tamworth, consultation("tamworth", "Budget 2027", -5, 40)),
        (&tamworth, research),
        (&police, stevenage),
        (&police, county),
    ] {
        let title = body["title"].as_str().unwrap().to_owned();
        let id = create(app, token, body).await;
        approve(app, token, &id).await;
        if title == "Stevenage safety" {
            let (s, b) = move_to(app, &app.coordinator, &id, "closed", Some("Enough responses")).await;
            assert_eq!(s, StatusCode::OK, "{b}");
        }
    }
    create(app, &tamworth, consultation("tamworth", "Still a draft", 10, 30)).await;

    let q = |query: &str| format!("/api/v1/consultations?{query}");
    let (_, all) = app.get(&q(""), None).await;
    assert_eq!(
        titles(&all),
        ["Budget 2027", "County-wide safety", "Parks survey", "Stevenage safety"]
    );
    let cases: &[(&str, &[&str])] = &[
        ("status=open", &["Budget 2027"]),
        ("status=approved", &["County-wide safety", "Parks survey"]),
        ("status=closed", &["Stevenage safety"]),
        ("status=open,closed", &["Budget 2027", "Stevenage safety"]),
        ("level=research", &["Parks survey"]),
        ("organisation=police", &["County-wide safety", "Stevenage safety"]),
        ("area=E07000199", &["Budget 2027", "County-wide safety", "Parks survey"]),
        ("area=E10000028", &["Budget 2027", "County-wide safety", "Parks survey"]),
        ("area=E07000243", &["Stevenage safety"]),
        ("group=tenants", &["Parks survey"]),
        ("topic=parks", &["Parks survey"]),
        ("q=SAFETY", &["County-wide safety", "Stevenage safety"]),
        ("from=2026-02-20&to=2026-02-25", &["County-wide safety", "Parks survey"]),
    ];
    for (query, expected) in cases {
        let (s, body) = app.get(&q(query), None).await;
        assert_eq!(s, StatusCode::OK, "{query}: {body}");
        assert_eq!(titles(&body), *expected, "{query}");
    }

    // Pages of one, following next_cursor, give every item once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => q(&format!("limit=1&cursor={c}")),
            None => q("limit=1"),
        };
        let (s, body) = app.get(&path, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body["items"].as_array().unwrap().len() <= 1);
        seen.extend(titles(&body));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, titles(&all));

    // The forward plan: approved and open activities, by opening date.
    let (s, plan) = app
        .get("/api/v1/forward-plan?from=2026-01-01&to=2026-12-31", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let order: Vec<&str> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["Budget 2027", "Parks survey", "County-wide safety"]);
    let (_, plan) = app
        .get(
            "/api/v1/forward-plan?from=2026-01-01&to=2026-12-31&organisation=police",
            None,
        )
        .await;
    assert_eq!(titles(&plan), ["County-wide safety"]);
}

on_both!(continuum_catalogue_and_health);
async fn continuum_catalogue_and_health(app: &TestApp) {
    let (s, health) = app.get("/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    let (s, c) = app.get("/api/v1/continuum", None).await;
    assert_eq!(s, StatusCode::OK);
    let levels: Vec<&str> = c["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["inform", "research", "consult", "involve", "collaborate", "empower"]
    );
    let wilcox = c["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "wilcox")
        .unwrap();
    assert_eq!(wilcox["unmapped_levels"], json!(["research", "involve"]));
    let (_, methods) = app.get("/api/v1/methods", None).await;
    let focus = methods["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["slug"] == "focus_group")
        .unwrap();
    assert_eq!(focus["typical_levels"], json!(["research", "consult"]));
    let (_, areas) = app.get("/api/v1/areas", None).await;
    assert_eq!(areas["items"], json!([]));
}

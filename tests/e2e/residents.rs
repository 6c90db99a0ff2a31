//! The residents' register, targeted invitations and fatigue, over HTTP and the CLI.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn register_resident(app: &TestApp, body: Value) -> (String, String) {
    let (s, b) = app.post("/api/v1/residents", None, body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    (
        b["id"].as_str().unwrap().to_owned(),
        b["token"].as_str().unwrap().to_owned(),
    )
}

async fn as_resident(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.header("x-resident-token", t);
    }
    consult_tests::into_json(req.send().await.unwrap()).await
}

on_both!(residents_invitations_and_fatigue);
async fn residents_invitations_and_fatigue(app: &TestApp) {
    let (tamworth, _) = app.seed().await;

    // Registration is validated field by field, and nothing is stored when it fails.
    let (s, p) = app
        .post(
            "/api/v1/residents",
            None,
            json!({ "email": "nope", "channels": ["email"], "consent": false }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "consent"]);
    let resident = |email: &str, channel: &str, extra: Value| {
        let mut b = json!({ "email": email, "postal_address": "1 Market Street, Tamworth", "interests": ["Parks"],
            "areas": ["E07000199"], "channels": [channel], "consent": true });
        if let (Some(b), Some(extra)) = (b.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                b.insert(k.clone(), v.clone());
            }
        }
        b
    };
    let (ann, ann_token) = register_resident(app, resident("ann@example.org", "email", json!({}))).await;
    let (_bob, _) = register_resident(
        app,
        resident(
            "bob@example.org",
            "post",
            json!({ "interests": [], "groups": ["residents"] }),
        ),
    )
    .await;
    let (_cat, _) = register_resident(
        app,
        resident("cat@example.org", "email", json!({ "areas": ["E07000243"] })),
    )
    .await;
    let (dan, dan_token) = register_resident(app, resident("dan@example.org", "email", json!({}))).await;

    // A resident sees, exports and unsubscribes with their private token; others cannot.
    let me = format!("/api/v1/residents/{ann}");
    let (s, seen) = as_resident(app, Method::GET, &me, Some(&ann_token)).await;
    assert_eq!((s, seen["email"].as_str()), (StatusCode::OK, Some("ann@example.org")));
    assert_eq!(seen["interests"], json!(["parks"]));
    assert_eq!(
        as_resident(app, Method::GET, &me, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        as_resident(app, Method::GET, &me, Some(&dan_token)).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, _) = as_resident(
        app,
        Method::POST,
        &format!("/api/v1/residents/{dan}/unsubscribe"),
        Some(&dan_token),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // Tamworth's rules: at most two invitations a year, no minimum gap, three activities at once.
    let rules = json!({ "max_contacts": 2, "window_days": 365, "min_gap_days": 0, "max_concurrent": 3 });
    assert_eq!(
        app.put(
            "/api/v1/organisations/tamworth/fatigue-rules",
            Some(&tamworth),
            rules.clone()
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, _) = app
        .put(
            "/api/v1/organisations/tamworth/fatigue-rules",
            Some(&app.coordinator),
            rules,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let bad = json!({ "max_contacts": 0, "window_days": 365, "min_gap_days": 0, "max_concurrent": 3 });
    assert_eq!(
        app.put(
            "/api/v1/organisations/tamworth/fatigue-rules",
            Some(&app.coordinator),
            bad
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let mut ids = Vec::new();
    for n in 1..=3 {
        let mut body = consultation("tamworth", &format!("Parks and open spaces {n}"), -2, 30);
        body["topics"] = json!(["parks"]);
        ids.push(app.register_activity(&tamworth, body, true).await);
    }
    let invite = |id: &str, dry: bool| format!("/api/v1/consultations/{id}/invitations?dry_run={dry}");

    // Dry run: Ann (interest) and Bob (group) by their channels; Dan unsubscribed; Cat elsewhere.
    let (s, plan) = app
        .post(&invite(&ids[0], true), Some(&app.coordinator), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!(
        plan,
        json!({ "invited": 2, "by_channel": { "email": 1, "post": 1 }, "excluded": { "no_consent": 1 }, "recorded": false })
    );
    assert!(!plan.to_string().contains("example.org"), "counts, never names");
    assert_eq!(
        app.post(&invite(&ids[0], true), Some(&tamworth), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _) = app
        .post(
            &format!("/api/v1/consultations/{}/invitations?dry_run=maybe", ids[0]),
            Some(&app.coordinator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Commit twice: the second finds everyone already invited.
    let (_, committed) = app
        .post(&invite(&ids[0], false), Some(&app.coordinator), json!({}))
        .await;
    assert_eq!(
        (committed["invited"].as_u64(), committed["recorded"].as_bool()),
        (Some(2), Some(true))
    );
    let (_, again) = app
        .post(&invite(&ids[0], false), Some(&app.coordinator), json!({}))
        .await;
    assert_eq!(again["excluded"]["already_invited"], 2);
    let (_, second) = app
        .post(&invite(&ids[1], false), Some(&app.coordinator), json!({}))
        .await;
    assert_eq!(second["invited"], 2);
    // A third invitation within the year would exceed the rule: left out, and a person finding.
    let (_, third) = app
        .post(&invite(&ids[2], true), Some(&app.coordinator), json!({}))
        .await;
    assert_eq!(third["excluded"]["fatigue_max_contacts"], 2, "{third}");
    assert_eq!(third["invited"], 0);
    let (s, fatigue) = app
        .get(&format!("/api/v1/consultations/{}/fatigue", ids[2]), Some(&tamworth))
        .await;
    assert_eq!(s, StatusCode::OK, "{fatigue}");
    let person = &fatigue["findings"][0];
    assert_eq!(
        (
            person["kind"].as_str(),
            person["rule"].as_str(),
            person["count"].as_u64()
        ),
        (Some("person"), Some("max_contacts"), Some(2))
    );

    // A fourth parks activity for residents in Tamworth at the same time: an audience finding,
    // which also fails the "be coordinated" check until the plan changes.
    let mut fourth = consultation("tamworth", "Parks and open spaces 4", 0, 20);
    fourth["topics"] = json!(["parks"]);
    let four = app.register_activity(&tamworth, fourth, false).await;
    let (_, fatigue) = app
        .get(&format!("/api/v1/consultations/{four}/fatigue"), Some(&tamworth))
        .await;
    let audience = fatigue["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "audience")
        .expect("audience finding");
    assert_eq!(
        (audience["rule"].as_str(), audience["count"].as_u64()),
        (Some("max_concurrent"), Some(3))
    );
    assert!(
        audience["detail"].as_str().unwrap().contains("Tamworth (E07000199)"),
        "{audience}"
    );
    let (_, a) = app
        .get(&format!("/api/v1/consultations/{four}/assessment"), Some(&tamworth))
        .await;
    let check = a["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "code_2008/no_duplication")
        .unwrap();
    assert_eq!(check["outcome"], "fail");
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("fatigue: residents in Tamworth"),
        "{check}"
    );

    // Export shows the contact log; deletion erases it; personal data is in no public output.
    let (s, export) = as_resident(app, Method::GET, &format!("{me}/export"), Some(&ann_token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(export["contacts"].as_array().unwrap().len(), 2);
    assert_eq!(export["contacts"][0]["kind"], "invitation");
    let (_, register) = app.get("/api/v1/consultations?limit=500", None).await;
    assert!(!register.to_string().contains("example.org"));
    let (_, audit) = app
        .get(
            &format!("/api/v1/consultations/{}/audit", ids[0]),
            Some(&app.coordinator),
        )
        .await;
    assert!(!audit.to_string().contains("example.org"));
    let before = app.store.counts().await.unwrap();
    let (s, _) = as_resident(app, Method::DELETE, &me, Some(&ann_token)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        as_resident(app, Method::GET, &me, Some(&ann_token)).await.0,
        StatusCode::NOT_FOUND
    );
    let after = app.store.counts().await.unwrap();
    let count = |c: &[(String, i64)], t: &str| c.iter().find(|(n, _)| n == t).unwrap().1;
    assert_eq!(count(&after, "residents"), count(&before, "residents") - 1);
    assert_eq!(count(&after, "contacts"), count(&before, "contacts") - 2);

    // The CLI plans the same way.
    let out = app.cli(&["invite", &ids[2], "--dry-run"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            plan["excluded"]["fatigue_max_contacts"].as_u64(),
            plan["recorded"].as_bool()
        ),
        (Some(1), Some(false))
    );
    // (The CLI reads the real clock, by which these January fixtures have closed: only Bob's two
    // invitations in the last year still count.)
    let out = app.cli(&["fatigue", &ids[2], "--format", "json"]);
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings[0]["kind"], "person", "{findings}");
    assert_eq!(findings[0]["count"], 1);
}

on_both!(instances_share_the_residents_register);
async fn instances_share_the_residents_register(app: &TestApp) {
    // Two servers on one database, each with its own audience index: what one is told, the
    // other plans with at its next use.
    let (tamworth, _) = app.seed().await;
    let mut body = consultation("tamworth", "Parks and open spaces", -2, 30);
    body["topics"] = json!(["parks"]);
    let id = app.register_activity(&tamworth, body, true).await;
    let other = app.second_instance().await;
    let plan = |base: String| {
        let (client, coordinator, id) = (app.client.clone(), app.coordinator.clone(), id.clone());
        async move {
            let res = client
                .post(format!("{base}/api/v1/consultations/{id}/invitations?dry_run=true"))
                .bearer_auth(coordinator)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            consult_tests::into_json(res).await.1
        }
    };
    assert_eq!(plan(other.clone()).await["invited"], 0);
    let ann = json!({ "email": "ann@example.org", "interests": ["parks"], "areas": ["E07000199"],
        "channels": ["email"], "consent": true });
    let (ann, ann_token) = register_resident(app, ann).await;
    assert_eq!(plan(other.clone()).await["invited"], 1, "registered through the first");
    let (s, _) = as_resident(
        app,
        Method::POST,
        &format!("/api/v1/residents/{ann}/unsubscribe"),
        Some(&ann_token),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let seen = plan(other.clone()).await;
    assert_eq!(
        (seen["invited"].as_u64(), seen["excluded"]["no_consent"].as_u64()),
        (Some(0), Some(1))
    );
    let (s, _) = as_resident(
        app,
        Method::DELETE,
        &format!("/api/v1/residents/{ann}"),
        Some(&ann_token),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        plan(other).await,
        json!({ "invited": 0, "by_channel": {}, "excluded": {}, "recorded": false })
    );
}

//! The residents' register, targeted invitations and fatigue, over HTTP and the CLI.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Registers, pending verification: the id and token.
async fn register_pending(app: &TestApp, base: &str, body: Value) -> (String, String) {
    let res = app
        .client
        .post(format!("{base}/api/v1/residents"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store, private");
    let (s, b) = consult_tests::into_json(res).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "pending_verification", "{b}");
    assert_eq!(b["verify"], "/api/v1/residents/verify");
    (
        b["id"].as_str().unwrap().to_owned(),
        b["token"].as_str().unwrap().to_owned(),
    )
}

/// The code waiting in the store for delivery to a pending registration's contact.
async fn code_for(app: &TestApp, id: &str) -> String {
    app.store
        .verification_code(id.parse().unwrap())
        .await
        .unwrap()
        .expect("a pending registration has a code")
}

/// Posts a code to `base`'s verify endpoint.
async fn verify(app: &TestApp, base: &str, code: &str) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{base}/api/v1/residents/verify"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    if res.status().is_success() {
        assert_eq!(res.headers()["cache-control"], "no-store, private");
    }
    consult_tests::into_json(res).await
}

/// Registers and verifies with the code from the store: the id and token.
async fn register_resident(app: &TestApp, body: Value) -> (String, String) {
    let (id, token) = register_pending(app, &app.base, body).await;
    let (s, v) = verify(app, &app.base, &code_for(app, &id).await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["id"].as_str(), v["status"].as_str()),
        (Some(id.as_str()), Some("verified"))
    );
    (id, token)
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
    let res = app
        .client
        .post(format!("{}/api/v1/residents/{dan}/unsubscribe", app.base))
        .header("x-resident-token", &dan_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store, private");

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
        json!({ "invited": 2, "queued": 0, "by_channel": { "email": 1, "post": 1 }, "excluded": { "no_consent": 1 }, "recorded": false })
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
        (
            committed["invited"].as_u64(),
            committed["queued"].as_u64(),
            committed["recorded"].as_bool()
        ),
        (Some(2), Some(2), Some(true))
    );
    let (_, again) = app
        .post(&invite(&ids[0], false), Some(&app.coordinator), json!({}))
        .await;
    assert_eq!(again["excluded"]["already_invited"], 2);
    assert_eq!(again["queued"], 0, "one invitation per resident and activity");
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
        json!({ "invited": 0, "queued": 0, "by_channel": {}, "excluded": {}, "recorded": false })
    );
}

on_both!(residents_are_verified_one_person_one_record);
/// A registration is pending until the code sent to its contact comes back: never invited or
/// counted before; a wrong or expired code is refused naming `code`; one contact, however
/// written, is one resident, updated by a verified registration again; unverified registrations
/// are deleted after the configured days by `consult residents purge`.
async fn residents_are_verified_one_person_one_record(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let mut body = consultation("tamworth", "Parks and open spaces", -2, 30);
    body["topics"] = json!(["parks", "play"]);
    let activity = app.register_activity(&tamworth, body, true).await;
    let plan = || async {
        let (s, p) = app
            .post(
                &format!("/api/v1/consultations/{activity}/invitations?dry_run=true"),
                Some(&app.coordinator),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        p
    };
    let people = |p: &Value| {
        p["invited"].as_u64().unwrap()
            + p["excluded"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>()
    };
    let ann = |email: &str, interests: Value| json!({ "email": email, "interests": interests, "areas": ["E07000199"], "channels": ["email"], "consent": true });

    // Pending: the record exists for its holder, is nobody to invite, and its code waits in the
    // store (never in the audit log).
    let (first, first_token) = register_pending(app, &app.base, ann("ann@example.org", json!(["parks"]))).await;
    let (s, me) = as_resident(
        app,
        Method::GET,
        &format!("/api/v1/residents/{first}"),
        Some(&first_token),
    )
    .await;
    assert_eq!((s, me["verified_at"].is_null()), (StatusCode::OK, true), "{me}");
    assert_eq!(
        people(&plan().await),
        0,
        "pending registrations are never invited or counted"
    );
    let code = code_for(app, &first).await;
    assert_eq!(code.len(), 12);
    let audit = app.store.audit_log(None, 500).await.unwrap();
    assert!(!format!("{audit:?}").contains(&code), "the code is in no log");

    // A wrong code, a malformed one, and an expired one are refused naming `code`.
    for wrong in ["AAAAAAAAAAAA", "not a code!", ""] {
        let (s, p) = verify(app, &app.base, wrong).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], "code", "{p}");
    }
    let (s, p) = app.post("/api/v1/residents/verify", None, json!({ "code": 7 })).await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::BAD_REQUEST,
        "{s} {p}"
    );
    let week_later = app.later(7).await;
    let (s, p) = verify(app, &week_later, &code).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("code")),
        "{p}"
    );
    // Verified (typed in lower case with spaces) within the week: invited from now on; the
    // code is used up.
    let typed = format!("{} {}", code[..6].to_lowercase(), &code[6..]);
    let (s, v) = verify(app, &app.later(6).await, &typed).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["id"].as_str(), v["updated"].as_bool()),
        (Some(first.as_str()), Some(false))
    );
    assert!(
        app.store
            .verification_code(first.parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(verify(app, &app.base, &code).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let p = plan().await;
    assert_eq!((p["invited"].as_u64(), people(&p)), (Some(1), 1), "{p}");

    // The same address again, written differently: pending, then it updates Ann's record
    // (interests, channels, the phone added) rather than making a second resident. The token
    // given with the new registration now manages it; the old one no longer does.
    let mut again = ann("  ann@EXAMPLE.org ", json!(["play"]));
    again["phone"] = json!("07700 900123");
    again["channels"] = json!(["sms", "email"]);
    let (second, second_token) = register_pending(app, &app.base, again).await;
    assert_ne!(second, first);
    assert_eq!(people(&plan().await), 1);
    let (s, v) = verify(app, &app.base, &code_for(app, &second).await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["id"].as_str(), v["updated"].as_bool()),
        (Some(first.as_str()), Some(true)),
        "{v}"
    );
    let me = format!("/api/v1/residents/{first}");
    let (s, record) = as_resident(app, Method::GET, &me, Some(&second_token)).await;
    assert_eq!(s, StatusCode::OK, "{record}");
    assert_eq!(record["interests"], json!(["play"]));
    assert_eq!(record["phone"], "+447700900123");
    assert_eq!(record["channels"], json!(["sms", "email"]));
    assert_eq!(record["email"], "ann@example.org");
    assert_eq!(
        as_resident(app, Method::GET, &me, Some(&first_token)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_resident(
            app,
            Method::GET,
            &format!("/api/v1/residents/{second}"),
            Some(&second_token)
        )
        .await
        .0,
        StatusCode::NOT_FOUND,
        "the pending record went into Ann's"
    );
    let p = plan().await;
    assert_eq!((people(&p), p["by_channel"].clone()), (1, json!({ "sms": 1 })), "{p}");

    // The phone number alone, in international form, is Ann too.
    let by_phone = json!({ "phone": "+44 (0)7700-900-123", "interests": ["parks"], "areas": ["E07000199"],
        "channels": ["phone"], "consent": true });
    let (third, third_token) = register_pending(app, &app.base, by_phone).await;
    let (s, v) = verify(app, &app.base, &code_for(app, &third).await).await;
    assert_eq!((s, v["id"].as_str()), (StatusCode::OK, Some(first.as_str())), "{v}");
    let (_, record) = as_resident(app, Method::GET, &me, Some(&third_token)).await;
    assert_eq!(
        (record["email"].clone(), record["channels"].clone()),
        (Value::Null, json!(["phone"]))
    );
    assert_eq!(people(&plan().await), 1);
    // Registering a bad phone number is refused naming it.
    let (s, p) = app
        .post(
            "/api/v1/residents",
            None,
            json!({ "phone": "12345", "channels": ["sms"], "consent": true }),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")),
        "{p}"
    );

    // A postal address alone: a code by post, pending like any other.
    let (s, b) = app
        .post(
            "/api/v1/residents",
            None,
            json!({ "postal_address": "1 Market Street, Tamworth", "interests": ["parks"], "areas": ["E07000199"],
                "channels": ["post"], "consent": true }),
        )
        .await;
    assert_eq!(
        (s, b["code_sent_by"].as_str()),
        (StatusCode::ACCEPTED, Some("post")),
        "{b}"
    );
    assert_eq!(b["expires_in_days"], 7);
    let (_, _) = register_pending(app, &app.base, ann("bob@example.org", json!(["parks"]))).await;
    assert_eq!(people(&plan().await), 1);

    // The operator's purge: by the real clock these January registrations are long past a
    // week (not a year); deleted, audited, and the audience index catches up.
    let purge = |days: &str| {
        let out = app.cli(&["residents", "purge", "--unverified-days", days]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert_eq!(purge("365")["deleted"], 0);
    assert_eq!(purge("7")["deleted"], 2);
    assert_eq!(purge("7")["deleted"], 0);
    let audit = app.store.audit_log(Some(("resident", "unverified")), 5).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].detail["deleted"], 2);
    let p = plan().await;
    assert_eq!((p["invited"].as_u64(), people(&p)), (Some(1), 1), "{p}");
    let counts = app.store.counts().await.unwrap();
    assert_eq!(counts.iter().find(|(n, _)| n == "residents").unwrap().1, 1);

    // One code posted twice at once (a double click, two instances): verified once, kept.
    let (cat, cat_token) = register_pending(app, &app.base, ann("cat@example.org", json!(["parks"]))).await;
    let code = code_for(app, &cat).await;
    let other = app.second_instance().await;
    let (a, b) = tokio::join!(verify(app, &app.base, &code), verify(app, &other, &code));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
        "{a:?} {b:?}"
    );
    let (s, record) = as_resident(app, Method::GET, &format!("/api/v1/residents/{cat}"), Some(&cat_token)).await;
    assert_eq!(s, StatusCode::OK, "{record}");
    assert!(record["verified_at"].is_string(), "{record}");
    assert_eq!(people(&plan().await), 2);
}

on_both!(verification_is_rate_limited_like_anonymous_writes);
async fn verification_is_rate_limited_like_anonymous_writes(app: &TestApp) {
    app.seed().await;
    let limited = app
        .instance_with(consult_api::Limits {
            anonymous_writes_per_minute: 2,
            ..consult_api::Limits::default()
        })
        .await;
    let mut last = StatusCode::OK;
    for _ in 0..4 {
        last = verify(app, &limited, "AAAAAAAAAAAA").await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

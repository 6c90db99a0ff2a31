//! The short-lived cache of anonymous reads: hits within its lifetime, bypassed by credentials,
//! emptied by a write through the same instance, never holding a page with a reader's own token.

use consult_tests::{TestApp, consultation};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn text(app: &TestApp, url: &str, token: Option<&str>) -> (String, String) {
    let mut req = app.client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    (res.text().await.unwrap(), id)
}

on_both!(anonymous_reads_are_cached_briefly);
async fn anonymous_reads_are_cached_briefly(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let first = app
        .register_activity(&tamworth, consultation("tamworth", "Parks strategy", -2, 10), true)
        .await;
    let cached = app.cached_instance(Duration::from_secs(60)).await;
    let list = format!("{cached}/api/v1/consultations?status=open");
    let (before, id1) = text(app, &list, None).await;
    assert!(before.contains(&first));
    let (hub_before, _) = text(app, &format!("{cached}/register"), None).await;

    // Published through another instance: this one answers from its cache (each answer with its
    // own request id), except to a caller with credentials.
    let second = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -1, 10), true)
        .await;
    let (again, id2) = text(app, &list, None).await;
    assert_eq!(again, before, "a cache hit");
    assert_ne!(id1, id2);
    assert_eq!(text(app, &format!("{cached}/register"), None).await.0, hub_before);
    let (fresh, _) = text(app, &list, Some(&tamworth)).await;
    assert!(fresh.contains(&second), "credentials bypass the cache");

    // A form page carries the reader's own anti-forgery token: never shared.
    let form = format!("{cached}/activities/{first}/respond");
    let (a, _) = text(app, &form, None).await;
    let (b, _) = text(app, &form, None).await;
    assert_ne!(a, b);

    // A refused write changes nothing and leaves the cache as it was: nobody can empty it at
    // will by posting junk.
    let res = app
        .client
        .post(format!("{cached}/api/v1/consultations"))
        .json(&json!({ "title": "Not allowed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(text(app, &list, None).await.0, before, "still the cached answer");

    // A write through this instance empties its cache.
    let res = app
        .client
        .post(format!("{cached}/api/v1/consultations/{first}/responses"))
        .json(&json!({ "comments": "More benches" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (after, _) = text(app, &list, None).await;
    assert!(after.contains(&second), "{after}");
    assert_ne!(text(app, &format!("{cached}/register"), None).await.0, hub_before);

    // An entry lives no longer than the cache's lifetime.
    let brief = app.cached_instance(Duration::from_millis(300)).await;
    let brief_list = format!("{brief}/api/v1/consultations?status=open");
    text(app, &brief_list, None).await;
    let third = app
        .register_activity(&tamworth, consultation("tamworth", "Bus routes", -1, 10), true)
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(text(app, &brief_list, None).await.0.contains(&third));
}

on_both!(personal_data_is_never_cached);
async fn personal_data_is_never_cached(app: &TestApp) {
    app.seed().await;
    let cached = app.cached_instance(Duration::from_secs(60)).await;
    let (s, r) = app
        .post(
            "/api/v1/residents",
            None,
            json!({ "email": "ann@example.org", "interests": ["parks"], "areas": ["E07000199"],
                "channels": ["email"], "consent": true }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let me = format!("{cached}/api/v1/residents/{}", r["id"].as_str().unwrap());
    let token = r["token"].as_str().unwrap();
    for path in [me.clone(), format!("{me}/export")] {
        let res = app
            .client
            .get(&path)
            .header("x-resident-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store, private");
        assert!(res.text().await.unwrap().contains("ann@example.org"));
        // The same address without the token: refused, never the answer kept from before.
        let res = app.client.get(&path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(!res.text().await.unwrap().contains("ann@example.org"));
    }
}

on_both!(a_refill_runs_once_per_key);
async fn a_refill_runs_once_per_key(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    app.register_activity(&tamworth, consultation("tamworth", "Parks strategy", -2, 10), true)
        .await;
    let (base, state) = app
        .instance_with_state(consult_api::Limits {
            anonymous_writes_per_minute: 0,
            anonymous_reads_per_minute: 0,
            public_cache: Duration::from_secs(60),
            ..consult_api::Limits::default()
        })
        .await;
    // Each computation waits a while first: every request below arrives while the first one's
    // refill is under way.
    state.public_cache.pause_refills(Duration::from_millis(1500));
    let url = format!("{base}/api/v1/consultations?status=open");
    let requests = (0..12).map(|_| {
        let (client, url) = (app.client.clone(), url.clone());
        tokio::spawn(async move {
            let res = client.get(url).send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        })
    });
    let answers: Vec<(StatusCode, String)> = futures_join(requests).await;
    assert!(answers.iter().all(|(s, b)| *s == StatusCode::OK && *b == answers[0].1));
    assert_eq!(state.public_cache.computed(), 1, "one refill for twelve readers");
    // Another key is its own refill; a page that may not be shared (a form with the reader's own
    // token) is computed for each reader, waiting or not.
    let form = format!("{base}/register-interests");
    let forms = (0..3).map(|_| {
        let (client, url) = (app.client.clone(), form.clone());
        tokio::spawn(async move { client.get(url).send().await.unwrap().text().await.unwrap() })
    });
    let forms: Vec<String> = futures_join(forms).await;
    assert!(forms[0] != forms[1] && forms[1] != forms[2]);
    assert_eq!(state.public_cache.computed(), 4);
}

/// Waits for every spawned task, in order.
async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let tasks: Vec<_> = tasks.collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

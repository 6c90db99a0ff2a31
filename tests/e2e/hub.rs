//! The public hub's pages over HTTP: what is open, the register with filters, an activity's
//! page, escaping of hostile titles, security headers, and hidden drafts.

use consult_tests::{TestApp, consultation};
use reqwest::StatusCode;
use serde_json::json;

async fn page(app: &TestApp, base: &str, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let res = app.client.get(format!("{base}{path}")).send().await.unwrap();
    let (s, h) = (res.status(), res.headers().clone());
    (s, h, res.text().await.unwrap())
}

on_both!(hub_pages);
async fn hub_pages(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let hostile = "<script>alert(1)</script> Parks & play";
    let mut body = consultation("tamworth", hostile, -2, 10);
    body["topics"] = json!(["parks"]);
    let open = app.register_activity(&tamworth, body, true).await;
    let coming = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", 20, 30), true)
        .await;
    let draft = app
        .register_activity(&tamworth, consultation("tamworth", "Secret draft", 5, 10), false)
        .await;

    // Home: open now and closing soon, with the title escaped; drafts never shown.
    let (s, h, home) = page(app, &app.base, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        home.contains("&#60;script&#62;alert(1)&#60;/script&#62; Parks &#38; play"),
        "{home}"
    );
    assert!(!home.contains("<script>"), "no script reaches the page");
    assert!(
        home.contains("href=\"#main\"") && home.contains("<main id=\"main\""),
        "skip link and landmark"
    );
    assert!(home.contains("Closing in the next 14 days"));
    assert!(!home.contains("Secret draft"));

    // The register filters; bad filters are shown with an error summary linking to the field.
    let (s, _, list) = page(app, &app.base, "/register?q=parks").await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains(&format!("/activities/{open}")) && !list.contains(&format!("/activities/{coming}")));
    let (s, _, bad) = page(app, &app.base, "/register?area=nowhere").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("There is a problem") && bad.contains("href=\"#area\""),
        "{bad}"
    );
    assert!(bad.contains("value=\"nowhere\""), "the input is kept");
    let (_, _, plan) = page(app, &app.base, "/forward-plan").await;
    assert!(plan.contains("Library hours"), "{plan}");

    // An activity's page: purpose, what can change, how to respond, level in plain English.
    let (s, _, activity) = page(app, &app.base, &format!("/activities/{open}")).await;
    assert_eq!(s, StatusCode::OK);
    for text in [
        "Why we are asking",
        "What can change",
        "What cannot change",
        "How to respond",
        "This is open: respond until",
    ] {
        assert!(activity.contains(text), "{text}: {activity}");
    }
    assert!(activity.contains("How it meets the consultation principles"));
    let (s, _, missing) = page(app, &app.base, &format!("/activities/{draft}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(missing.contains("Page not found") && !missing.contains("Secret draft"));
    assert_eq!(
        page(app, &app.base, "/activities/not-an-id").await.0,
        StatusCode::NOT_FOUND
    );

    // Once results are published, the page shows you said, we did, with reasons.
    let later = app.later(30).await;
    let feedback = json!({ "items": [
        { "theme": "Swings", "you_said": "More swings", "we_did": "Six new swings" },
        { "theme": "Cafe", "you_said": "A cafe", "we_did_not": "No cafe", "reason": "No water supply <here>" } ], "publish": true });
    let res = app
        .client
        .put(format!("{later}/api/v1/consultations/{open}/feedback"))
        .bearer_auth(&tamworth)
        .json(&feedback)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, _, published) = page(app, &later, &format!("/activities/{open}")).await;
    assert!(
        published.contains("You said, we did") && published.contains("No water supply &#60;here&#62;"),
        "{published}"
    );

    let (s, h, css) = page(app, &app.base, "/hub.css").await;
    assert_eq!(
        (s, h["content-type"].to_str().unwrap()),
        (StatusCode::OK, "text/css; charset=utf-8")
    );
    assert!(css.contains(".skip-link"));
}

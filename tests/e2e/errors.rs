//! Bad input gets a problem+json naming the field, and nothing is stored. Bodies are kept as
//! snapshots so a change to the error contract shows up in review.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String, Value) {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let (s, b) = consult_tests::into_json(res).await;
    (s, ct, b)
}

on_both!(problem_bodies);
async fn problem_bodies(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let before = app.store.counts().await.unwrap();
    let post = |body: Vec<u8>| {
        raw(
            app,
            Method::POST,
            "/api/v1/consultations",
            Some(&tamworth),
            "application/json",
            body,
        )
    };

    let (s, ct, malformed) = post(b"{\"title\": ".to_vec()).await;
    assert_eq!((s, ct.as_str()), (StatusCode::BAD_REQUEST, "application/problem+json"));
    insta::assert_json_snapshot!("malformed_json", malformed);

    let (s, _, not_utf8) = post(vec![b'{', 0xff, 0xfe, b'}']).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(not_utf8["detail"].as_str().unwrap().contains("UTF-8"));

    let mut wrong_type = consultation("tamworth", "Budget", 1, 30);
    wrong_type["methods"] = json!("online_survey");
    let (s, _, body) = post(serde_json::to_vec(&wrong_type).unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    insta::assert_json_snapshot!("wrong_type", body);

    let mut unknown_field = consultation("tamworth", "Budget", 1, 30);
    unknown_field["colour"] = json!("blue");
    let (s, _, body) = post(serde_json::to_vec(&unknown_field).unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["detail"].as_str().unwrap().contains("colour"), "{body}");

    let mut invalid = consultation("tamworth", "Budget", 1, 30);
    invalid["level"] = json!("dictate");
    invalid["title"] = json!("");
    invalid["methods"] = json!(["online_survey", "carrier_pigeon"]);
    invalid["audience"]["areas"] = json!(["E99999999"]);
    invalid["opens_on"] = json!("2026-02-30");
    invalid["cost"] = json!({ "amount": -5 });
    let (s, _, body) = post(serde_json::to_vec(&invalid).unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    insta::assert_json_snapshot!("invalid_fields", body);

    let (s, _, body) = raw(
        app,
        Method::POST,
        "/api/v1/consultations",
        Some(&tamworth),
        "text/plain",
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    insta::assert_json_snapshot!("not_json", body);

    let big = json!({ "title": "x".repeat(2 * 1024 * 1024) });
    let (s, _, body) = post(serde_json::to_vec(&big).unwrap()).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    insta::assert_json_snapshot!("too_large", body);
    // The unread rest of the body leaves the connection unusable: the server says it closes it,
    // so no client sends its next request there.
    let res = app
        .client
        .post(format!("{}/api/v1/consultations", app.base))
        .bearer_auth(&tamworth)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.headers()["connection"], "close");

    let (s, body) = app.get("/api/v1/consultations", Some("cst_not_a_real_token")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("bad_token", body);

    let (s, body) = app.get("/api/v1/nowhere", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("unknown_path", body);

    let (s, body) = app
        .get(
            "/api/v1/consultations?status=pending&level=loud&limit=0&from=soon&area=Tamworth",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    insta::assert_json_snapshot!("bad_filters", body);

    let (s, body) = app
        .post(
            "/api/v1/consultations/not-a-uuid/transitions",
            Some(&tamworth),
            json!({ "to": "approved" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");

    let (s, _, _) = raw(
        app,
        Method::DELETE,
        "/api/v1/consultations",
        Some(&tamworth),
        "application/json",
        vec![],
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);

    assert_eq!(app.store.counts().await.unwrap(), before, "bad input stores nothing");

    // An illegal transition and an unknown status.
    let id = {
        let (s, b) = app
            .post(
                "/api/v1/consultations",
                Some(&tamworth),
                consultation("tamworth", "Budget", 1, 30),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        b["id"].as_str().unwrap().to_owned()
    };
    let path = format!("/api/v1/consultations/{id}/transitions");
    let (s, body) = app
        .post(&path, Some(&app.coordinator), json!({ "to": "evaluated" }))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    insta::assert_json_snapshot!("illegal_transition", body);
    let (s, body) = app
        .post(&path, Some(&app.coordinator), json!({ "to": "finished" }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    insta::assert_json_snapshot!("unknown_status", body);
    let (s, body) = app.post(&path, Some(&app.coordinator), json!({ "to": "open" })).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
}

on_both!(text_is_stored_verbatim);
async fn text_is_stored_verbatim(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let hostile = "Robert'); DROP TABLE consultations;-- <script>alert(1)</script> \u{1F600}";
    let mut body = consultation("tamworth", hostile, 1, 30);
    body["summary"] = json!("100% of '_' and \"quotes\"\nsecond line");
    let (s, created) = app.post("/api/v1/consultations", Some(&tamworth), body).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let (_, got) = app
        .get(
            &format!("/api/v1/consultations/{}", created["id"].as_str().unwrap()),
            Some(&tamworth),
        )
        .await;
    assert_eq!(got["title"], hostile);
    assert_eq!(got["summary"], "100% of '_' and \"quotes\"\nsecond line");
    let (_, found) = app.get("/api/v1/consultations?q=drop%20table", Some(&tamworth)).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

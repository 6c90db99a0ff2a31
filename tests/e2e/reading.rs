//! Officers read responses: the owner's officers and coordinators only, a page at a time,
//! searched by text (`%` and `_` literally), answers rebuilt as sent, never the monitoring
//! answers; the CLI's `responses list|show`.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(officers_read_responses);
async fn officers_read_responses(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let id = app.park_survey(&tamworth, "Park survey", 10, 30).await;
    let later = app.later(12).await;
    let path = format!("/api/v1/consultations/{id}/responses");

    let full = json!({
        "visit": "yes", "uses": ["walk", "play", { "option": "other", "text": "Picnics" }], "satisfaction": 4,
        "priorities": ["bins", "lights", "seats"], "age": 42.5, "last": "2026-05-01",
        "ideas": "More benches, 100% please", "agree": { "safe": 5, "clean": 3 }
    });
    let monitoring =
        json!({ "sex": "female", "age_band": "25-34", "ethnic_group": "indian", "religion": "prefer_not_to_say" });
    let sent = [
        json!({ "comments": "Lovely park", "answers": full, "monitoring": monitoring }),
        json!({ "comments": "under_score here", "answers": { "visit": { "option": "other", "text": "Rarely" } } }),
        json!({ "answers": { "visit": "no", "ideas": "Quieter MORNINGS" }, "monitoring": monitoring }),
    ];
    let mut ids = Vec::new();
    for body in &sent {
        let (s, r) = app.at(&later, Method::POST, &path, None, Some(body.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    // A paper response entered by an officer.
    let (s, r) = app
        .at(
            &later,
            Method::POST,
            &path,
            Some(&tamworth),
            Some(json!({ "comments": "Posted form", "channel": "paper" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    ids.push(r["id"].as_str().unwrap().to_owned());

    // Guards: the public and other organisations' officers do not read them.
    assert_eq!(
        app.at(&later, Method::GET, &path, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let one = format!("{path}/{}", ids[0]);
    assert_eq!(
        app.at(&later, Method::GET, &one, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, _) = app.at(&later, Method::GET, &path, Some(&police), None).await;
    assert!(s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN, "{s}");
    assert_ne!(
        app.at(&later, Method::GET, &one, Some(&police), None).await.0,
        StatusCode::OK
    );

    // Owner officer and coordinator; two pages.
    let (s, p1) = app
        .at(&later, Method::GET, &format!("{path}?limit=3"), Some(&tamworth), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{p1}");
    assert_eq!(p1["items"].as_array().unwrap().len(), 3);
    let cursor = p1["next_cursor"].as_str().unwrap().to_owned();
    let (s, p2) = app
        .at(
            &later,
            Method::GET,
            &format!("{path}?limit=3&cursor={cursor}"),
            Some(&app.coordinator),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p2}");
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert!(p2["next_cursor"].is_null());
    let listed: Vec<&str> = p1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["items"].as_array().unwrap())
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(p2["items"][0]["channel"], "paper");
    assert!(p2["items"][0]["entered_by"].is_string());

    // Answers as sent, for every type; never monitoring.
    assert_eq!(p1["items"][0]["answers"], full);
    assert_eq!(p1["items"][0]["comments"], "Lovely park");
    assert_eq!(p1["items"][0]["questionnaire_version"], 1);
    assert_eq!(p1["items"][1]["answers"], sent[1]["answers"]);
    assert_eq!(p1["items"][2]["answers"], sent[2]["answers"]);
    let (s, shown) = app.at(&later, Method::GET, &one, Some(&tamworth), None).await;
    assert_eq!(s, StatusCode::OK, "{shown}");
    assert_eq!(shown["answers"], full);
    assert_eq!(shown["channel"], "online");
    for body in [&p1, &p2, &shown] {
        let text = body.to_string();
        for category in ["female", "indian", "prefer_not_to_say", "monitoring"] {
            assert!(!text.contains(category), "{category} in {text}");
        }
    }

    // A response of another activity is not found here.
    let other = app
        .register_activity(&tamworth, consultation("tamworth", "Other survey", -2, 30), true)
        .await;
    let (s, _) = app
        .at(
            &later,
            Method::GET,
            &format!("/api/v1/consultations/{other}/responses/{}", ids[0]),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Search: comments and text answers, case-insensitive, `%` and `_` literal.
    let search = |q: &str| {
        let url = format!("{path}?q={}", urlencode(q));
        let later = later.clone();
        let tamworth = tamworth.clone();
        async move {
            let (s, b) = app.at(&later, Method::GET, &url, Some(&tamworth), None).await;
            assert_eq!(s, StatusCode::OK, "{b}");
            b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("mornings").await, vec![ids[2].clone()]);
    assert_eq!(search("LOVELY").await, vec![ids[0].clone()]);
    assert_eq!(search("100%").await, vec![ids[0].clone()]);
    assert_eq!(search("%").await, vec![ids[0].clone()]);
    assert_eq!(search("_").await, vec![ids[1].clone()]);
    assert_eq!(search("rarely").await, vec![ids[1].clone()]);

    // Bad input is named.
    let (s, p) = app
        .at(
            &later,
            Method::GET,
            &format!("{path}?cursor=nonsense"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p.to_string().contains("cursor"));
    let (s, _) = app
        .at(
            &later,
            Method::GET,
            &format!("{path}?colour=red"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // The CLI.
    let out = app.cli(&["responses", "list", &id.to_string(), "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert_eq!(listed[0]["answers"], full);
    let out = app.cli(&[
        "responses",
        "list",
        &id.to_string(),
        "--q",
        "benches",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let out = app.cli(&["responses", "show", &id.to_string(), &ids[1]]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["answers"], sent[1]["answers"]);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

//! Coding free-text answers: the codeframe (nested one level), codes, suggestions (accept,
//! rename, reject), theme counts in the analysis checked against what the test sent, deleting a
//! theme in use, feedback naming a theme with how many raised it; the CLI.

use consult_tests::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn field(problem: &Value) -> String {
    problem["errors"][0]["field"].as_str().unwrap_or_default().to_owned()
}

fn ids(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

on_both!(code_free_text_answers);
async fn code_free_text_answers(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let id = app.park_survey(&tamworth, "Library survey", 10, 30).await;
    let later = app.later(12).await;
    let path = format!("/api/v1/consultations/{id}/responses");
    let parking = [
        "Not enough parking near the library",
        "The car park is always full on Saturdays",
        "Parking charges are far too high",
        "More parking spaces for disabled drivers",
        "Free parking would bring more visitors",
        "Parking is impossible after school",
    ];
    let hours = [
        "Opening hours are too short",
        "Longer opening hours at weekends",
        "The opening hours do not suit people who work",
        "Opening hours should include Sunday afternoons",
        "Please extend the opening hours",
    ];
    let mut sent: Vec<(String, &str)> = Vec::new();
    for text in parking.iter().chain(hours.iter()).chain(["Lovely staff"].iter()) {
        let (s, r) = app
            .at(
                &later,
                Method::POST,
                &path,
                None,
                Some(json!({ "answers": { "ideas": text } })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        sent.push((r["id"].as_str().unwrap().to_owned(), text));
    }
    let (s, r) = app
        .at(
            &later,
            Method::POST,
            &path,
            None,
            Some(json!({ "answers": { "visit": "yes" } })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let no_text = r["id"].as_str().unwrap().to_owned();
    let parking_ids: BTreeSet<String> = sent[..parking.len()].iter().map(|(i, _)| i.clone()).collect();
    let hours_ids: BTreeSet<String> = sent[parking.len()..parking.len() + hours.len()]
        .iter()
        .map(|(i, _)| i.clone())
        .collect();

    let themes = format!("/api/v1/consultations/{id}/themes");
    let call = |method: Method, path: String, token: Option<String>, body: Option<Value>| {
        let later = later.clone();
        async move { app.at(&later, method, &path, token.as_deref(), body).await }
    };
    let staff = Some(tamworth.clone());

    // The guard: the public and another organisation are refused.
    assert_eq!(
        call(Method::GET, themes.clone(), None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, _) = call(Method::GET, themes.clone(), Some(police.clone()), None).await;
    assert!(s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN, "{s}");

    // The codeframe: nested one level; bad fields named.
    for body in [
        json!({ "key": "transport", "label": "Transport" }),
        json!({ "key": "buses", "label": "Buses", "parent": "transport", "description": "Bus routes and stops" }),
        json!({ "key": "hours", "label": "Opening hours" }),
    ] {
        let (s, t) = call(Method::POST, themes.clone(), staff.clone(), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
    }
    for (body, at) in [
        (json!({ "key": "fares", "label": "Fares", "parent": "buses" }), "parent"),
        (json!({ "key": "Bad Key", "label": "Bad" }), "key"),
        (json!({ "key": "hours", "label": "Again" }), "key"),
        (json!({ "key": "x", "label": "X", "colour": "red" }), "colour"),
    ] {
        let (s, p) = call(Method::POST, themes.clone(), staff.clone(), Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert!(field(&p).starts_with(at), "{p}");
    }
    let (s, p) = call(
        Method::PATCH,
        format!("{themes}/transport"),
        staff.clone(),
        Some(json!({ "parent": "hours" })),
    )
    .await;
    assert_eq!(
        (s, field(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, "parent".into()),
        "{p}"
    );

    // Suggestions on the seeded texts: parking and opening hours apart; the odd one out in none.
    let suggest = format!("{themes}/suggestions?question=ideas");
    let (s, list) = call(Method::GET, suggest.clone(), staff.clone(), None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(
        list["progress"],
        json!({ "question": "ideas", "coded": 0, "total": sent.len() })
    );
    let by_responses = |list: &Value, want: &BTreeSet<String>| -> Option<Value> {
        list["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| &ids(&s["responses"]) == want)
            .cloned()
    };
    let park = by_responses(&list, &parking_ids).unwrap_or_else(|| panic!("no parking suggestion in {list}"));
    let hrs = by_responses(&list, &hours_ids).unwrap_or_else(|| panic!("no hours suggestion in {list}"));
    assert_eq!(park["count"], parking.len());
    assert!(
        park["label"].as_str().unwrap().to_lowercase().contains("park"),
        "{park}"
    );
    // Its key is not one already taken.
    assert_ne!(hrs["key"], "hours");
    assert!(!list.to_string().contains(&sent.last().unwrap().0));
    // Asked again, the same suggestions.
    assert_eq!(call(Method::GET, suggest.clone(), staff.clone(), None).await.1, list);
    for (q, at) in [("visit", "question"), ("nope", "question")] {
        let (s, p) = call(
            Method::GET,
            format!("{themes}/suggestions?question={q}"),
            staff.clone(),
            None,
        )
        .await;
        assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, at.into()), "{p}");
    }

    // Reject the hours suggestion: not offered again.
    let (s, p) = call(
        Method::POST,
        format!("{themes}/suggestions/reject"),
        staff.clone(),
        Some(json!({ "question": "ideas", "suggestion": hrs["id"] })),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{p}");
    let (_, list) = call(Method::GET, suggest.clone(), staff.clone(), None).await;
    assert!(
        list["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != hrs["id"]),
        "{list}"
    );

    // Accept the parking suggestion, renamed: the theme is created and its answers coded.
    let (s, accepted) = call(
        Method::POST,
        format!("{themes}/suggestions/accept"),
        staff.clone(),
        Some(json!({ "question": "ideas", "suggestion": park["id"], "key": "car-parking", "label": "Car parking" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{accepted}");
    assert_eq!(accepted["coded"], parking.len());
    assert_eq!(
        (accepted["theme"]["key"].as_str(), accepted["theme"]["label"].as_str()),
        (Some("car-parking"), Some("Car parking"))
    );
    let (s, t) = call(
        Method::PATCH,
        format!("{themes}/car-parking"),
        staff.clone(),
        Some(json!({ "parent": "transport" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    // An accepted suggestion is gone (its answers are coded).
    let (_, list) = call(Method::GET, suggest.clone(), staff.clone(), None).await;
    assert!(
        list["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != park["id"])
    );
    assert_eq!(list["progress"]["coded"], parking.len());

    // Code by hand: two hours answers, and one parking answer also with buses.
    let codes = |rid: &str| format!("/api/v1/consultations/{id}/responses/{rid}/codes");
    let hours_list: Vec<&String> = hours_ids.iter().collect();
    for rid in &hours_list[..2] {
        let (s, c) = call(
            Method::PUT,
            codes(rid),
            staff.clone(),
            Some(json!({ "question": "ideas", "themes": ["hours"], "note": "wants Sundays" })),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["codes"][0]["themes"], json!(["hours"]));
    }
    let both = parking_ids.iter().next().unwrap().clone();
    let (s, c) = call(
        Method::PUT,
        codes(&both),
        staff.clone(),
        Some(json!({ "question": "ideas", "themes": ["car-parking", "buses"] })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    for (rid, body, at) in [
        (&both, json!({ "question": "ideas", "themes": ["nope"] }), "themes[0]"),
        (&both, json!({ "question": "visit", "themes": ["hours"] }), "question"),
        (
            &no_text,
            json!({ "question": "ideas", "themes": ["hours"] }),
            "question",
        ),
    ] {
        let (s, p) = call(Method::PUT, codes(rid), staff.clone(), Some(body)).await;
        assert_eq!((s, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, at.into()), "{p}");
    }
    // Reading the response shows its codes and who coded them.
    let (s, r) = call(
        Method::GET,
        format!("/api/v1/consultations/{id}/responses/{}", hours_list[0]),
        staff.clone(),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["codes"][0]["question"], "ideas");
    assert_eq!(r["codes"][0]["note"], "wants Sundays");
    assert!(r["codes"][0]["coded_by"].is_string());

    // The analysis counts, computed here from what was sent and coded.
    let analysis = format!("/api/v1/consultations/{id}/analysis");
    let (s, a) = call(Method::GET, analysis.clone(), staff.clone(), None).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let ideas = a["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "ideas")
        .unwrap()
        .clone();
    assert_eq!(ideas["answered"], sent.len());
    assert_eq!(ideas["coded"], parking.len() + 2);
    let counts: Vec<(String, u64)> = ideas["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap().to_owned(), t["count"].as_u64().unwrap()))
        .collect();
    // transport: every parking answer and the one with buses too, each once.
    assert_eq!(
        counts,
        [
            ("car-parking".to_owned(), parking.len() as u64),
            ("transport".to_owned(), parking.len() as u64),
            ("hours".to_owned(), 2),
            ("buses".to_owned(), 1),
        ]
    );
    for (_, text) in &sent {
        assert!(!a.to_string().contains(text), "{text} in the analysis");
    }

    // Deleting: nested themes and codes in use refuse it; move_to recodes.
    let (s, p) = call(Method::DELETE, format!("{themes}/transport"), staff.clone(), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let (s, p) = call(Method::DELETE, format!("{themes}/hours"), staff.clone(), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(p["detail"].as_str().unwrap().contains('2'), "{p}");
    let (s, p) = call(
        Method::DELETE,
        format!("{themes}/hours?move_to=nope"),
        staff.clone(),
        None,
    )
    .await;
    assert_eq!(
        (s, field(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, "move_to".into()),
        "{p}"
    );
    let (s, d) = call(
        Method::DELETE,
        format!("{themes}/hours?move_to=buses"),
        staff.clone(),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["recoded"], 2);
    let (_, list) = call(Method::GET, themes.clone(), staff.clone(), None).await;
    let keys: Vec<&str> = list["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["transport", "buses", "car-parking"]);

    // Feedback naming a theme: an unknown one is refused; the published item shows how many
    // raised it: exact to staff, a public figure (never below 5) to everyone else.
    let after = app.later(45).await;
    let feedback = format!("/api/v1/consultations/{id}/feedback");
    let item = |key: &str| json!({ "theme": "Parking", "you_said": "Not enough parking", "we_did": "Opened the school car park at weekends", "theme_key": key });
    let (s, p) = app
        .at(
            &after,
            Method::PUT,
            &feedback,
            Some(&app.coordinator),
            Some(json!({ "items": [item("nope")] })),
        )
        .await;
    assert_eq!(
        (s, field(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, "items[0].theme_key".into()),
        "{p}"
    );
    let (s, f) = app
        .at(
            &after,
            Method::PUT,
            &feedback,
            Some(&app.coordinator),
            Some(json!({ "items": [item("transport"), item("buses")], "publish": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["items"][0]["theme_key"], "transport");
    // transport: the parking answers and the two hours answers moved to buses, each once.
    assert_eq!(
        f["items"][0]["responses"],
        json!({ "count": parking.len() + 2, "hidden": false, "noisy": false })
    );
    assert_eq!(f["items"][1]["responses"]["count"], 3);
    let (s, public) = app.at(&after, Method::GET, &feedback, None, None).await;
    assert_eq!(s, StatusCode::OK, "{public}");
    for i in 0..2 {
        let r = &public["items"][i]["responses"];
        assert_eq!(r["noisy"], true, "{public}");
        match r["count"].as_u64() {
            None => assert_eq!(r["hidden"], true),
            Some(n) => assert!(n >= 5 && r["hidden"] == false, "{public}"),
        }
    }
    // The figure is stable: asked again, the same.
    assert_eq!(app.at(&after, Method::GET, &feedback, None, None).await.1, public);

    // The CLI: the same codeframe, suggestions, and bad input as exit 2.
    let out = app.cli(&["themes", &id.to_string(), "list", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, list["themes"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("ideas: {} of {}", parking.len() + 2, sent.len())));
    let out = app.cli(&[
        "themes",
        &id.to_string(),
        "add",
        "fees",
        "--label",
        "Fees",
        "--parent",
        "transport",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = app.cli(&[
        "themes",
        &id.to_string(),
        "add",
        "late",
        "--label",
        "Late",
        "--parent",
        "fees",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("parent"));
    let last = &sent.last().unwrap().0;
    let out = app.cli(&[
        "themes",
        &id.to_string(),
        "code",
        last,
        "--question",
        "ideas",
        "--theme",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("themes[0]"));
    let out = app.cli(&[
        "themes",
        &id.to_string(),
        "code",
        last,
        "--question",
        "ideas",
        "--theme",
        "fees",
        "--note",
        "staff praise, filed under fees for the test",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let codes: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes[0]["themes"], json!(["fees"]));
    let out = app.cli(&[
        "themes",
        &id.to_string(),
        "suggest",
        "--question",
        "ideas",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["progress"]["coded"], parking.len() + 3);
}

//! Questionnaires: set and read, invalid definitions named field by field, locked once the
//! activity opens but for audited wording corrections, public once published; responses'
//! answers checked against it (each kind of invalid answer a 422 naming `answers.<key>`); the
//! CLI's `questionnaire set|show`.

use consult_tests::{TestApp, consultation, error_fields};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn definition() -> Value {
    json!({ "sections": [
        { "title": "Your park", "intro": "About the park near you.", "questions": [
            { "key": "visit", "type": "single_choice", "text": "Do you visit the park?", "required": true,
              "options": [ { "key": "yes", "label": "Yes" }, { "key": "no", "label": "No" } ], "other": true },
            { "key": "uses", "type": "multiple_choice", "text": "What do you use it for?", "max_choices": 2,
              "options": [ { "key": "walk", "label": "Walking" }, { "key": "play", "label": "Play" },
                           { "key": "sport", "label": "Sport" } ],
              "show_if": { "question": "visit", "any_of": ["yes"] } },
            { "key": "satisfaction", "type": "scale", "text": "How satisfied are you?",
              "scale": { "min": 1, "max": 5, "min_label": "Very dissatisfied", "max_label": "Very satisfied" } },
            { "key": "priorities", "type": "ranking", "text": "Rank these",
              "options": [ { "key": "lights", "label": "Lighting" }, { "key": "bins", "label": "Bins" },
                           { "key": "seats", "label": "Seats" } ] },
            { "key": "age", "type": "number", "text": "Your age", "min": 16, "max": 120 },
            { "key": "last", "type": "date", "text": "When did you last visit?" },
            { "key": "ideas", "type": "free_text", "text": "Any ideas?", "max_length": 40 },
            { "key": "agree", "type": "grid", "text": "How far do you agree?", "scale": { "min": 1, "max": 5 },
              "statements": [ { "key": "safe", "text": "It feels safe" }, { "key": "clean", "text": "It is clean" } ] }
        ] }
    ] })
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect()
}

on_both!(questionnaire_set_read_and_lock);
async fn questionnaire_set_read_and_lock(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Park survey", 10, 30), true)
        .await;
    let draft = app
        .register_activity(&tamworth, consultation("tamworth", "Draft survey", -2, 30), false)
        .await;
    let path = format!("/api/v1/consultations/{id}/questionnaire");

    // None yet; only the owner's officers and coordinators may set one.
    assert_eq!(app.get(&path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.put(&path, None, definition()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.put(&path, Some(&police), definition()).await.0,
        StatusCode::FORBIDDEN
    );

    // Every invalid field is named.
    let mut bad = definition();
    bad["sections"][0]["questions"][0]["options"][1]["key"] = json!("yes");
    bad["sections"][0]["questions"][2]["type"] = json!("essay");
    bad["sections"][0]["questions"][3]["text"] = json!("  \u{200b} ");
    bad["sections"][0]["questions"][4]["show_if"] = json!({ "question": "ideas", "any_of": ["x"] });
    let (s, p) = app.put(&path, Some(&tamworth), bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(
        fields(&p),
        [
            "sections[0].questions[0].options[1].key",
            "sections[0].questions[2].type",
            "sections[0].questions[3].text",
            "sections[0].questions[4].show_if.question",
        ]
    );
    let (s, p) = app
        .put(&path, Some(&tamworth), json!({ "sections": [], "colour": "red" }))
        .await;
    assert_eq!(
        (s, fields(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["colour".to_owned()]),
        "{p}"
    );

    // Set, then read by the public (the activity is published: approved).
    let (s, q) = app.put(&path, Some(&tamworth), definition()).await;
    assert_eq!(s, StatusCode::OK, "{q}");
    assert_eq!(q["version"], 1);
    let res = app.send(Method::GET, &path, None, None).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let (s, public) = consult_tests::into_json(res).await;
    assert_eq!((s, &public), (StatusCode::OK, &q));
    assert_eq!(public["sections"][0]["questions"][7]["statements"][1]["key"], "clean");

    // Any change before opening, each a new version; a stale version is a conflict.
    let mut changed = q.clone();
    changed["sections"][0]["questions"][6]["max_length"] = json!(100);
    let (s, v2) = app.put(&path, Some(&tamworth), changed.clone()).await;
    assert_eq!((s, v2["version"].as_u64()), (StatusCode::OK, Some(2)), "{v2}");
    let (s, p) = app.put(&path, Some(&tamworth), changed).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");

    // A draft's questionnaire is not public.
    let draft_path = format!("/api/v1/consultations/{draft}/questionnaire");
    assert_eq!(
        app.put(&draft_path, Some(&tamworth), definition()).await.0,
        StatusCode::OK
    );
    assert_eq!(app.get(&draft_path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&draft_path, Some(&tamworth)).await.0, StatusCode::OK);

    // Once open: locked (409), but for wording corrections, which are audited.
    let later = app.later(12).await;
    let mut structural = v2.clone();
    structural["sections"][0]["questions"][0]["options"][1]["key"] = json!("never");
    let (s, p) = app
        .at(&later, Method::PUT, &path, Some(&tamworth), Some(structural))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let mut wording = v2.clone();
    wording["sections"][0]["questions"][0]["text"] = json!("Have you visited the park this year?");
    wording["sections"][0]["questions"][2]["scale"]["max_label"] = json!("Very happy");
    let (s, v3) = app.at(&later, Method::PUT, &path, Some(&tamworth), Some(wording)).await;
    assert_eq!((s, v3["version"].as_u64()), (StatusCode::OK, Some(3)), "{v3}");
    let (_, audit) = app
        .get(&format!("/api/v1/consultations/{id}/audit"), Some(&tamworth))
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .filter(|a| a.starts_with("questionnaire."))
        .collect();
    assert_eq!(
        actions,
        [
            "questionnaire.correct_wording",
            "questionnaire.set",
            "questionnaire.set"
        ]
    );
}

on_both!(questionnaire_answers_are_checked);
async fn questionnaire_answers_are_checked(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Park survey", 10, 30), true)
        .await;
    let plain = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 30), true)
        .await;
    let (s, q) = app
        .put(
            &format!("/api/v1/consultations/{id}/questionnaire"),
            Some(&tamworth),
            definition(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{q}");

    // No questionnaire: no answers.
    let (s, p) = app
        .post(
            &format!("/api/v1/consultations/{plain}/responses"),
            None,
            json!({ "comments": "Open later", "answers": { "visit": "yes" } }),
        )
        .await;
    assert_eq!(
        (s, fields(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["answers".to_owned()]),
        "{p}"
    );

    let later = app.later(12).await;
    let responses = format!("/api/v1/consultations/{id}/responses");
    let respond = |answers: Value| {
        let (later, responses) = (later.clone(), responses.clone());
        async move {
            app.at(
                &later,
                Method::POST,
                &responses,
                None,
                Some(json!({ "answers": answers })),
            )
            .await
        }
    };
    let good = json!({
        "visit": "yes", "uses": ["walk", "play"], "satisfaction": 4, "priorities": ["bins", "lights", "seats"],
        "age": 42, "last": "2026-05-01", "ideas": "More benches", "agree": { "safe": 5, "clean": 3 }
    });
    let (s, receipt) = respond(good.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{receipt}");
    let rid: uuid::Uuid = receipt["id"].as_str().unwrap().parse().unwrap();
    let rows = app.store.response_answers(rid).await.unwrap();
    assert_eq!(rows.len(), 1 + 2 + 1 + 3 + 1 + 1 + 1 + 2);
    let (s, _) = respond(json!({ "visit": { "option": "other", "text": "Only in summer" } })).await;
    assert_eq!(s, StatusCode::CREATED);

    let with = |key: &str, value: Value| {
        let mut a = good.clone();
        a[key] = value;
        a
    };
    let cases = [
        (json!({ "visit": "no", "colour": "red" }), "answers.colour"),
        (with("visit", json!("sometimes")), "answers.visit"),
        (json!({ "satisfaction": 3 }), "answers.visit"),
        (json!({ "visit": "no", "uses": ["walk"] }), "answers.uses"),
        (with("uses", json!(["walk", "play", "sport"])), "answers.uses"),
        (with("satisfaction", json!(6)), "answers.satisfaction"),
        (with("age", json!(7)), "answers.age"),
        (with("last", json!("1850-01-01")), "answers.last"),
        (with("last", json!("2026-02-30")), "answers.last"),
        (with("ideas", json!("x".repeat(41))), "answers.ideas"),
        (with("priorities", json!(["bins", "lights"])), "answers.priorities"),
        (
            with("priorities", json!(["bins", "bins", "seats"])),
            "answers.priorities",
        ),
        (
            with("agree", json!({ "safe": 5, "clean": 3, "quiet": 1 })),
            "answers.agree.quiet",
        ),
        (with("agree", json!({ "safe": 5 })), "answers.agree.clean"),
        (with("agree", json!({ "safe": 9, "clean": 3 })), "answers.agree.safe"),
        (
            with("priorities", json!([{ "option": "other", "text": "x" }])),
            "answers.priorities",
        ),
        (
            with("uses", json!(["walk", { "option": "other", "text": "Picnics" }])),
            "answers.uses",
        ),
        (with("age", json!("forty")), "answers.age"),
    ];
    for (answers, field) in cases {
        let (s, p) = respond(answers.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{answers} -> {p}");
        assert!(
            fields(&p).iter().any(|f| f == field),
            "{field} not in {p} for {answers}"
        );
    }
}

on_both!(questionnaire_cli_set_and_show);
async fn questionnaire_cli_set_and_show(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Park survey", 10, 30), false)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("q.toml");
    std::fs::write(
        &toml,
        r#"
[[sections]]
title = "Your view"

[[sections.questions]]
key = "satisfaction"
type = "scale"
text = "How satisfied are you with this consultation?"
scale = { min = 1, max = 5, min_label = "Very dissatisfied", max_label = "Very satisfied" }

[[sections.questions]]
key = "age"
type = "number"
text = "Your age"
min = 16
"#,
    )
    .unwrap();
    let out = app.cli(&["questionnaire", "set", &id, "--file", toml.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = app.cli(&["questionnaire", "show", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["sections"][0]["questions"][1]["min"], 16.0);

    let json_file = dir.path().join("q.json");
    let mut bad = definition();
    bad["sections"][0]["questions"][5]["key"] = json!("Last Visit");
    std::fs::write(&json_file, serde_json::to_vec(&bad).unwrap()).unwrap();
    let out = app.cli(&["questionnaire", "set", &id, "--file", json_file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("sections[0].questions[5].key"), "{stderr}");
}

on_both!(standard_questions_are_asked_by_name);
/// The library of standard questions is public, asked by name in a questionnaire (stored in
/// full, so the questionnaire reads the same whatever the library becomes), and listed by the
/// CLI with the monitoring questions beside it.
async fn standard_questions_are_asked_by_name(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let (s, library) = app.get("/api/v1/questionnaire/standard", None).await;
    assert_eq!(s, StatusCode::OK, "{library}");
    let names: Vec<&str> = library["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["standard"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["satisfaction", "influence", "informed", "responding_as", "heard_about"]
    );
    assert_eq!(library["questions"][1]["question"]["type"], "scale");
    assert!(
        library["monitoring"]["characteristics"].as_array().unwrap().len() >= 5,
        "{library}"
    );
    assert_eq!(
        app.get("/api/v1/questionnaire/standard?organisation=nowhere", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Park survey", 10, 30), false)
        .await;
    let path = format!("/api/v1/consultations/{id}/questionnaire");
    let body = json!({ "sections": [ { "title": "About you and this survey", "questions": [
        { "standard": "responding_as", "required": true },
        { "key": "comments", "type": "free_text", "text": "Anything else?" },
        { "standard": "satisfaction", "key": "sat", "show_if": { "question": "responding_as", "any_of": ["resident"] } }
    ] } ] });
    let (s, stored) = app.put(&path, Some(&tamworth), body).await;
    assert_eq!(s, StatusCode::OK, "{stored}");
    let questions = stored["sections"][0]["questions"].as_array().unwrap();
    assert_eq!(questions[0]["key"], "responding_as");
    assert_eq!(questions[0]["required"], true);
    assert_eq!(questions[0]["options"][0]["key"], "resident");
    assert_eq!(questions[2]["key"], "sat");
    assert_eq!(questions[2]["text"], "How satisfied are you with this consultation?");
    assert!(
        questions.iter().all(|q| q.get("standard").is_none()),
        "stored in full: {stored}"
    );

    let bad = json!({ "sections": [ { "title": "T", "questions": [
        { "standard": "favourite_colour" }, { "standard": "influence", "text": "Changed" } ] } ] });
    let (s, p) = app.put(&path, Some(&tamworth), bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(
        error_fields(&p),
        ["sections[0].questions[0].standard", "sections[0].questions[1].standard"]
    );

    let out = app.cli(&["questionnaire", "standard"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("heard_about") && table.contains("multiple_choice"),
        "{table}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("monitoring questions"));
}

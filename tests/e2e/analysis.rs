//! Staff analysis per question: counts, shares and intervals for choices, means, medians and
//! distributions for scales and numbers, average ranks and first choices for rankings, grids
//! per statement, only counts for dates and free text; the write guard; the CLI's json.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn question<'a>(a: &'a Value, key: &str) -> &'a Value {
    a["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == key)
        .unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// (key, count, share) of each option.
fn options(q: &Value) -> Vec<(String, u64, f64)> {
    q["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["key"].as_str().unwrap().to_owned(),
                o["count"].as_u64().unwrap(),
                f(&o["share"]),
            )
        })
        .collect()
}

/// (value, count) of a distribution.
fn distribution(d: &Value) -> Vec<(f64, u64)> {
    d.as_array()
        .unwrap()
        .iter()
        .map(|v| (f(&v["value"]), v["count"].as_u64().unwrap()))
        .collect()
}

on_both!(staff_analyse_answers);
async fn staff_analyse_answers(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let id = app.park_survey(&tamworth, "Park survey", 10, 30).await;
    let later = app.later(12).await;
    let path = format!("/api/v1/consultations/{id}/responses");
    let sent = [
        json!({ "answers": { "visit": "yes", "uses": ["walk", "play"], "satisfaction": 4,
            "priorities": ["bins", "lights", "seats"], "age": 40, "last": "2026-05-01",
            "ideas": "More benches", "agree": { "safe": 5, "clean": 3 } } }),
        json!({ "answers": { "visit": "no", "uses": ["walk", { "option": "other", "text": "Dogs" }],
            "satisfaction": 2, "priorities": ["lights", "bins", "seats"], "age": 30,
            "agree": { "safe": 4, "clean": 3 } } }),
        json!({ "answers": { "visit": "yes", "uses": ["play"], "satisfaction": 5,
            "priorities": ["bins", "seats", "lights"], "age": 20, "ideas": "Quieter mornings" } }),
        json!({ "answers": { "visit": { "option": "other", "text": "Rarely" } } }),
        json!({ "comments": "No answers, only a comment" }),
    ];
    for body in &sent {
        let (s, r) = app.at(&later, Method::POST, &path, None, Some(body.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let analysis = format!("/api/v1/consultations/{id}/analysis");

    // The public and another organisation's officer see nothing until the results are
    // published (and then only public figures).
    assert_eq!(
        app.at(&later, Method::GET, &analysis, None, None).await.0,
        StatusCode::CONFLICT
    );
    let (s, _) = app.at(&later, Method::GET, &analysis, Some(&police), None).await;
    assert_eq!(s, StatusCode::CONFLICT);

    let (s, coordinator) = app
        .at(&later, Method::GET, &analysis, Some(&app.coordinator), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{coordinator}");
    let (s, a) = app.at(&later, Method::GET, &analysis, Some(&tamworth), None).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a, coordinator);
    assert_eq!(a["respondents"], 5);
    let keys: Vec<&str> = a["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "visit",
            "uses",
            "satisfaction",
            "priorities",
            "age",
            "last",
            "ideas",
            "agree"
        ]
    );

    // Single choice: 4 answered; yes 2, no 1, other 1; Wilson 2 of 4 is 0.15..0.85.
    let visit = question(&a, "visit");
    assert_eq!(
        (visit["type"].as_str(), visit["answered"].as_u64()),
        (Some("single_choice"), Some(4))
    );
    assert_eq!(
        options(visit),
        [
            ("yes".into(), 2, 0.5),
            ("no".into(), 1, 0.25),
            ("other".into(), 1, 0.25)
        ]
    );
    assert_eq!(
        (
            f(&visit["options"][0]["interval"][0]),
            f(&visit["options"][0]["interval"][1])
        ),
        (0.15, 0.85)
    );
    assert!(visit.get("mean").is_none() && visit.get("ranking").is_none());

    // Multiple choice: shares of the 3 who answered.
    let uses = question(&a, "uses");
    assert_eq!(uses["answered"], 3);
    assert_eq!(
        options(uses),
        [
            ("walk".into(), 2, 0.6667),
            ("play".into(), 2, 0.6667),
            ("other".into(), 1, 0.3333)
        ]
    );

    // Scale: 4, 2, 5.
    let sat = question(&a, "satisfaction");
    assert_eq!(sat["answered"], 3);
    assert_eq!((f(&sat["mean"]), f(&sat["median"])), (3.6667, 4.0));
    assert_eq!(
        distribution(&sat["distribution"]),
        [(1.0, 0), (2.0, 1), (3.0, 0), (4.0, 1), (5.0, 1)]
    );
    assert!(sat.get("options").is_none());

    // Ranking: bins 1, 2, 1; lights 2, 1, 3; seats 3, 3, 2.
    let ranking: Vec<(String, f64, u64)> = question(&a, "priorities")["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                f(&r["mean_rank"]),
                r["first"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranking,
        [
            ("lights".into(), 2.0, 1),
            ("bins".into(), 1.3333, 2),
            ("seats".into(), 2.6667, 0)
        ]
    );

    // Number: 40, 30, 20; the distribution is over the values given.
    let age = question(&a, "age");
    assert_eq!((f(&age["mean"]), f(&age["median"])), (30.0, 30.0));
    assert_eq!(distribution(&age["distribution"]), [(20.0, 1), (30.0, 1), (40.0, 1)]);

    // Date and free text: only how many answered; no text at all.
    assert_eq!(question(&a, "last")["answered"], 1);
    assert_eq!(question(&a, "ideas")["answered"], 2);
    assert_eq!(question(&a, "ideas")["themes"], json!([]));
    for text in ["benches", "mornings", "Dogs", "Rarely", "2026-05-01"] {
        assert!(!a.to_string().contains(text), "{text} in {a}");
    }

    // Grid: safe 5, 4; clean 3, 3.
    let agree = question(&a, "agree");
    assert_eq!(agree["answered"], 2);
    let safe = &agree["statements"][0];
    assert_eq!(safe["key"], "safe");
    assert_eq!((f(&safe["mean"]), f(&safe["median"])), (4.5, 4.5));
    assert_eq!(
        distribution(&safe["distribution"]),
        [(1.0, 0), (2.0, 0), (3.0, 0), (4.0, 1), (5.0, 1)]
    );
    let clean = &agree["statements"][1];
    assert_eq!(
        (clean["answered"].as_u64(), f(&clean["mean"]), f(&clean["median"])),
        (Some(2), 3.0, 3.0)
    );

    // An activity without a questionnaire: its respondents, no questions.
    let bare = app
        .register_activity(&tamworth, consultation("tamworth", "Bare", 10, 30), true)
        .await;
    let (s, b) = app
        .at(
            &later,
            Method::GET,
            &format!("/api/v1/consultations/{bare}/analysis"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b, json!({ "respondents": 0, "public": false, "questions": [] }));

    // The CLI: the same analysis as JSON, and a table.
    let out = app.cli(&["analysis", &id.to_string(), "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, a);
    let out = app.cli(&["analysis", &id.to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("priorities"));
}

on_both!(survey_exports_are_imported_question_by_question);
async fn survey_exports_are_imported_question_by_question(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    // The questionnaire is set before the activity opens (tomorrow); the import comes once open.
    let id = app.park_survey(&tamworth, "Park survey", 1, 30).await;
    let open = app.later(2).await;
    // A survey tool's words, one column per question part, its own labels for options.
    let header = "Respondent,Visit?,Visit other,Walking,Play,Uses other,Satisfaction,Rank lighting,Rank bins,Rank seats,Age,Last visit,Ideas,Safe,Clean,Sex";
    let rows = [
        "1,Yes,,1,,,Very satisfied,1,2,3,34,03/01/2026,More benches,5,4,F",
        "2,No,,,1,Dog walking,Dissatisfied,3,1,2,71,2026-01-05,,2,2,M",
        "3,,Sometimes,1,1,,3,2,3,1,,,Fix the lights,4,4,",
        "4,yes,,1,,,Very satisfied,1,3,2,19,,,5,5,F",
    ];
    let mapping = json!({
        "comments": "Ideas",
        "columns": { "sex": "Sex" },
        "values": { "sex": { "F": "female", "M": "male" } },
        "questions": {
            "visit": { "column": "Visit?", "other": "Visit other" },
            "uses": { "columns": { "walk": "Walking", "play": "Play" }, "other": "Uses other" },
            "satisfaction": { "column": "Satisfaction",
                              "values": { "Very satisfied": "5", "Satisfied": "4", "Dissatisfied": "2" } },
            "priorities": { "columns": { "lights": "Rank lighting", "bins": "Rank bins", "seats": "Rank seats" } },
            "age": "Age",
            "last": "Last visit",
            "ideas": "Ideas",
            "agree": { "columns": { "safe": "Safe", "clean": "Clean" } }
        }
    });
    let csv = std::iter::once(header).chain(rows).collect::<Vec<_>>().join("\n");
    let path = format!("/api/v1/consultations/{id}/responses/import");
    let (s, r) = app
        .at(
            &open,
            Method::POST,
            &path,
            Some(&tamworth),
            Some(json!({ "mapping": mapping, "csv": csv })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["imported"], 4);

    // What the analysis counts is what the file said, recounted here from the rows.
    let (s, a) = app
        .at(
            &open,
            Method::GET,
            &format!("/api/v1/consultations/{id}/analysis"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["respondents"], 4);
    let visit = options(question(&a, "visit"));
    let count = |k: &str| visit.iter().find(|o| o.0 == k).unwrap().1;
    assert_eq!((count("yes"), count("no"), count("other")), (2, 1, 1));
    let uses = options(question(&a, "uses"));
    let used = |k: &str| uses.iter().find(|o| o.0 == k).unwrap().1;
    assert_eq!((used("walk"), used("play"), used("other")), (3, 2, 1));
    let sat = question(&a, "satisfaction");
    assert_eq!(sat["answered"], 4);
    assert_eq!(f(&sat["mean"]), (5.0 + 2.0 + 3.0 + 5.0) / 4.0);
    let ranking = question(&a, "priorities")["ranking"].as_array().unwrap().clone();
    let first = |k: &str| {
        ranking.iter().find(|o| o["key"] == k).unwrap()["first"]
            .as_u64()
            .unwrap()
    };
    // Firsts by the rank columns: lighting in rows 1 and 4, bins in row 2, seats in row 3.
    assert_eq!((first("lights"), first("bins"), first("seats")), (2, 1, 1));
    assert_eq!(question(&a, "age")["answered"], 3);
    assert_eq!(question(&a, "last")["answered"], 2);
    assert_eq!(question(&a, "ideas")["answered"], 2);
    assert_eq!(question(&a, "agree")["answered"], 4);

    // A bad cell is named by its line and column, and nothing of the file is stored.
    let bad = format!("{header}\n5,Maybe,,1,,,5,1,2,3,34,,,5,5,\n6,No,,,,,Very satisfied,1,2,3,300,,,5,5,");
    let (s, p) = app
        .at(
            &open,
            Method::POST,
            &path,
            Some(&tamworth),
            Some(json!({ "mapping": mapping, "csv": bad })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let errors: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(errors[0].0, "line[2].answers.visit", "{errors:?}");
    assert!(errors[0].1.contains("column `Visit?`"), "{errors:?}");
    assert_eq!(errors[1].0, "line[3].answers.age", "{errors:?}");
    assert!(errors[1].1.contains("column `Age`"), "{errors:?}");
    let (_, a) = app
        .at(
            &open,
            Method::GET,
            &format!("/api/v1/consultations/{id}/analysis"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(a["respondents"], 4);

    // A mapping naming what the questionnaire or the file does not have is refused whole.
    let wrong = json!({ "questions": { "nope": "Age", "age": "Years" } });
    let (s, p) = app
        .at(
            &open,
            Method::POST,
            &path,
            Some(&tamworth),
            Some(json!({ "mapping": wrong, "csv": csv })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["mapping.questions.age.column", "mapping.questions.nope"]);
}

on_both!(cross_tabs_and_the_public_analysis);
async fn cross_tabs_and_the_public_analysis(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    // Opens tomorrow for ten days; the answers come while open, the results after closing.
    let id = app.park_survey(&tamworth, "Park survey", 1, 10).await;
    let open = app.later(2).await;
    let path = format!("/api/v1/consultations/{id}/responses");
    // 40 respondents: (visit, satisfaction, sex) varied so some cells are large and some small.
    let mut sent: Vec<(String, i64, Option<&str>)> = Vec::new();
    for i in 0..40 {
        let visit = if i % 10 == 9 { "no" } else { "yes" };
        let satisfaction = [4, 5, 4, 3][i % 4];
        let sex = match i % 5 {
            0..=2 => Some("female"),
            3 => Some("male"),
            _ => None,
        };
        let mut body = json!({ "answers": { "visit": visit, "satisfaction": satisfaction, "age": 20 + i } });
        if let Some(sex) = sex {
            body["monitoring"] = json!({ "sex": sex });
        }
        let (s, r) = app.at(&open, Method::POST, &path, None, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        sent.push((visit.to_owned(), satisfaction, sex));
    }
    let analysis = format!("/api/v1/consultations/{id}/analysis");

    // Staff: each question broken down by sex, every group checked against the test's count.
    let (s, a) = app
        .at(&open, Method::GET, &format!("{analysis}?by=sex"), Some(&tamworth), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["by"], "sex");
    let groups: Vec<&str> = a["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert!(groups.contains(&"female") && groups.contains(&"prefer_not_to_say") && groups.ends_with(&["not_answered"]));
    let visit = question(&a, "visit");
    for g in visit["breakdown"].as_array().unwrap() {
        let group = g["group"].as_str().unwrap();
        let in_group = |s: &Option<&str>| match group {
            "not_answered" => s.is_none(),
            other => *s == Some(other),
        };
        let expected_yes = sent.iter().filter(|(v, _, s)| v == "yes" && in_group(s)).count() as u64;
        let expected_answered = sent.iter().filter(|(_, _, s)| in_group(s)).count() as u64;
        let yes = g["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == "yes")
            .unwrap();
        assert_eq!(
            (g["answered"].as_u64(), yes["count"].as_u64()),
            (Some(expected_answered), Some(expected_yes)),
            "{group}: {g}"
        );
    }
    let sat = question(&a, "satisfaction");
    let female = sat["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "female")
        .unwrap();
    let female_points: Vec<i64> = sent
        .iter()
        .filter(|(_, _, s)| *s == Some("female"))
        .map(|(_, p, _)| *p)
        .collect();
    let mean = female_points.iter().sum::<i64>() as f64 / female_points.len() as f64;
    assert!((f(&female["mean"]) - mean).abs() < 1e-3, "{female}");
    // An unknown characteristic is refused, naming `by`.
    let (s, p) = app
        .at(
            &open,
            Method::GET,
            &format!("{analysis}?by=star_sign"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "by");

    // The public: nothing until the results are published.
    let (s, _) = app.at(&open, Method::GET, &analysis, None, None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let closed = app.later(13).await;
    let (s, _) = app.at(&closed, Method::GET, &analysis, None, None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let feedback = json!({ "items": [ { "theme": "Benches", "you_said": "More benches", "we_did": "Ordered ten" } ], "publish": true });
    let (s, r) = app
        .at(
            &closed,
            Method::PUT,
            &format!("/api/v1/consultations/{id}/feedback"),
            Some(&app.coordinator),
            Some(feedback),
        )
        .await;
    assert!(s.is_success(), "{r}");
    let (s, public) = app
        .at(&closed, Method::GET, &format!("{analysis}?by=sex"), None, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{public}");
    assert_eq!(public["public"], true);
    assert_eq!(public["respondents"], 40);
    // Every count shown is at least 5 and near the true one; the small ones are hidden.
    let exact_visit = |k: &str| sent.iter().filter(|(v, _, _)| v == k).count() as i64;
    let pv = question(&public, "visit");
    for o in pv["options"].as_array().unwrap() {
        match o["count"].as_i64() {
            Some(n) => {
                assert!(n >= 5, "{o}");
                assert!((n - exact_visit(o["key"].as_str().unwrap())).abs() <= 12, "{o}");
            }
            None => assert!(o["share"].is_null() && o["interval"].is_null(), "{o}"),
        }
    }
    // `other` (nobody) cannot be shown; a count of 0 never is.
    let other = pv["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["key"] == "other")
        .unwrap();
    assert!(other["count"].is_null(), "{other}");
    // Numbers are only counted in public; a hidden point hides the mean.
    let age = question(&public, "age");
    assert!(age.get("distribution").is_none() && age.get("mean").is_none(), "{age}");
    let psat = question(&public, "satisfaction");
    let d = psat["distribution"].as_array().unwrap();
    assert!(
        d.iter().any(|v| v["count"].is_null()),
        "points 1 and 2 were never given: {psat}"
    );
    assert!(psat.get("mean").is_none(), "{psat}");
    // No shown count anywhere in the breakdown is below 5.
    let text = public.to_string();
    for g in pv["breakdown"].as_array().unwrap() {
        for o in g["options"].as_array().unwrap() {
            assert!(o["count"].as_u64().is_none_or(|n| n >= 5), "{g}");
        }
    }
    assert!(!text.contains("More benches"), "no free text in public");
    // The same figures on every read (the noise is fixed).
    let (_, again) = app
        .at(&closed, Method::GET, &format!("{analysis}?by=sex"), None, None)
        .await;
    assert_eq!(public, again);
}

on_both!(answers_broken_down_by_area);
async fn answers_broken_down_by_area(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    // For Tamworth (E07000199); respondents may say where they live.
    let id = app.park_survey(&tamworth, "Park survey", 1, 30).await;
    let open = app.later(2).await;
    let path = format!("/api/v1/consultations/{id}/responses");
    let sent = [
        (Some("E07000199"), "yes"),
        (Some("E07000199"), "no"),
        (Some("E07000243"), "yes"),
        (None, "yes"),
    ];
    for (area, visit) in sent {
        let mut body = json!({ "answers": { "visit": visit } });
        if let Some(a) = area {
            body["area"] = json!(a);
        }
        let (s, r) = app.at(&open, Method::POST, &path, None, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    // An area the register does not have, or not a GSS code: refused, naming `area`.
    for bad in ["E09999999", "Tamworth"] {
        let (s, p) = app
            .at(
                &open,
                Method::POST,
                &path,
                None,
                Some(json!({ "answers": { "visit": "yes" }, "area": bad })),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], "area", "{p}");
    }
    let (s, a) = app
        .at(
            &open,
            Method::GET,
            &format!("/api/v1/consultations/{id}/analysis?by=area"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["by"], "area");
    let groups: Vec<(&str, &str, u64)> = a["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap(),
                g["label"].as_str().unwrap(),
                g["respondents"].as_u64().unwrap(),
            )
        })
        .collect();
    // The activity's area, then those outside it, then those who did not say.
    assert_eq!(
        groups,
        [
            ("E07000199", "Tamworth", 2),
            ("elsewhere", "Elsewhere", 1),
            ("not_answered", "Not answered", 1)
        ]
    );
    let visit = question(&a, "visit");
    let yes = |group: &str| {
        let g = visit["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == group)
            .unwrap();
        g["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == "yes")
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!((yes("E07000199"), yes("elsewhere"), yes("not_answered")), (1, 1, 1));
    // The area is counted, never shown beside a response.
    let (_, listed) = app.at(&open, Method::GET, &path, Some(&tamworth), None).await;
    assert!(!listed.to_string().contains("E07000243"), "{listed}");
}

on_both!(results_and_documents_shared_as_the_owner_chose);
async fn results_and_documents_shared_as_the_owner_chose(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let note = "Health answers are shared with partner bodies only, never published.";
    let mut body = consultation("tamworth", "Health survey", 1, 10);
    body["data_protection"] = json!({ "note": note, "allows": "partnership" });
    // Wider than the note allows: refused, naming the field.
    body["results_sharing"] = json!("public");
    let (s, p) = app.post("/api/v1/consultations", Some(&tamworth), body.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "results_sharing", "{p}");
    // A note without what it allows: refused too.
    let mut bare = body.clone();
    bare["data_protection"] = json!({ "note": note });
    bare.as_object_mut().unwrap().remove("results_sharing");
    let (s, p) = app.post("/api/v1/consultations", Some(&tamworth), bare).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "data_protection.allows", "{p}");

    // (sharing, whether the police's officer sees the results)
    for (level, partner_sees) in [("partnership", true), ("organisation", false)] {
        body["title"] = json!(format!("Health survey ({level})"));
        body["results_sharing"] = json!(level);
        let id = app.register_activity(&tamworth, body.clone(), true).await;
        let (s, q) = app
            .put(
                &format!("/api/v1/consultations/{id}/questionnaire"),
                Some(&tamworth),
                consult_tests::park_questionnaire(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{q}");
        let (s, d) = app
            .post(
                &format!("/api/v1/consultations/{id}/documents"),
                Some(&tamworth),
                json!({ "title": "Findings report", "url": "https://example.org/findings.pdf" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let open = app.later(2).await;
        for i in 0..12 {
            let visit = if i % 3 == 0 { "no" } else { "yes" };
            let (s, r) = app
                .at(
                    &open,
                    Method::POST,
                    &format!("/api/v1/consultations/{id}/responses"),
                    None,
                    Some(json!({ "answers": { "visit": visit } })),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{r}");
        }
        let closed = app.later(13).await;
        let feedback = json!({ "items": [ { "theme": "Waiting times", "you_said": "Too long", "we_did": "Added clinics" } ], "publish": true });
        let (s, r) = app
            .at(
                &closed,
                Method::PUT,
                &format!("/api/v1/consultations/{id}/feedback"),
                Some(&app.coordinator),
                Some(feedback),
            )
            .await;
        assert!(s.is_success(), "{r}");

        // What the activity is stays public, with its sharing and its note.
        let (s, c) = app
            .at(&closed, Method::GET, &format!("/api/v1/consultations/{id}"), None, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["results_sharing"], level, "{c}");
        assert_eq!(c["data_protection"]["note"], note, "{c}");
        assert_eq!(c["data_protection"]["allows"], "partnership", "{c}");

        let analysis = format!("/api/v1/consultations/{id}/analysis");
        let documents = format!("/api/v1/consultations/{id}/documents");
        let equality = format!("/api/v1/consultations/{id}/equality");
        for path in [&analysis, &documents, &equality] {
            // The public: asked to sign in, told with whom the results are shared.
            let (s, p) = app.at(&closed, Method::GET, path, None, None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{level} {path}: {p}");
            assert!(p["detail"].as_str().unwrap().contains("shared with"), "{p}");
            // Another partner's officer: as the sharing says.
            let (s, p) = app.at(&closed, Method::GET, path, Some(&police), None).await;
            let expected = if partner_sees {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(s, expected, "{level} {path}: {p}");
            // The owner: always.
            let (s, p) = app.at(&closed, Method::GET, path, Some(&tamworth), None).await;
            assert_eq!(s, StatusCode::OK, "{level} {path}: {p}");
        }
        // A partner sees public figures (disclosure control), the owner exact ones.
        if partner_sees {
            let (_, a) = app.at(&closed, Method::GET, &analysis, Some(&police), None).await;
            assert_eq!(a["public"], true, "{a}");
        }
        let (_, a) = app.at(&closed, Method::GET, &analysis, Some(&tamworth), None).await;
        assert_eq!(question(&a, "visit")["answered"], 12, "{a}");
        // A document by its own address: the same rule.
        let doc = format!("/api/v1/documents/{}", d["id"].as_str().unwrap());
        let (s, _) = app.at(&closed, Method::GET, &doc, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{level}");

        // "You said, we did" stays public.
        let (s, f) = app
            .at(
                &closed,
                Method::GET,
                &format!("/api/v1/consultations/{id}/feedback"),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["items"][0]["we_did"], "Added clinics", "{f}");

        // The public library lists the activity and its feedback, not its documents.
        let (s, lib) = app.at(&closed, Method::GET, "/api/v1/library", None, None).await;
        assert_eq!(s, StatusCode::OK, "{lib}");
        let entry = lib["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["consultation"]["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{lib}"));
        assert_eq!(entry["documents"], json!([]), "{entry}");
        assert!(entry.to_string().contains("Added clinics"), "{entry}");

        // The hub's page: "you said, we did" and the note, no link to the answers, no
        // documents, and with whom the results are shared; the answers' page is not found.
        let page = app
            .client
            .get(format!("{closed}/activities/{id}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Added clinics"), "{page}");
        assert!(page.contains(note), "{page}");
        assert!(!page.contains("Findings report"), "{page}");
        assert!(!page.contains(&format!("/activities/{id}/results")), "{page}");
        let shared = if partner_sees {
            "shared with the staff of the partner organisations only"
        } else {
            "kept within the organisation that ran it"
        };
        assert!(page.contains(shared), "{page}");
        let answers = app
            .client
            .get(format!("{closed}/activities/{id}/results"))
            .send()
            .await
            .unwrap();
        assert_eq!(answers.status(), StatusCode::NOT_FOUND);
    }
}

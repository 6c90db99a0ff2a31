//! The analysis shown: `format=csv` (parsed and checked against the JSON) and `format=html`
//! (charts and tables, hidden counts said as "fewer than 5", every value escaped) from the API,
//! for staff and, once results are published, for the public; the hub's page of what people
//! answered and a quick poll's result on its activity's page; the CLI's CSV the API's.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A hostile question text and option label: rendered as text, never as markup.
const HOSTILE: &str = "<script>window.__pwned=1</script> Do you visit?";
const HOSTILE_LABEL: &str = "Yes & <b>often</b>";

/// The park questionnaire with a hostile question text and option label.
fn questionnaire() -> Value {
    let mut q = consult_tests::park_questionnaire();
    let visit = &mut q["sections"][0]["questions"][0];
    visit["text"] = json!(HOSTILE);
    visit["options"][0]["label"] = json!(HOSTILE_LABEL);
    q
}

/// GET `path` on `base` with an optional token: status, content type, content disposition and
/// body as text.
async fn text(app: &TestApp, base: &str, path: &str, token: Option<&str>) -> (StatusCode, String, String, String) {
    let mut req = app.client.get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let header = |h: reqwest::header::HeaderName| {
        res.headers()
            .get(h)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (kind, disposition) = (
        header(reqwest::header::CONTENT_TYPE),
        header(reqwest::header::CONTENT_DISPOSITION),
    );
    (res.status(), kind, disposition, res.text().await.unwrap())
}

/// The CSV's rows as maps of column to cell.
fn csv_rows(body: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        headers,
        [
            "question",
            "type",
            "group",
            "answered",
            "part",
            "item",
            "label",
            "value",
            "count",
            "share",
            "interval_low",
            "interval_high",
            "mean",
            "median",
            "hidden"
        ]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers.iter().cloned().zip(rec.iter().map(str::to_owned)).collect()
        })
        .collect()
}

/// A count of the JSON as the CSV writes it: the number, or empty and hidden.
fn cell(count: &Value) -> (String, &'static str) {
    match count.as_u64() {
        Some(n) => (n.to_string(), "false"),
        None => {
            assert!(count.is_null(), "{count}");
            (String::new(), "true")
        }
    }
}

/// Checks every figure of the JSON analysis `a` against the CSV's rows: each question's
/// answered, each option's count and share, each point, each ranked option's first choices,
/// each statement's answers and points, and the breakdown's groups. Returns how many rows were
/// checked.
fn check_csv_against_json(a: &Value, rows: &[std::collections::HashMap<String, String>]) -> usize {
    let mut checked = 0;
    let find = |q: &str, group: &str, part: &str, item: &str, value: &str| {
        let found: Vec<_> = rows
            .iter()
            .filter(|r| r["question"] == q && r["group"] == group && r["part"] == part && r["item"] == item)
            .filter(|r| value.is_empty() || r["value"].parse::<f64>().ok() == value.parse::<f64>().ok())
            .collect();
        assert_eq!(found.len(), 1, "{q} {group} {part} {item} {value}: {found:?}");
        found[0].clone()
    };
    let mut parts = |q: &Value, group: &str, p: &Value| {
        let key = q["key"].as_str().unwrap();
        let head = find(key, group, "question", "", "");
        assert_eq!(head["type"], q["type"].as_str().unwrap());
        let (answered, hidden) = cell(&p["answered"]);
        assert_eq!(
            (head["answered"].as_str(), head["hidden"].as_str()),
            (answered.as_str(), hidden),
            "{key} {group}"
        );
        checked += 1;
        for o in p["options"].as_array().into_iter().flatten() {
            let row = find(key, group, "option", o["key"].as_str().unwrap(), "");
            let (count, hidden) = cell(&o["count"]);
            assert_eq!(
                (row["count"].as_str(), row["hidden"].as_str()),
                (count.as_str(), hidden),
                "{row:?}"
            );
            assert_eq!(row["label"], o["label"].as_str().unwrap());
            assert_eq!(row["share"].parse::<f64>().ok(), o["share"].as_f64(), "{row:?}");
            assert_eq!(
                row["interval_low"].parse::<f64>().ok(),
                o["interval"][0].as_f64(),
                "{row:?}"
            );
            checked += 1;
        }
        for d in p["distribution"].as_array().into_iter().flatten() {
            let row = find(key, group, "value", "", &d["value"].to_string());
            let (count, hidden) = cell(&d["count"]);
            assert_eq!(
                (row["count"].as_str(), row["hidden"].as_str()),
                (count.as_str(), hidden),
                "{row:?}"
            );
            checked += 1;
        }
        for r in p["ranking"].as_array().into_iter().flatten() {
            let row = find(key, group, "rank", r["key"].as_str().unwrap(), "");
            let (count, _) = cell(&r["first"]);
            assert_eq!(row["count"], count, "{row:?}");
            assert_eq!(row["mean"].parse::<f64>().ok(), r["mean_rank"].as_f64(), "{row:?}");
            checked += 1;
        }
        for s in p["statements"].as_array().into_iter().flatten() {
            let item = s["key"].as_str().unwrap();
            let row = find(key, group, "statement", item, "");
            assert_eq!(row["count"], cell(&s["answered"]).0, "{row:?}");
            assert_eq!(row["mean"].parse::<f64>().ok(), s["mean"].as_f64(), "{row:?}");
            for d in s["distribution"].as_array().unwrap() {
                let row = find(key, group, "statement_value", item, &d["value"].to_string());
                assert_eq!(row["count"], cell(&d["count"]).0, "{row:?}");
                checked += 1;
            }
        }
    };
    for q in a["questions"].as_array().unwrap() {
        parts(q, "all", q);
        for g in q["breakdown"].as_array().into_iter().flatten() {
            parts(q, g["group"].as_str().unwrap(), g);
        }
    }
    checked
}

on_both!(analysis_as_csv_and_html_and_on_the_hub);
async fn analysis_as_csv_and_html_and_on_the_hub(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Park survey", 1, 10), true)
        .await;
    let (s, q) = app
        .put(
            &format!("/api/v1/consultations/{id}/questionnaire"),
            Some(&tamworth),
            questionnaire(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{q}");
    let open = app.later(2).await;
    let path = format!("/api/v1/consultations/{id}/responses");
    // 40 respondents: nobody says "other" to visit and nobody gives 1 or 2 on satisfaction, so
    // those public counts are hidden; free text each respondent's own.
    let mut ids = Vec::new();
    for i in 0..40 {
        let visit = if i % 4 == 3 { "no" } else { "yes" };
        let satisfaction = [4, 5, 4, 3][i % 4];
        let priorities = if i % 3 == 0 {
            ["bins", "lights", "seats"]
        } else {
            ["lights", "bins", "seats"]
        };
        let mut body = json!({ "answers": {
            "visit": visit, "satisfaction": satisfaction, "age": 20 + i, "priorities": priorities,
            "ideas": format!("Secret idea number {i}"),
            "agree": { "safe": 3 + i % 3, "clean": 4 } } });
        if i % 5 < 3 {
            body["monitoring"] = json!({ "sex": if i % 5 == 0 { "male" } else { "female" } });
        }
        let (s, r) = app.at(&open, Method::POST, &path, None, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    // Half the ideas coded with one theme (whose label is hostile too).
    let (s, t) = app
        .at(
            &open,
            Method::POST,
            &format!("/api/v1/consultations/{id}/themes"),
            Some(&tamworth),
            Some(json!({ "key": "benches", "label": "More <em>benches</em>" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    for rid in &ids[..20] {
        let (s, c) = app
            .at(
                &open,
                Method::PUT,
                &format!("{path}/{rid}/codes"),
                Some(&tamworth),
                Some(json!({ "question": "ideas", "themes": ["benches"] })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
    }
    let analysis = format!("/api/v1/consultations/{id}/analysis");

    // Staff: the CSV holds every figure of the JSON, with a file name.
    let (s, staff) = app
        .at(&open, Method::GET, &format!("{analysis}?by=sex"), Some(&tamworth), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{staff}");
    let (s, kind, disposition, body) =
        text(app, &open, &format!("{analysis}?by=sex&format=csv"), Some(&tamworth)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"analysis-{id}-by-sex.csv\"")
    );
    let rows = csv_rows(&body);
    let checked = check_csv_against_json(&staff, &rows);
    assert!(checked > 100, "{checked} rows checked");
    // Free text: how many answered and coding progress, never an answer.
    assert!(!body.contains("Secret idea"), "{body}");
    let ideas = rows
        .iter()
        .find(|r| r["question"] == "ideas" && r["part"] == "coded")
        .unwrap();
    assert_eq!((ideas["answered"].as_str(), ideas["count"].as_str()), ("40", "20"));
    let theme = rows
        .iter()
        .find(|r| r["question"] == "ideas" && r["part"] == "theme")
        .unwrap();
    assert_eq!(
        (theme["item"].as_str(), theme["label"].as_str(), theme["count"].as_str()),
        ("benches", "More <em>benches</em>", "20")
    );
    // Staff figures are exact: nothing hidden.
    assert!(rows.iter().all(|r| r["hidden"] == "false"));
    // The CLI prints the same CSV (one implementation).
    let out = app.cli(&["analysis", &id, "--by", "sex", "--format", "csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), body);

    // An unknown format is refused, naming `format`.
    let (s, p) = app
        .at(
            &open,
            Method::GET,
            &format!("{analysis}?format=pdf"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "format");

    // Staff HTML: a chart and a table per question, the hostile text escaped.
    let (s, kind, _, html) = text(app, &open, &format!("{analysis}?format=html"), Some(&tamworth)).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(!html.contains("<script>") && !html.contains("<b>often"), "{html}");
    assert!(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt; Do you visit?"));
    assert!(html.contains("Yes &amp; &lt;b&gt;often&lt;/b&gt;"));
    let charts = html.matches("<svg class=\"chart\" role=\"img\"").count();
    // visit, uses, satisfaction, priorities, age (exact values for staff), ideas' themes and
    // agree; not the date.
    assert_eq!(charts, 7, "{html}");
    assert!(
        html.contains("<th scope=\"row\">More &lt;em&gt;benches&lt;/em&gt;</th><td>20</td>"),
        "{html}"
    );
    assert!(html.contains("Answers coded with a theme: 20."), "{html}");
    let yes = staff["questions"][0]["options"][0]["count"].as_u64().unwrap();
    assert_eq!(yes, 30);
    assert!(html.contains(&format!("<td>{yes}</td>")), "{html}");
    assert!(!html.contains("Secret idea"));
    assert!(!html.contains("fewer than 5"), "staff see exact counts");
    // With a breakdown: a table per question of groups by answers, the staff figures.
    let (s, _, _, html) = text(app, &open, &format!("{analysis}?by=sex&format=html"), Some(&tamworth)).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(
        html.matches("<table class=\"breakdown\">").count(),
        staff["questions"].as_array().unwrap().len()
    );
    let visit = &staff["questions"][0];
    let female = visit["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "female")
        .unwrap();
    let label = staff["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "female")
        .unwrap()["label"]
        .as_str()
        .unwrap()
        .to_owned();
    let share = female["options"][0]["share"].as_f64().unwrap() * 100.0;
    let row = format!(
        "<tr><th scope=\"row\">{label}</th><td>{}</td><td>{} ({share:.1}%)</td>",
        female["answered"], female["options"][0]["count"]
    );
    assert!(html.contains(&row), "{row} in {html}");

    // The public: nothing before the results are published, in any format, nor on the hub.
    let (s, _, _, _) = text(app, &open, &format!("{analysis}?format=csv"), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let closed = app.later(13).await;
    let (s, _, _, _) = text(app, &closed, &format!("/activities/{id}/results"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, _, _, page) = text(app, &closed, &format!("/activities/{id}"), None).await;
    assert!(!page.contains(&format!("/activities/{id}/results")));
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

    // Public CSV: the public JSON's figures, hidden counts empty and marked, never 0.
    let (s, public) = app
        .at(&closed, Method::GET, &format!("{analysis}?by=sex"), None, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{public}");
    assert_eq!(public["public"], true);
    let (s, _, _, body) = text(app, &closed, &format!("{analysis}?by=sex&format=csv"), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let rows = csv_rows(&body);
    check_csv_against_json(&public, &rows);
    let other = rows
        .iter()
        .find(|r| r["question"] == "visit" && r["group"] == "all" && r["item"] == "other")
        .unwrap();
    // Its true count is 0: public counts carry noise (a per-deployment key), so it is hidden,
    // empty, unless its noise alone reached the threshold (about one deployment in 200).
    match other["hidden"].as_str() {
        "true" => assert_eq!(other["count"], "", "{other:?}"),
        _ => assert!(other["count"].parse::<u64>().unwrap() >= 5, "{other:?}"),
    }
    assert!(
        rows.iter()
            .all(|r| r["hidden"] == "true" || r["part"] != "option" || r["count"].parse::<u64>().unwrap() >= 5)
    );
    assert!(!body.contains("Secret idea"));

    // Public HTML: hidden counts say "fewer than 5"; the shown ones are the public figures.
    let (s, _, _, html) = text(app, &closed, &format!("{analysis}?format=html"), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("fewer than 5"), "{html}");
    assert!(!html.contains("<script>") && !html.contains("Secret idea"));
    let public_yes = public["questions"][0]["options"][0]["count"].as_u64().unwrap();
    assert!(html.contains(&format!("<td>{public_yes}</td>")), "{html}");
    assert!(html.contains("random noise"), "the page says how figures are protected");
    // The hub's security headers: no script runs, even from the API's page.
    let res = app
        .client
        .get(format!("{closed}{analysis}?format=html"))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");

    // The hub: the activity links to what people answered, a chart and table per question.
    let public_theme = &public["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "ideas")
        .unwrap()["themes"][0];
    assert_eq!(public_theme["key"], "benches", "20 coded: listed in public");
    let (s, _, _, page) = text(app, &closed, &format!("/activities/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&format!("href=\"/activities/{id}/results\"")), "{page}");
    let (s, kind, _, page) = text(app, &closed, &format!("/activities/{id}/results"), None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(kind.starts_with("text/html"));
    assert!(
        page.contains("<link rel=\"stylesheet\" href=\"/hub.css\">"),
        "in the hub's layout"
    );
    assert!(page.contains("What people answered: Park survey"), "{page}");
    assert!(page.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;") && !page.contains("<script>"));
    assert!(page.contains("fewer than 5"));
    assert!(page.contains(&format!("<td>{public_yes}</td>")), "{page}");
    assert!(!page.contains("Secret idea"), "free text is never shown");
    assert!(page.contains("never published one by one"));
    assert!(
        page.contains(&format!(
            "<th scope=\"row\">More &lt;em&gt;benches&lt;/em&gt;</th><td>{}</td>",
            public_theme["count"]
        )),
        "{page}"
    );
    // Every question has its section; the numbers question is only counted in public.
    for q in public["questions"].as_array().unwrap() {
        assert!(
            page.contains(&format!("id=\"q-{}\"", q["key"].as_str().unwrap())),
            "{q}"
        );
    }
    assert!(page.contains("aria-labelledby=\"chart-visit-t"), "{page}");
    // Broken down by a characteristic chosen on the page: the public breakdown's figures.
    let (s, _, _, page) = text(app, &closed, &format!("/activities/{id}/results?by=sex"), None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("<option value=\"sex\" selected>"), "{page}");
    // A table per question whose answered count is shown (the others say too few answered).
    let shown = public["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| !q["answered"].is_null())
        .count();
    assert!(shown >= 4, "{public}");
    assert_eq!(page.matches("<table class=\"breakdown\">").count(), shown);
    let groups = public["groups"].as_array().unwrap();
    for g in &public["questions"][0]["breakdown"].as_array().unwrap()[..2] {
        let label = groups.iter().find(|x| x["group"] == g["group"]).unwrap()["label"]
            .as_str()
            .unwrap();
        let answered = g["answered"]
            .as_u64()
            .map_or_else(|| "fewer than 5".to_owned(), |n| n.to_string());
        let row = format!("<tr><th scope=\"row\">{label}</th><td>{answered}</td>");
        assert!(page.contains(&row), "{row} in {page}");
    }
    assert!(!page.contains("Secret idea"));
    // By where respondents live: the activity's areas, elsewhere and not answered.
    let (s, _, _, page) = text(app, &closed, &format!("/activities/{id}/results?by=area"), None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("<option value=\"area\" selected>Where they live</option>"),
        "{page}"
    );
    assert!(page.contains("<table class=\"breakdown\"><caption>By area: "), "{page}");
    // An unknown characteristic: an error beside the choice, linked from the summary.
    let (s, _, _, page) = text(app, &closed, &format!("/activities/{id}/results?by=star_sign"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("<title>Error: ") && page.contains("<a href=\"#by\">"),
        "{page}"
    );
    // A parameter the page does not know is refused.
    let (s, _, _, _) = text(app, &closed, &format!("/activities/{id}/results?group=sex"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        !page.contains("aria-labelledby=\"chart-age-t"),
        "numbers are only counted in public"
    );
}

on_both!(a_quick_polls_result_is_shown_on_its_page);
async fn a_quick_polls_result_is_shown_on_its_page(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Bin colour poll", 1, 10), true)
        .await;
    let poll = json!({ "sections": [ { "title": "Poll", "questions": [
        { "key": "colour", "type": "single_choice", "text": "Which colour for the new bins?", "required": true,
          "options": [ { "key": "green", "label": "Green" }, { "key": "blue", "label": "Blue" },
                       { "key": "red", "label": "Red" } ] } ] } ] });
    let (s, q) = app
        .put(
            &format!("/api/v1/consultations/{id}/questionnaire"),
            Some(&tamworth),
            poll,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{q}");
    let open = app.later(2).await;
    for i in 0..30 {
        let colour = if i % 3 == 0 { "green" } else { "blue" };
        let (s, r) = app
            .at(
                &open,
                Method::POST,
                &format!("/api/v1/consultations/{id}/responses"),
                None,
                Some(json!({ "answers": { "colour": colour } })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let closed = app.later(13).await;
    let (_, _, _, page) = text(app, &closed, &format!("/activities/{id}"), None).await;
    assert!(!page.contains("Results of the quick poll"), "not before publishing");
    let (s, r) = app
        .at(
            &closed,
            Method::PUT,
            &format!("/api/v1/consultations/{id}/feedback"),
            Some(&app.coordinator),
            Some(json!({ "items": [ { "theme": "Colour", "you_said": "Blue", "we_did": "Ordered blue bins" } ], "publish": true })),
        )
        .await;
    assert!(s.is_success(), "{r}");
    let (_, public) = app
        .at(
            &closed,
            Method::GET,
            &format!("/api/v1/consultations/{id}/analysis"),
            None,
            None,
        )
        .await;
    let (s, _, _, page) = text(app, &closed, &format!("/activities/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Results of the quick poll"), "{page}");
    assert!(
        page.contains("aria-labelledby=\"chart-colour-t chart-colour-d\""),
        "{page}"
    );
    for o in public["questions"][0]["options"].as_array().unwrap() {
        let shown = match o["count"].as_u64() {
            Some(n) => format!("<td>{n}</td>"),
            None => "<td>fewer than 5</td>".to_owned(),
        };
        assert!(
            page.contains(&format!(
                "<th scope=\"row\">{}</th>{shown}",
                o["label"].as_str().unwrap()
            )),
            "{o}: {page}"
        );
    }
    // Nobody chose red: never 0; hidden unless its noise alone reached the threshold (about
    // one deployment in 200; the loop above checked what is shown).
    assert!(!page.contains("<th scope=\"row\">Red</th><td>0</td>"), "{page}");
}

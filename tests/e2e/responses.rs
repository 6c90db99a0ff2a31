//! Responses to open activities with monitoring answers: validation, channels, idempotent
//! retries, counts, and answers that are never returned one by one.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn respond(
    app: &TestApp,
    id: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Value,
) -> (StatusCode, Value, bool) {
    let mut req = app
        .client
        .post(format!("{}/api/v1/consultations/{id}/responses", app.base))
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.unwrap();
    let replayed = res.headers().contains_key("idempotent-replayed");
    let (s, b) = consult_tests::into_json(res).await;
    (s, b, replayed)
}

on_both!(responses_with_monitoring);
async fn responses_with_monitoring(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let open = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 30), true)
        .await;
    let later = app
        .register_activity(&tamworth, consultation("tamworth", "Parks plan", 10, 30), true)
        .await;
    let draft = app
        .register_activity(&tamworth, consultation("tamworth", "Draft idea", -2, 30), false)
        .await;

    let (s, scheme) = app.get("/api/v1/monitoring-scheme", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(scheme["characteristics"].as_array().unwrap().len(), 7);

    let answers =
        json!({ "sex": "female", "age_band": "25-34", "ethnic_group": "indian", "religion": "prefer_not_to_say" });
    let (s, receipt, _) = respond(
        app,
        &open,
        None,
        None,
        json!({ "comments": "Open on Sundays", "monitoring": answers }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["channel"], "online");

    // Every unknown characteristic and category is named; nothing is stored.
    let bad = json!({ "comments": "x", "monitoring": { "star_sign": "leo", "age_band": "ancient" } });
    let (s, p, _) = respond(app, &open, None, None, bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["monitoring.age_band", "monitoring.star_sign"]);
    let (s, _, _) = respond(app, &open, None, None, json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Retries with the same key store one response.
    let (s1, r1, replay1) = respond(app, &open, None, Some("form-42"), json!({ "comments": "Retry me" })).await;
    let (s2, r2, replay2) = respond(app, &open, None, Some("form-42"), json!({ "comments": "Retry me" })).await;
    assert_eq!(
        (s1, s2, replay1, replay2),
        (StatusCode::CREATED, StatusCode::OK, false, true)
    );
    assert_eq!(r1["id"], r2["id"]);

    // Offline channels are entered by the owner's officers, not by the public or other bodies.
    let paper = json!({ "comments": "Posted form", "channel": "paper" });
    assert_eq!(
        respond(app, &open, None, None, paper.clone()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        respond(app, &open, Some(&police), None, paper.clone()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (s, r, _) = respond(app, &open, Some(&tamworth), None, paper).await;
    assert_eq!((s, r["channel"].as_str()), (StatusCode::CREATED, Some("paper")));

    // Only while open; drafts are not there for the public at all.
    let (s, p, _) = respond(app, &later, None, None, json!({ "comments": "Too early" })).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert_eq!(
        respond(app, &draft, None, None, json!({ "comments": "x" })).await.0,
        StatusCode::NOT_FOUND
    );

    // Concurrent submitters: every acknowledged response is counted once.
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (client, url) = (
            app.client.clone(),
            format!("{}/api/v1/consultations/{open}/responses", app.base),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "comments": format!("Response {n}") }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    let (_, c) = app.get(&format!("/api/v1/consultations/{open}"), None).await;
    assert_eq!(c["response_count"], 1 + 1 + 1 + 20);
    // The representativeness report against a baseline: coordinators see the counts; the public
    // view hides counts below five.
    let baseline = json!({ "area": "E07000199", "name": "Tamworth", "source": "ONS Census 2021",
        "counts": { "sex": { "female": 39000, "male": 37000 } } });
    assert_eq!(
        app.post("/api/v1/baselines", Some(&tamworth), baseline.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/baselines", Some(&app.coordinator), baseline).await.0,
        StatusCode::CREATED
    );
    let bad = json!({ "area": "E07000199", "counts": { "sex": { "unknown": 1 }, "star_sign": { "leo": 2 } } });
    let (s, p) = app.post("/api/v1/baselines", Some(&app.coordinator), bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["counts.sex.unknown", "counts.star_sign"]);
    let (s, internal) = app
        .get(
            &format!("/api/v1/consultations/{open}/equality"),
            Some(&app.coordinator),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{internal}");
    assert_eq!(internal["respondents"], 23);
    let sex = internal["characteristics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["characteristic"] == "sex")
        .unwrap();
    assert_eq!(sex["categories"][0]["respondents"], 1);
    assert_eq!(sex["categories"][0]["population_share"], 0.5132);
    // The public sees figures once the activity has closed: while it is open anyone could add
    // responses of their own and watch the figures move.
    let (s, p) = app.get(&format!("/api/v1/consultations/{open}/equality"), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("once an activity has closed"),
        "{p}"
    );
    let (s, b) = app
        .post(
            &format!("/api/v1/consultations/{open}/transitions"),
            Some(&app.coordinator),
            json!({ "to": "closed", "reason": "Enough responses for the decision" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, public) = app.get(&format!("/api/v1/consultations/{open}/equality"), None).await;
    assert_eq!(s, StatusCode::OK, "{public}");
    let sex = public["characteristics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["characteristic"] == "sex")
        .unwrap();
    // The one female respondent is never shown as 1: hidden, or perturbed to five or more.
    let female = &sex["categories"][0];
    assert!(
        female["respondents"].is_null() && female["suppressed"] == true
            || female["respondents"].as_u64().is_some_and(|n| n >= 5),
        "{female}"
    );
    // Asking again gives the same figures: the noise cannot be averaged away.
    let (_, again) = app.get(&format!("/api/v1/consultations/{open}/equality"), None).await;
    assert_eq!(again, public);
    // The public cannot choose a scheme (a merged one would give hidden cells by subtraction).
    let (s, p) = app
        .get(
            &format!("/api/v1/consultations/{open}/equality?scheme=census2021@1x"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "scheme");
    assert_eq!(
        app.get(&format!("/api/v1/consultations/{draft}/equality"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let res = app
        .client
        .get(format!("{}/api/v1/consultations/{open}/equality?format=html", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    // An HTML page of the API has the hub's security headers.
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["referrer-policy"], "strict-origin-when-cross-origin");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<svg role=\"img\"") && page.contains("Who responded: Library hours"),
        "{page}"
    );
    assert!(page.contains("suppressed"), "the public page is suppressed too");
    assert!(page.contains("random noise"), "and says how its figures are protected");

    // Monitoring answers are never returned one by one.
    let (_, register) = app.get("/api/v1/consultations?limit=500", Some(&app.coordinator)).await;
    assert!(!register.to_string().contains("indian"));
}

on_both!(nomis_baseline_import);
async fn nomis_baseline_import(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("census2021-ts008-ltla.csv");
    std::fs::write(
        &file,
        "date,geography,geography code,Sex: All persons; measures: Value,Sex: Female; measures: Value,Sex: Male; measures: Value\n\
         2021,Tamworth,E07000199,78700,40100,38600\n\
         2021,Worcester,E07000237,103872,52999,50873\n",
    )
    .unwrap();
    let ages = dir.path().join("census2021-ts007a-ltla.csv");
    std::fs::write(
        &ages,
        "date,geography,geography code,Age: Total,Age: Aged 4 years and under,Age: Aged 15 to 19 years,Age: Aged 85 years and over\n\
         2021,Tamworth,E07000199,100,10,50,40\n",
    )
    .unwrap();
    let run = |args: &[&str]| app.cli(args);
    // Worcester is not in the register: asked for by name it is an error, otherwise skipped.
    let out = run(&["baseline", "import", file.to_str().unwrap(), "--area", "E07000237"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["baseline", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["baseline", "import", ages.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 30), true)
        .await;
    let (s, r) = app
        .get(
            &format!("/api/v1/consultations/{id}/equality?baseline=E07000199"),
            Some(&app.coordinator),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let find = |c: &str| {
        r["characteristics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["characteristic"] == c)
            .unwrap()
            .clone()
    };
    assert_eq!(
        find("sex")["categories"][0]["population_share"],
        0.5095,
        "40,100 of 78,700"
    );
    let age = find("age_band");
    let share = |k: &str| {
        age["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["category"] == k)
            .unwrap()["population_share"]
            .clone()
    };
    // 15 to 19 splits one fifth under 16: under_16 = 10 + 10, 16-24 = 40, 75+ = 40.
    assert_eq!(
        (share("under_16"), share("16-24"), share("75+")),
        (json!(0.2), json!(0.4), json!(0.4))
    );
}

on_both!(survey_export_import);
async fn survey_export_import(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 30), true)
        .await;
    let csv = "Respondent,Comments,Sex,Age\n1,More evening hours,Female,25 to 34\n2,,Male,75 and over\n3,Keep it,Prefer not to say,\n";
    let mapping = json!({ "comments": "Comments", "columns": { "sex": "Sex", "age_band": "Age" } });
    let path = format!("/api/v1/consultations/{id}/responses/import");
    let bad = json!({ "mapping": mapping, "csv": csv.replace("Male", "Martian") });
    let (s, p) = app.post(&path, Some(&tamworth), bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "line[3].monitoring.sex");
    let (_, c) = app.get(&format!("/api/v1/consultations/{id}"), None).await;
    assert_eq!(c["response_count"], 0, "nothing is imported from a file with a bad row");
    // Or, as the user chooses, the good rows are stored and the bad ones reported.
    let partial = json!({ "mapping": mapping, "csv": csv.replace("Male", "Martian"), "skip_invalid": true });
    let (s, r) = app.post(&path, Some(&tamworth), partial).await;
    assert_eq!((s, r["imported"].as_u64()), (StatusCode::CREATED, Some(2)), "{r}");
    assert_eq!(r["skipped"][0]["field"], "line[3].monitoring.sex");
    let (s, r) = app
        .post(&path, Some(&tamworth), json!({ "mapping": mapping, "csv": csv }))
        .await;
    assert_eq!((s, r["imported"].as_u64()), (StatusCode::CREATED, Some(3)));
    assert_eq!(
        app.post(&path, None, json!({ "mapping": mapping, "csv": csv })).await.0,
        StatusCode::UNAUTHORIZED
    );

    // The CLI imports the same way, with its progress bar on a terminal.
    let dir = tempfile::tempdir().unwrap();
    let (file, map) = (dir.path().join("export.csv"), dir.path().join("mapping.json"));
    std::fs::write(&file, csv).unwrap();
    std::fs::write(&map, serde_json::to_vec(&mapping).unwrap()).unwrap();
    let out = app.cli(&[
        "responses",
        "import",
        &id,
        file.to_str().unwrap(),
        "--mapping",
        map.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, c) = app.get(&format!("/api/v1/consultations/{id}"), None).await;
    assert_eq!(c["response_count"], 8);
    let (_, r) = app
        .get(&format!("/api/v1/consultations/{id}/equality"), Some(&app.coordinator))
        .await;
    let sex = r["characteristics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["characteristic"] == "sex")
        .unwrap()
        .clone();
    assert_eq!(
        (sex["answered"].as_u64(), sex["prefer_not_to_say"].as_u64()),
        (Some(8), Some(3))
    );

    // Combined over a set (here: Tamworth's activities opening this year), as CSV too.
    let other = app
        .register_activity(&tamworth, consultation("tamworth", "Parks", -1, 30), true)
        .await;
    let (s, _) = app
        .post(
            &format!("/api/v1/consultations/{other}/responses"),
            None,
            json!({ "monitoring": { "sex": "male" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, set) = app
        .get(
            "/api/v1/equality?organisation=tamworth&year=2026&baseline=E07000199",
            Some(&app.coordinator),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{set}");
    assert_eq!(set["respondents"], 9);
    // The public sees a year's figures once they are final: the year over and every activity
    // that opened in it closed (each closing would otherwise draw new noise for the same people).
    let (s, p) = app
        .get(
            "/api/v1/equality?organisation=tamworth&year=2026&baseline=E07000199&format=csv",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("published once"), "{p}");
    // Public sets are fixed ones: a list of activities (two lists differing by one give that
    // activity's figures by subtraction) needs a coordinator, and a year is required.
    let (s, p) = app
        .get(&format!("/api/v1/equality?ids={id},{other}&baseline=E07000199"), None)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["ids", "year"]);
    let (s, p) = app.get("/api/v1/equality?year=soon", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["year", "baseline"]);
}

on_both!(public_year_figures);
/// A year's public figures once final: every count perturbed, no small count shown, the same
/// figures on every request, exact ones for coordinators; not before every activity closed.
async fn public_year_figures(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    // Opened in December 2025 (the test's today is 10 January 2026), closed early below.
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Winter gritting", -15, 30), true)
        .await;
    let csv = "Sex\nFemale\nFemale\nFemale\nFemale\nFemale\nFemale\nFemale\nMale\nMale\n";
    let mapping = json!({ "columns": { "sex": "Sex" } });
    let (s, r) = app
        .post(
            &format!("/api/v1/consultations/{id}/responses/import"),
            Some(&tamworth),
            json!({ "mapping": mapping, "csv": csv }),
        )
        .await;
    assert_eq!((s, r["imported"].as_u64()), (StatusCode::CREATED, Some(9)), "{r}");
    let url = "/api/v1/equality?organisation=tamworth&year=2025&baseline=E07000199";
    assert_eq!(app.get(url, None).await.0, StatusCode::CONFLICT, "not while it is open");
    let (s, b) = app
        .post(
            &format!("/api/v1/consultations/{id}/transitions"),
            Some(&app.coordinator),
            json!({ "to": "closed", "reason": "Enough responses" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, public) = app.get(url, None).await;
    assert_eq!(s, StatusCode::OK, "{public}");
    assert_eq!(public["respondents"], 9);
    let sex = public["characteristics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["characteristic"] == "sex")
        .unwrap()
        .clone();
    let male = sex["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["category"] == "male")
        .unwrap();
    assert!(
        male["respondents"].is_null() || male["respondents"].as_u64().unwrap() >= 5,
        "two men are never shown as 2: {male}"
    );
    assert_eq!(app.get(url, None).await.1, public, "the same figures on every request");
    let (_, exact) = app.get(url, Some(&app.coordinator)).await;
    let male = exact["characteristics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["characteristic"] == "sex")
        .unwrap()["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["category"] == "male")
        .unwrap()
        .clone();
    assert_eq!(male["respondents"], 2, "coordinators see the exact count");
    // Another 2025 activity still open (opened in December, closes in January): not final.
    app.register_activity(&tamworth, consultation("tamworth", "Library hours", -12, 30), true)
        .await;
    let (s, p) = app.get(url, None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
}

on_both!(seldom_heard_groups);
async fn seldom_heard_groups(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let baseline = json!({ "area": "E07000199", "name": "Tamworth", "source": "test",
        "counts": { "age_band": { "16-24": 2500, "25-34": 2500, "45-54": 2500, "75+": 2500 } } });
    assert_eq!(
        app.post("/api/v1/baselines", Some(&app.coordinator), baseline).await.0,
        StatusCode::CREATED
    );
    for n in 1..=3 {
        let id = app
            .register_activity(
                &tamworth,
                consultation("tamworth", &format!("Survey wave {n}"), -(n as i64), 30),
                true,
            )
            .await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let band = if i < 2 {
                "16-24"
            } else if i < 8 {
                "25-34"
            } else if i < 14 {
                "45-54"
            } else {
                "75+"
            };
            let (client, url) = (
                app.client.clone(),
                format!("{}/api/v1/consultations/{id}/responses", app.base),
            );
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({ "monitoring": { "age_band": band } }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::CREATED);
        }
    }
    let (s, v) = app
        .get(
            "/api/v1/seldom-heard?organisation=tamworth&baseline=E07000199&last=3",
            Some(&app.coordinator),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["activities"].as_array().unwrap().len(), 3);
    let young = v["seldom_heard"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] == "16-24")
        .expect("young people are seldom heard");
    assert_eq!((young["under_in"].as_u64(), young["of"].as_u64()), (Some(3), Some(3)));
    assert_eq!(young["trend"], json!([0.4, 0.4, 0.4]));
    assert_eq!(young["outreach_groups"], json!(["children_and_young_people"]));
    assert_eq!(v["partners"], json!(["police"]));
    // The public sees figures of closed activities only: the three waves are still open.
    let (s, public) = app
        .get(
            "/api/v1/seldom-heard?organisation=tamworth&baseline=E07000199&last=3",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{public}");
    assert_eq!(public["activities"], json!([]), "{public}");
    assert_eq!(public["seldom_heard"], json!([]), "{public}");
    let (s, _) = app.get("/api/v1/seldom-heard?last=1", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

on_both!(anonymous_writes_are_rate_limited);
async fn anonymous_writes_are_rate_limited(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 30), true)
        .await;
    let base = app
        .instance_with(consult_api::Limits {
            anonymous_writes_per_minute: 3,
            ..consult_api::Limits::default()
        })
        .await;
    let post = |token: Option<String>| {
        let mut req = app
            .client
            .post(format!("{base}/api/v1/consultations/{id}/responses"))
            .json(&json!({ "comments": "Open later" }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    for _ in 0..3 {
        assert_eq!(post(None).await.unwrap().status(), StatusCode::CREATED);
    }
    let res = post(None).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let (_, problem) = consult_tests::into_json(res).await;
    assert_eq!(problem["type"], "/problems/too-many-requests");
    // Behind a trusted proxy, each forwarded client has its own allowance.
    let proxied = app
        .instance_with(consult_api::Limits {
            anonymous_writes_per_minute: 1,
            trust_forwarded_for: true,
            ..consult_api::Limits::default()
        })
        .await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let res = app
            .client
            .post(format!("{proxied}/api/v1/consultations/{id}/responses"))
            .header("x-forwarded-for", format!("{client}, 10.0.0.1"))
            .json(&json!({ "comments": "Via the proxy" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{client}");
    }
    // An officer entering paper responses is not throttled the same way.
    for _ in 0..5 {
        assert_eq!(
            post(Some(tamworth.clone())).await.unwrap().status(),
            StatusCode::CREATED
        );
    }
}

on_both!(own_monitoring_schemes);
async fn own_monitoring_schemes(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let open = app
        .register_activity(&tamworth, consultation("tamworth", "Leisure centre", -2, 30), true)
        .await;
    // A census-scheme answer before the council adopts its own bands.
    let (s, _, _) = respond(
        app,
        &open,
        None,
        None,
        json!({ "monitoring": { "age_band": "16-24", "sex": "male" } }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    let own = json!({ "key": "tamworth", "name": "Tamworth monitoring",
        "characteristics": [
            { "key": "age_band", "label": "Age", "categories": [
                { "key": "under_35", "label": "Under 35", "covers": ["under_16", "16-24", "25-34"] },
                { "key": "35_plus", "label": "35 and over", "covers": ["35-44", "45-54", "55-64", "65-74", "75+"] } ] },
            { "key": "sex", "label": "Sex", "categories": [
                { "key": "female", "label": "Female" }, { "key": "male", "label": "Male" } ] } ] });
    assert_eq!(
        app.post("/api/v1/monitoring-schemes", Some(&tamworth), own.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let mut bad = own.clone();
    bad["characteristics"][0]["categories"][1]["covers"] = json!(["16-24"]);
    let (s, p) = app
        .post("/api/v1/monitoring-schemes", Some(&app.coordinator), bad)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        p["errors"][0]["field"], "characteristics[0].categories[1].covers",
        "{p}"
    );
    let (s, stored) = app
        .post("/api/v1/monitoring-schemes", Some(&app.coordinator), own)
        .await;
    assert_eq!(
        (s, stored["version"].as_u64()),
        (StatusCode::CREATED, Some(1)),
        "{stored}"
    );
    let (s, p) = app
        .put(
            "/api/v1/organisations/tamworth/monitoring-scheme",
            Some(&app.coordinator),
            json!({ "scheme": "nowhere" }),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("scheme"))
    );
    let (s, _) = app
        .put(
            "/api/v1/organisations/tamworth/monitoring-scheme",
            Some(&app.coordinator),
            json!({ "scheme": "tamworth" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // The public is asked the council's questions, and answers are checked against them.
    let (_, asked) = app
        .get(&format!("/api/v1/monitoring-scheme?consultation={open}"), None)
        .await;
    assert_eq!(asked["key"], "tamworth");
    let (s, p, _) = respond(app, &open, None, None, json!({ "monitoring": { "age_band": "16-24" } })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    for _ in 0..2 {
        let (s, _, _) = respond(
            app,
            &open,
            None,
            None,
            json!({ "monitoring": { "age_band": "35_plus", "sex": "female" } }),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let baseline = json!({ "area": "E07000199", "name": "Tamworth", "source": "ONS Census 2021",
        "counts": { "age_band": { "16-24": 100, "25-34": 100, "45-54": 200 } } });
    assert_eq!(
        app.post("/api/v1/baselines", Some(&app.coordinator), baseline).await.0,
        StatusCode::CREATED
    );

    // The report is in the council's bands: the census answer folds in, the population rolls up.
    let age = |r: &Value| {
        r["characteristics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["characteristic"] == "age_band")
            .unwrap()
            .clone()
    };
    let (s, r) = app
        .get(
            &format!("/api/v1/consultations/{open}/equality"),
            Some(&app.coordinator),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let a = age(&r);
    assert_eq!(a["categories"][0]["category"], "under_35");
    assert_eq!(a["categories"][0]["respondents"], 1);
    assert_eq!(a["categories"][0]["population_share"], 0.5);
    assert_eq!(a["categories"][1]["respondents"], 2);
    assert!(a.get("not_comparable").is_none(), "{a}");
    // In census bands, the council's broad bands cannot be split: counted apart.
    let (_, r) = app
        .get(
            &format!("/api/v1/consultations/{open}/equality?scheme=census2021"),
            Some(&app.coordinator),
        )
        .await;
    let a = age(&r);
    assert_eq!(a["not_comparable"], 2, "{a}");
    let cell = a["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "16-24")
        .unwrap();
    assert_eq!(cell["respondents"], 1);

    // The CLI lists, shows and adds schemes, and adopts one.
    let out = app.cli(&["scheme", "list", "--format", "csv"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("census2021@1") && text.contains("tamworth@1"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v2.json");
    std::fs::write(
        &file,
        json!({ "key": "tamworth", "name": "Tamworth monitoring v2", "characteristics": [
            { "key": "sex", "label": "Sex", "categories": [ { "key": "female", "label": "Female" }, { "key": "male", "label": "Male" } ] } ] })
        .to_string(),
    )
    .unwrap();
    let out = app.cli(&["scheme", "add", "--file", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tamworth@2"));
    let out = app.cli(&["scheme", "adopt", "tamworth", "census2021"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, asked) = app.get("/api/v1/monitoring-scheme?organisation=tamworth", None).await;
    assert_eq!(asked["key"], "census2021");
    let out = app.cli(&["scheme", "adopt", "tamworth", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
}

on_both!(anonymous_reads_are_rate_limited);
async fn anonymous_reads_are_rate_limited(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let base = app
        .instance_with(consult_api::Limits {
            anonymous_reads_per_minute: 3,
            ..consult_api::Limits::default()
        })
        .await;
    let get = |path: &str, token: Option<&str>| {
        let mut req = app.client.get(format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    // The API and the hub count together.
    for path in ["/api/v1/consultations", "/register", "/api/v1/continuum"] {
        assert_eq!(get(path, None).await.unwrap().status(), StatusCode::OK, "{path}");
    }
    let res = get("/api/v1/consultations", None).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let (_, problem) = consult_tests::into_json(res).await;
    assert_eq!(problem["type"], "/problems/too-many-requests");
    // Staff are not limited this way, nor is the health check.
    for _ in 0..5 {
        assert_eq!(
            get("/api/v1/consultations", Some(&tamworth)).await.unwrap().status(),
            StatusCode::OK
        );
    }
    assert_eq!(get("/healthz", None).await.unwrap().status(), StatusCode::OK);
    // 0: no limit.
    let open = app
        .instance_with(consult_api::Limits {
            anonymous_reads_per_minute: 0,
            ..consult_api::Limits::default()
        })
        .await;
    for _ in 0..10 {
        let res = app.client.get(format!("{open}/api/v1/continuum")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}

/// Posts an anonymous response through `base` with an `X-Forwarded-For` header.
async fn forwarded(app: &TestApp, base: &str, id: &str, forwarded_for: &str) -> StatusCode {
    app.client
        .post(format!("{base}/api/v1/consultations/{id}/responses"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "comments": "Via the proxy" }))
        .send()
        .await
        .unwrap()
        .status()
}

on_both!(clients_behind_proxies_and_ipv6_networks);
async fn clients_behind_proxies_and_ipv6_networks(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 30), true)
        .await;
    let proxied = |trusted: &[&str]| {
        let trusted_proxies = trusted.iter().map(|c| c.parse().unwrap()).collect();
        app.instance_with(consult_api::Limits {
            anonymous_writes_per_minute: 1,
            trust_forwarded_for: true,
            trusted_proxies,
            ..consult_api::Limits::default()
        })
    };
    // The left-most address is the client's own claim: changing it buys no new allowance. The
    // client is the right-most address not of a trusted proxy.
    let base = proxied(&["127.0.0.1/32", "10.0.0.0/8"]).await;
    assert_eq!(
        forwarded(app, &base, &id, "198.51.100.1, 203.0.113.5, 10.0.0.1").await,
        StatusCode::CREATED
    );
    assert_eq!(
        forwarded(app, &base, &id, "198.51.100.2, 203.0.113.5, 10.0.0.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        forwarded(app, &base, &id, "203.0.113.5").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        forwarded(app, &base, &id, "203.0.113.6, 10.0.0.1").await,
        StatusCode::CREATED
    );
    // IPv6 clients count per /64: another address of the same network is the same client.
    assert_eq!(forwarded(app, &base, &id, "2001:db8:1:2::1").await, StatusCode::CREATED);
    assert_eq!(
        forwarded(app, &base, &id, "2001:db8:1:2:abcd::9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(forwarded(app, &base, &id, "2001:db8:1:3::1").await, StatusCode::CREATED);
    // A peer that is not a trusted proxy: its header is not read at all.
    let untrusted = proxied(&["10.0.0.0/8"]).await;
    assert_eq!(
        forwarded(app, &untrusted, &id, "203.0.113.7").await,
        StatusCode::CREATED
    );
    assert_eq!(
        forwarded(app, &untrusted, &id, "203.0.113.8").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

on_both!(idempotency_keys_are_bound_to_caller_and_body);
async fn idempotency_keys_are_bound_to_caller_and_body(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 30), true)
        .await;
    let body = json!({ "comments": "Open on Sundays", "monitoring": { "sex": "female", "age_band": "25-34" } });
    let (s, first, _) = respond(app, &id, None, Some("k-1"), body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    // A true retry: the same caller, key and body (answers in another order are the same body).
    let same = json!({ "monitoring": { "age_band": "25-34", "sex": "female" }, "comments": "Open on Sundays" });
    let (s, again, replayed) = respond(app, &id, None, Some("k-1"), same).await;
    assert_eq!((s, replayed, &again["id"]), (StatusCode::OK, true, &first["id"]));
    // Another body under the same key: refused, naming the header, and no id told.
    let (s, problem, _) = respond(app, &id, None, Some("k-1"), json!({ "comments": "Something else" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    assert!(!problem.to_string().contains(first["id"].as_str().unwrap()));
    // Another caller with the same key and body: refused too.
    let (s, problem, _) = respond(app, &id, Some(&tamworth), Some("k-1"), body.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    // A staff token's key is its own: a retry with it replays, another token's use is refused.
    let (s, staff, _) = respond(
        app,
        &id,
        Some(&tamworth),
        Some("k-2"),
        json!({ "comments": "Paper", "channel": "paper" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{staff}");
    let (s, _, replayed) = respond(
        app,
        &id,
        Some(&tamworth),
        Some("k-2"),
        json!({ "comments": "Paper", "channel": "paper" }),
    )
    .await;
    assert_eq!((s, replayed), (StatusCode::OK, true));
    let (s, _, _) = respond(
        app,
        &id,
        Some(&police),
        Some("k-2"),
        json!({ "comments": "Paper", "channel": "paper" }),
    )
    .await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::FORBIDDEN,
        "{s}"
    );
    let (s, _, _) = respond(
        app,
        &id,
        Some(&app.coordinator),
        Some("k-2"),
        json!({ "comments": "Paper", "channel": "paper" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, c) = app.get(&format!("/api/v1/consultations/{id}"), None).await;
    assert_eq!(c["response_count"], 2);
}

on_both!(offline_responses_are_keyed_for_days_after_closing);
async fn offline_responses_are_keyed_for_days_after_closing(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    // Open from two days ago for ten days; a second plan allows 30 days for late post.
    let body = consultation("tamworth", "Bin collections", -2, 10);
    let closes = chrono::NaiveDate::parse_from_str(body["closes_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let default = app.register_activity(&tamworth, body.clone(), true).await;
    let mut longer_body = body.clone();
    longer_body["title"] = json!("Bin collections, by post");
    longer_body["late_responses_days"] = json!(30);
    let longer = app.register_activity(&tamworth, longer_body.clone(), true).await;
    let (_, view) = app.get(&format!("/api/v1/consultations/{longer}"), None).await;
    assert_eq!(view["late_responses_days"], 30);
    assert_eq!(
        view["late_responses_until"],
        (closes + chrono::Days::new(30)).to_string()
    );
    let (_, view) = app.get(&format!("/api/v1/consultations/{default}"), None).await;
    assert_eq!(
        view["late_responses_until"],
        (closes + chrono::Days::new(14)).to_string()
    );
    assert!(view.get("late_responses_days").is_none(), "{view}");
    longer_body["late_responses_days"] = json!(91);
    let (s, p) = app.post("/api/v1/consultations", Some(&tamworth), longer_body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "late_responses_days", "{p}");

    let letter = json!({ "comments": "Posted before the deadline", "channel": "paper" });
    let key = |base: &str, id: &str, token: Option<&str>, body: &Value| {
        let (base, path, token, body) = (
            base.to_owned(),
            format!("/api/v1/consultations/{id}/responses"),
            token.map(str::to_owned),
            body.clone(),
        );
        async move { app.at(&base, Method::POST, &path, token.as_deref(), Some(body)).await }
    };
    // Ten days after closing (day 18 from now): the post is still keyed, online is over.
    let day18 = app.later(18).await;
    let (s, r) = key(&day18, &default, Some(&tamworth), &letter).await;
    assert_eq!((s, r["channel"].as_str()), (StatusCode::CREATED, Some("paper")), "{r}");
    let (s, p) = key(&day18, &default, Some(&tamworth), &json!({ "comments": "Too late" })).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let (s, _) = key(&day18, &default, None, &json!({ "comments": "Too late" })).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Twenty days after closing: past the default window (its last day named), not the longer.
    let day28 = app.later(28).await;
    let (s, p) = key(&day28, &default, Some(&tamworth), &letter).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    let until = closes + chrono::Days::new(14);
    assert!(p["detail"].as_str().unwrap().contains(&until.to_string()), "{p}");
    let (s, r) = key(&day28, &longer, Some(&tamworth), &letter).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
}

//! You said, we did: drafting (owner officers), publishing (coordinators only; refused before
//! closing and without a theme), overdue feedback at its boundary, the public record, and
//! corrections (coordinators only).

use consult_tests::{TestApp, consultation};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(you_said_we_did);
async fn you_said_we_did(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    // Open 8 to 17 January with no feedback date of its own: feedback is due twelve weeks after
    // closing, on 11 April.
    let mut body = consultation("tamworth", "Library opening hours", -2, 10);
    body["feedback_due_on"] = Value::Null;
    let id = app.register_activity(&tamworth, body, true).await;
    let path = format!("/api/v1/consultations/{id}/feedback");
    let theme =
        json!({ "theme": "Sunday opening", "you_said": "Open on Sundays", "we_did": "Opening 10-4 from March" });
    let not_done = json!({ "theme": "Cafe", "you_said": "Add a cafe", "we_did_not": "No cafe", "reason": "The lease does not allow food sales" });

    // Validation names every field at fault; other organisations cannot write.
    let bad = json!({ "items": [ { "theme": "Cafe", "you_said": "Add a cafe", "we_did_not": "No cafe" }, { "you_said": "x", "we_did": "y" } ] });
    let (s, p) = app.put(&path, Some(&tamworth), bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["items[0].reason", "items[1].theme"]);
    assert_eq!(
        app.put(&path, Some(&police), json!({ "items": [theme.clone()] }))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // A draft while open: the owner sees it, the public does not; publishing is refused before closing.
    let (s, draft) = app
        .put(&path, Some(&tamworth), json!({ "items": [theme.clone()] }))
        .await;
    assert_eq!(
        (s, draft["published_on"].clone()),
        (StatusCode::OK, Value::Null),
        "{draft}"
    );
    assert_eq!(draft["feedback_due"], "2026-04-11");
    assert_eq!(app.get(&path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, Some(&tamworth)).await.0, StatusCode::OK);
    let (s, p) = app
        .put(
            &path,
            Some(&app.coordinator),
            json!({ "items": [theme.clone()], "publish": true }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("after an activity closes"),
        "{p}"
    );

    // Due on 11 April: not overdue that day, overdue the next, and listed as such in the register.
    let due = app.later(91).await;
    let (_, c) = app
        .at(
            &due,
            reqwest::Method::GET,
            &format!("/api/v1/consultations/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (c["status"].as_str(), c["feedback_overdue"].as_bool()),
        (Some("closed"), Some(false)),
        "{c}"
    );
    let after = app.later(92).await;
    let (_, c) = app
        .at(
            &after,
            reqwest::Method::GET,
            &format!("/api/v1/consultations/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(c["feedback_overdue"], true, "{c}");
    let (_, overdue) = app
        .at(
            &after,
            reqwest::Method::GET,
            "/api/v1/consultations?feedback_overdue=true",
            None,
            None,
        )
        .await;
    let listed: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [id.as_str()]);
    let (_, none) = app
        .at(
            &due,
            reqwest::Method::GET,
            "/api/v1/consultations?feedback_overdue=true",
            None,
            None,
        )
        .await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    let (s, _) = app
        .at(
            &after,
            reqwest::Method::GET,
            "/api/v1/consultations?feedback_overdue=maybe",
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Publishing with no theme is refused; with themes it moves the activity to results_published.
    let (s, p) = app
        .at(
            &after,
            reqwest::Method::PUT,
            &path,
            Some(&app.coordinator),
            Some(json!({ "items": [], "publish": true })),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("items")),
        "{p}"
    );
    let body =
        json!({ "items": [theme, not_done], "summary": "312 responses; most wanted Sunday opening.", "publish": true });
    // Publishing is the coordinator's (API.md: coordinator ... publish): the owner officer is
    // refused, and nothing changes.
    let (s, p) = app
        .at(&after, reqwest::Method::PUT, &path, Some(&tamworth), Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let (_, still) = app.at(&after, reqwest::Method::GET, &path, Some(&tamworth), None).await;
    assert_eq!(still["status"], "closed", "{still}");
    let (s, published) = app
        .at(&after, reqwest::Method::PUT, &path, Some(&app.coordinator), Some(body))
        .await;
    assert_eq!(s, StatusCode::OK, "{published}");
    assert_eq!(
        (
            published["status"].as_str(),
            published["published_on"].as_str(),
            published["overdue"].as_bool()
        ),
        (Some("results_published"), Some("2026-04-12"), Some(false))
    );
    let (_, c) = app
        .at(
            &after,
            reqwest::Method::GET,
            &format!("/api/v1/consultations/{id}"),
            None,
            None,
        )
        .await;
    let history: Vec<&str> = c["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        ["submitted", "approved", "open", "closed", "results_published"]
    );
    // On the public record, with the reason for what was not done.
    let (s, public) = app.at(&after, reqwest::Method::GET, &path, None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(public["items"][1]["reason"], "The lease does not allow food sales");

    // A correction later keeps the publication date; it changes the public record, so it is
    // the coordinator's too.
    let later = app.later(120).await;
    let fix = json!({ "items": [ { "theme": "Sunday opening", "you_said": "Open on Sundays", "we_did": "Opening 10-4 from April" } ] });
    let (s, p) = app
        .at(&later, reqwest::Method::PUT, &path, Some(&tamworth), Some(fix.clone()))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let (s, fixed) = app
        .at(&later, reqwest::Method::PUT, &path, Some(&app.coordinator), Some(fix))
        .await;
    assert_eq!(
        (s, fixed["published_on"].as_str()),
        (StatusCode::OK, Some("2026-04-12")),
        "{fixed}"
    );
    assert_eq!(fixed["items"].as_array().unwrap().len(), 1);

    // The CLI records feedback from a file, and refuses bad files with exit code 2.
    let other = app
        .register_activity(&tamworth, consultation("tamworth", "Parks", -2, 10), true)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feedback.json");
    std::fs::write(
        &file,
        json!({ "items": [ { "theme": "Play areas", "you_said": "More swings", "we_did": "Ordered six" } ] })
            .to_string(),
    )
    .unwrap();
    let out = app.cli(&["feedback", &other, "--file", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, f) = app
        .get(&format!("/api/v1/consultations/{other}/feedback"), Some(&tamworth))
        .await;
    assert_eq!(f["items"][0]["theme"], "Play areas");
    std::fs::write(&file, json!({ "items": [ { "theme": "Play areas" } ] }).to_string()).unwrap();
    let out = app.cli(&["feedback", &other, "--file", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("items[0].you_said"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Replaces every `consultation_id` (random per run) so snapshots compare content.
fn redact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "consultation_id" {
                    *x = json!("[id]");
                } else {
                    redact(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact),
        _ => {}
    }
}

on_both!(annual_review_of_the_demo_data);
async fn annual_review_of_the_demo_data(app: &TestApp) {
    let now = app.today.and_hms_opt(9, 30, 0).unwrap().and_utc();
    assert!(
        consult_app::demo::load_if_empty(&app.store, app.today, now)
            .await
            .unwrap()
    );
    let (s, mut review) = app.get("/api/v1/reports/annual?year=2025", None).await;
    assert_eq!(s, StatusCode::OK, "{review}");
    // What was not done is there with its reasons; drafts and withdrawn activities are not.
    let not_done: Vec<&str> = review["not_done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["reason"].as_str().unwrap())
        .collect();
    assert_eq!(not_done.len(), 2, "{review}");
    assert!(review["by_status"].get("withdrawn").is_none() && review["by_status"].get("draft").is_none());
    assert_eq!(review["equality"]["suppressed_view"], true);
    // Who responded: the partnership's public figures for 2025, perturbed with this database's
    // secret key (so not in the snapshot): every shown count is five or more, none of the
    // small ones is shown, and the respondents are those of the year's closed activities.
    for c in review["equality"]["characteristics"].as_array().unwrap() {
        for k in c["categories"].as_array().unwrap() {
            match k["respondents"].as_u64() {
                Some(n) => assert!(n >= 5 && k["suppressed"] == false, "{k}"),
                None => assert!(
                    k["suppressed"] == true && k["flag"].is_null() && k["ratio"].is_null(),
                    "{k}"
                ),
            }
        }
    }
    review["equality"] = json!({
        "respondents": review["equality"]["respondents"].clone(),
        "characteristics": review["equality"]["characteristics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["characteristic"].clone())
            .collect::<Vec<_>>(),
        "suppressed_view": true,
    });
    redact(&mut review);
    insta::assert_json_snapshot!("annual_review_demo_2025", review);

    // One organisation; an area (the councillors' view); CSV and HTML.
    let (_, herefordshire) = app
        .get(
            "/api/v1/reports/annual?year=2025&organisation=herefordshire-partnership",
            None,
        )
        .await;
    assert_eq!(herefordshire["activities"], 1, "{herefordshire}");
    assert_eq!(herefordshire["measures"]["paper_and_phone_survey_cost"], 30000.0);
    let (_, area) = app.get("/api/v1/reports/annual?year=2025&area=E07000199", None).await;
    assert!(area["activities"].as_u64().unwrap() < review["activities"].as_u64().unwrap());
    let res = app
        .client
        .get(format!("{}/api/v1/reports/annual?year=2025&format=csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    assert!(
        text.starts_with("section,name,value\n") && text.contains("not_done,"),
        "{text}"
    );
    let res = app
        .client
        .get(format!("{}/api/v1/reports/annual?year=2025&format=html", app.base))
        .send()
        .await
        .unwrap();
    // The API's HTML pages have the hub's security headers; its JSON needs none.
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["referrer-policy"], "strict-origin-when-cross-origin");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<h1>Consultation and engagement: annual review 2025</h1>")
            && page.contains("What we did not do, and why")
            && page.contains("<svg role=\"img\""),
        "{page}"
    );

    // The quarterly update for a ward or division: the same review for a quarter.
    let res = app
        .client
        .get(format!(
            "{}/api/v1/reports/quarterly?year=2026&quarter=1&area=E07000199&format=html",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let res = app
        .send(reqwest::Method::GET, "/api/v1/reports/annual?year=2025", None, None)
        .await;
    assert!(!res.headers().contains_key("content-security-policy"));
    let (s, q1) = app
        .get("/api/v1/reports/quarterly?year=2026&quarter=1&area=E07000199", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{q1}");
    assert_eq!(
        (
            q1["period"]["kind"].as_str(),
            q1["period"]["from"].as_str(),
            q1["period"]["to"].as_str()
        ),
        (Some("quarterly"), Some("2026-01-01"), Some("2026-03-31"))
    );
    assert!(q1["activities"].as_u64().unwrap() >= 1, "{q1}");
    let (s, p) = app.get("/api/v1/reports/quarterly?year=2026", None).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quarter"))
    );
    let (s, p) = app.get("/api/v1/reports/annual?year=2026&quarter=2", None).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quarter"))
    );
    let out = app.cli(&["report", "quarterly", "--year", "2026", "--quarter", "5"]);
    assert_eq!(out.status.code(), Some(2));

    // Bad requests name the field; an unknown organisation is a 404.
    let (s, p) = app.get("/api/v1/reports/annual?format=pdf", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["year", "format"]);
    assert_eq!(
        app.get("/api/v1/reports/annual?year=2025&organisation=nowhere", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // The CLI writes the same review as HTML (its clock is the real one).
    let out = app.cli(&["report", "annual", "--year", "2025", "--format", "html"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("annual review 2025"));
    let out = app.cli(&["report", "annual", "--year", "2025", "--organisation", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
}

on_both!(evaluation_and_remarks);
async fn evaluation_and_remarks(app: &TestApp) {
    use reqwest::Method;
    let (tamworth, police) = app.seed().await;
    let id = app
        .register_activity(
            &tamworth,
            consultation("tamworth", "Leisure centre changes", -2, 10),
            true,
        )
        .await;
    let draft = app
        .register_activity(&tamworth, consultation("tamworth", "Draft idea", 5, 10), false)
        .await;

    // Anyone may comment on, compliment or complain about how an activity is run.
    let remarks = format!("/api/v1/consultations/{id}/remarks");
    let complaint = json!({ "kind": "complaint", "body": "No step-free access at the drop-in", "principle": "accessible", "contact": "ann@example.org" });
    let (s, receipt) = app.post(&remarks, None, complaint).await;
    assert_eq!(
        (s, receipt["status"].as_str()),
        (StatusCode::CREATED, Some("received")),
        "{receipt}"
    );
    let (s, _) = app
        .post(
            &remarks,
            None,
            json!({ "kind": "compliment", "body": "Friendly staff" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, p) = app.post(&remarks, None, json!({ "kind": "moan" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kind", "body"]);
    assert_eq!(
        app.post(
            &format!("/api/v1/consultations/{draft}/remarks"),
            None,
            json!({ "kind": "comment", "body": "x" })
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Staff of the owner see them, with the contact; the public and other bodies do not.
    assert_eq!(app.get(&remarks, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&remarks, Some(&police)).await.0, StatusCode::FORBIDDEN);
    let (s, list) = app.get(&remarks, Some(&tamworth)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list[0]["contact"], "ann@example.org");
    let remark = format!("/api/v1/remarks/{}", receipt["id"].as_str().unwrap());
    let (s, p) = app
        .patch(&remark, Some(&tamworth), json!({ "status": "resolved" }))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reply"))
    );
    assert_eq!(
        app.patch(&remark, Some(&police), json!({ "status": "acknowledged" }))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (s, done) = app
        .patch(
            &remark,
            Some(&tamworth),
            json!({ "status": "resolved", "reply": "The next session is at the library, which is step-free." }),
        )
        .await;
    assert_eq!(
        (s, done["status"].as_str()),
        (StatusCode::OK, Some("resolved")),
        "{done}"
    );

    // A debrief waits for the close; then the response rate comes from the audience size.
    let evaluation = format!("/api/v1/consultations/{id}/evaluation");
    let debrief = json!({ "what_worked": "Drop-ins at the pool", "what_did_not": "Evening meeting", "learning_points": ["Book step-free venues"], "tags": ["Access"], "audience_size": 400 });
    assert_eq!(
        app.put(&evaluation, Some(&tamworth), debrief.clone()).await.0,
        StatusCode::CONFLICT
    );
    for n in 0..3 {
        let (s, _) = app
            .post(
                &format!("/api/v1/consultations/{id}/responses"),
                None,
                json!({ "comments": format!("View {n}") }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let later = app.later(30).await;
    let at = |method, path: &str, token: Option<&str>, body: Option<Value>| {
        let path = path.to_owned();
        let token = token.map(str::to_owned);
        let later = later.clone();
        async move { app.at(&later, method, &path, token.as_deref(), body).await }
    };
    let (s, e) = at(Method::PUT, &evaluation, Some(&tamworth), Some(debrief)).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(
        (e["responses"].as_u64(), e["response_rate"].as_f64()),
        (Some(3), Some(0.0075))
    );
    assert_eq!(e["cost_per_response"], 500.0);
    assert_eq!(e["debrief"]["tags"][0], "access");

    // Evaluated needs published results and the debrief.
    let feedback = json!({ "items": [ { "theme": "Access", "you_said": "Step-free venues", "we_did": "Moved sessions" } ], "publish": true });
    let (s, _) = at(
        Method::PUT,
        &format!("/api/v1/consultations/{id}/feedback"),
        Some(&app.coordinator),
        Some(feedback),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, moved) = at(
        Method::POST,
        &format!("/api/v1/consultations/{id}/transitions"),
        Some(&app.coordinator),
        Some(json!({ "to": "evaluated" })),
    )
    .await;
    assert_eq!(
        (s, moved["status"].as_str()),
        (StatusCode::OK, Some("evaluated")),
        "{moved}"
    );

    // The year's external sample: reproducible.
    let (s, sample) = at(
        Method::POST,
        "/api/v1/evaluations/sample",
        Some(&app.coordinator),
        Some(json!({ "year": 2026, "size": 1 })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{sample}");
    assert_eq!(
        (sample[0]["consultation_id"].as_str(), sample[0]["external"].as_bool()),
        (Some(id.as_str()), Some(true))
    );
    let (_, again) = at(
        Method::POST,
        "/api/v1/evaluations/sample",
        Some(&app.coordinator),
        Some(json!({ "year": 2026, "size": 1 })),
    )
    .await;
    assert_eq!(again, sample);
    let (s, p) = at(
        Method::POST,
        "/api/v1/evaluations/sample",
        Some(&tamworth),
        Some(json!({ "year": 2026, "size": 1 })),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");

    // The annual review counts them, and carries no contact details.
    let (_, review) = at(Method::GET, "/api/v1/reports/annual?year=2026", None, None).await;
    assert_eq!(review["measures"]["debriefs"], 1, "{review}");
    assert_eq!(review["measures"]["external_evaluations"], 1);
    assert_eq!(
        review["remarks"],
        json!({ "comments": 0, "compliments": 1, "complaints": 1, "complaints_resolved": 1 })
    );
    assert_eq!(review["learning_points"][0]["point"], "Book step-free venues");
    assert!(!review.to_string().contains("ann@example.org"));

    // The CLI lists the remarks for staff.
    let out = app.cli(&["remarks", &id, "--format", "csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("complaint,resolved"));
}

on_both!(results_library);
async fn results_library(app: &TestApp) {
    use reqwest::Method;
    let (tamworth, police) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Allotments strategy", -2, 10), true)
        .await;
    let docs = format!("/api/v1/consultations/{id}/documents");

    // Linked documents must be web addresses; only the owner adds them.
    let link = json!({ "title": "Consultation document", "url": "https://www.tamworth.gov.uk/allotments.pdf" });
    assert_eq!(
        app.post(&docs, Some(&police), link.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, p) = app
        .post(
            &docs,
            Some(&tamworth),
            json!({ "title": "x", "url": "javascript:alert(1)" }),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("url"))
    );
    let (s, linked) = app.post(&docs, Some(&tamworth), link).await;
    assert_eq!(
        (s, linked["kind"].as_str()),
        (StatusCode::CREATED, Some("link")),
        "{linked}"
    );

    // Stored documents: a type consult keeps, within the size limit.
    let pdf = b"%PDF-1.4\n% consult test report\n".to_vec();
    let upload = |base: &str, token: &str, media: &str, body: Vec<u8>| {
        app.client
            .post(format!("{base}{docs}/upload?title=Findings%20report"))
            .bearer_auth(token)
            .header("content-type", media)
            .body(body)
            .send()
    };
    let (s, stored) = consult_tests::into_json(
        upload(&app.base, &tamworth, "application/pdf", pdf.clone())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, stored["kind"].as_str(), stored["size"].as_u64()),
        (StatusCode::CREATED, Some("stored"), Some(pdf.len() as u64)),
        "{stored}"
    );
    let (s, p) = consult_tests::into_json(
        upload(&app.base, &tamworth, "text/html", b"<script>".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("content_type"))
    );
    let small = app
        .instance_with(consult_api::Limits {
            max_document_bytes: 10,
            ..consult_api::Limits::default()
        })
        .await;
    let res = upload(&small, &tamworth, "application/pdf", pdf.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Anyone who may read the activity lists and fetches them: stored ones as attachments.
    let (_, list) = app.get(&docs, None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let res = app
        .client
        .get(format!(
            "{}/api/v1/documents/{}",
            app.base,
            stored["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirects
        .get(format!(
            "{}/api/v1/documents/{}",
            app.base,
            linked["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "https://www.tamworth.gov.uk/allotments.pdf");

    // The library holds activities whose results are published, searchable.
    let (_, empty) = app.get("/api/v1/library", None).await;
    assert_eq!(empty["items"].as_array().unwrap().len(), 0);
    let later = app.later(30).await;
    let feedback = json!({ "items": [ { "theme": "Waiting lists", "you_said": "Shorter waits", "we_did": "Split large plots" } ],
        "summary": "412 responses; most wanted shorter waiting lists.", "publish": true });
    let (s, _) = app
        .at(
            &later,
            Method::PUT,
            &format!("/api/v1/consultations/{id}/feedback"),
            Some(&app.coordinator),
            Some(feedback),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let search = |query: &'static str| {
        let later = later.clone();
        async move {
            app.at(&later, Method::GET, &format!("/api/v1/library{query}"), None, None)
                .await
                .1
        }
    };
    let all = search("").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");
    let entry = &all["items"][0];
    assert_eq!(entry["summary"], "412 responses; most wanted shorter waiting lists.");
    assert_eq!(entry["themes"][0]["theme"], "Waiting lists");
    assert_eq!(entry["documents"].as_array().unwrap().len(), 2);
    assert_eq!(search("?q=allotments").await["items"].as_array().unwrap().len(), 1);
    assert_eq!(search("?q=swimming").await["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        search("?year=2026&topic=allotments").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(search("?year=2025").await["items"].as_array().unwrap().len(), 0);
    let (s, p) = app
        .at(&later, Method::GET, "/api/v1/library?year=soon", None, None)
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("year"))
    );

    // Removing a document.
    let path = format!("/api/v1/documents/{}", linked["id"].as_str().unwrap());
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&police), None).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&tamworth), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&docs, None).await.1.as_array().unwrap().len(), 1);
}

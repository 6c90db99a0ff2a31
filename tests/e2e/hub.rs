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
    body["service"] = json!("Parks");
    let open = app.register_activity(&tamworth, body, true).await;
    let mut body = consultation("tamworth", "Library hours", 20, 30);
    body["service"] = json!("Libraries");
    body["level"] = json!("involve");
    let coming = app.register_activity(&tamworth, body, true).await;
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
    // By service, level and dates, each kept in the form.
    let found = |html: &str, id: &str| html.contains(&format!("/activities/{id}"));
    let (_, _, parks) = page(app, &app.base, "/register?service=parks").await;
    assert!(found(&parks, &open) && !found(&parks, &coming), "{parks}");
    let (_, _, involve) = page(app, &app.base, "/register?level=involve").await;
    assert!(!found(&involve, &open) && found(&involve, &coming));
    assert!(involve.contains("<option value=\"involve\" selected>"), "{involve}");
    let later_day = (app.today + chrono::Duration::days(15)).to_string();
    let (_, _, dated) = page(app, &app.base, &format!("/register?from={later_day}")).await;
    assert!(!found(&dated, &open) && found(&dated, &coming), "{dated}");
    assert!(dated.contains(&format!("value=\"{later_day}\"")));
    let (s, _, bad_date) = page(app, &app.base, "/register?to=soon").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_date.contains("href=\"#to\""), "{bad_date}");
    let (_, api) = app.get("/api/v1/consultations?service=LIBRARIES", None).await;
    assert_eq!(api["items"].as_array().unwrap().len(), 1, "{api}");
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
        .bearer_auth(&app.coordinator)
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

    // The results library lists it with its findings; a bad year is shown beside the field.
    let (s, _, results) = page(app, &later, "/results?q=parks").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        results.contains(&format!("/activities/{open}")) && results.contains("Results published on"),
        "{results}"
    );
    assert!(results.contains("2 themes in you said, we did"), "{results}");
    let (_, _, none) = page(app, &later, "/results?q=libraries").await;
    assert!(none.contains("No published results match"), "{none}");
    let (s, _, bad) = page(app, &later, "/results?year=last").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("href=\"#year\"") && bad.contains("value=\"last\""),
        "{bad}"
    );

    // The annual review of the year it ran in: you said, we did and what was not done, and who
    // responded, as the hub's own page (one h1, the site's navigation), hostile text escaped.
    let year = chrono::Datelike::year(&(chrono::Utc::now().date_naive() - chrono::Duration::days(2)));
    let (s, _, review) = page(app, &later, &format!("/annual-review/{year}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(review.contains(&format!("annual review {year}")), "{review}");
    assert!(
        review.contains("Six new swings") && review.contains("No water supply &lt;here&gt;"),
        "{review}"
    );
    assert!(review.contains("Who responded") && review.contains("Skip to main content"));
    assert_eq!(review.matches("<h1").count(), 1);
    assert!(!review.contains("<script>"));
    assert_eq!(page(app, &later, "/annual-review/1066").await.0, StatusCode::NOT_FOUND);
    assert_eq!(page(app, &later, "/annual-review").await.0, StatusCode::OK);

    let (s, h, css) = page(app, &app.base, "/hub.css").await;
    assert_eq!(
        (s, h["content-type"].to_str().unwrap()),
        (StatusCode::OK, "text/css; charset=utf-8")
    );
    assert!(css.contains(".skip-link"));
}

/// Posts a form, with the anti-forgery cookie when given.
async fn post_form(app: &TestApp, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let mut req = app.client.post(format!("{}{path}", app.base)).form(fields);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("consult_csrf={c}"));
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// The value of a hidden input.
fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
    html[at..].split('"').next().unwrap().to_owned()
}

/// The value a `Set-Cookie` header sets.
fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

on_both!(hub_respond_form);
async fn hub_respond_form(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let open = app
        .register_activity(&tamworth, consultation("tamworth", "Parks strategy", -2, 10), true)
        .await;
    let coming = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", 20, 30), true)
        .await;
    let count = || async {
        let (_, c) = app.get(&format!("/api/v1/consultations/{open}"), None).await;
        c["response_count"].as_u64().unwrap()
    };

    // From the activity's page to its form: comments, and monitoring questions each with
    // "prefer not to say"; the form sets the anti-forgery cookie and repeats its token.
    let (_, _, activity) = page(app, &app.base, &format!("/activities/{open}")).await;
    let path = format!("/activities/{open}/respond");
    assert!(activity.contains(&format!("href=\"{path}\"")), "{activity}");
    let (s, h, form) = page(app, &app.base, &path).await;
    assert_eq!(s, StatusCode::OK);
    let cookie = h["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let token = hidden(&form, "csrf");
    assert!(
        cookie.starts_with("consult_csrf=") && !cookie.contains("Secure"),
        "{cookie}"
    );
    // The form repeats a keyed hash of the cookie's value, not the value itself.
    let value = cookie_value(cookie);
    assert!(token.len() == 64 && !token.contains(&value), "{token} {cookie}");
    let key = hidden(&form, "key");
    assert!(form.contains("<label for=\"comments\">") && form.contains("name=\"m.sex\""));
    assert!(
        form.matches("Prefer not to say").count() >= 5,
        "every question offers it"
    );
    assert_eq!(h["cache-control"], "no-store");

    // Without the cookie (a forged cross-site post) nothing is stored.
    let (s, body) = post_form(app, &path, None, &[("csrf", &token), ("comments", "Forged")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, _) = post_form(
        app,
        &path,
        Some(&value),
        &[("csrf", "0".repeat(32).as_str()), ("comments", "x")],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(count().await, 0);

    // Nothing entered: an error summary linking to the field, the error beside it.
    let (s, body) = post_form(
        app,
        &path,
        Some(&value),
        &[("csrf", &token), ("key", &key), ("comments", "  ")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("There is a problem") && body.contains("href=\"#comments\""),
        "{body}"
    );
    assert!(
        body.contains("id=\"comments-error\"") && body.contains("<title>Error:"),
        "{body}"
    );
    // A category the scheme does not have: the error points at the question, and what was
    // written is kept, escaped.
    let fields = [
        ("csrf", token.as_str()),
        ("key", key.as_str()),
        ("comments", "More <b>benches</b> & shade"),
        ("m.sex", "martian"),
    ];
    let (s, body) = post_form(app, &path, Some(&value), &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("href=\"#m-sex-1\"") && body.contains("id=\"m-sex-error\""),
        "{body}"
    );
    assert!(
        body.contains("More &#60;b&#62;benches&#60;/b&#62; &#38; shade"),
        "{body}"
    );
    assert_eq!(count().await, 0, "an invalid form stores nothing");
    // "Hear about the results": a landline is not somewhere a notice can go; the error links to
    // the field and what was typed is kept.
    assert!(form.contains("name=\"results_notice_to\""), "{form}");
    let fields = [
        ("csrf", token.as_str()),
        ("key", key.as_str()),
        ("comments", "More benches"),
        ("results_notice_to", "01827 709709"),
    ];
    let (s, body) = post_form(app, &path, Some(&value), &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("href=\"#results_notice_to\"")
            && body.contains("id=\"results_notice_to-error\"")
            && body.contains("value=\"01827 709709\""),
        "{body}"
    );
    assert_eq!(count().await, 0);

    // Sent properly: a confirmation with a reference; pressing again stores nothing more.
    let fields = [
        ("csrf", token.as_str()),
        ("key", key.as_str()),
        ("comments", "More benches"),
        ("m.sex", "female"),
        ("m.age_band", "prefer_not_to_say"),
        ("m.ethnic_group", ""),
        ("results_notice_to", "ann@example.org"),
    ];
    let (s, first) = post_form(app, &path, Some(&value), &fields).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert!(first.contains("Response received"), "{first}");
    let (_, again) = post_form(app, &path, Some(&value), &fields).await;
    let reference = |html: &str| {
        html.split("<strong>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(reference(&first), reference(&again));
    assert_eq!(count().await, 1);
    let cid = open.parse().unwrap();
    assert_eq!(
        app.store.results_notices_waiting(cid).await.unwrap(),
        1,
        "kept apart, once"
    );
    let (respondents, answers) = app.store.monitoring_counts(&[cid]).await.unwrap();
    assert_eq!(respondents, 1);
    let answers = &answers["census2021@1"];
    assert_eq!(answers["sex"]["female"], 1);
    assert_eq!(answers["age_band"]["prefer_not_to_say"], 1);
    assert!(!answers.contains_key("ethnic_group"), "not answered is not stored");

    // An activity not yet open takes no responses.
    let path = format!("/activities/{coming}/respond");
    let (s, _, body) = page(app, &app.base, &path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains("not taking responses") && !body.contains("<form"),
        "{body}"
    );
    let (s, _) = post_form(app, &path, Some(&value), &[("csrf", &token), ("comments", "Early")]).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

/// The text of an element with an id.
fn by_id(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
    html[at..].split('<').next().unwrap().to_owned()
}

on_both!(hub_register_and_manage);
async fn hub_register_and_manage(app: &TestApp) {
    app.seed().await;
    let (s, h, form) = page(app, &app.base, "/register-interests").await;
    assert_eq!(s, StatusCode::OK);
    let token = hidden(&form, "csrf");
    let value = cookie_value(h["set-cookie"].to_str().unwrap());
    let area = form
        .split("name=\"areas\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(form.contains("name=\"channels\" value=\"email\"") && form.contains("id=\"consent\""));

    // Nothing usable: errors beside the fields, with a summary; nothing stored.
    let (s, body) = post_form(
        app,
        "/register-interests",
        Some(&value),
        &[("csrf", &token), ("topics", "parks")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for anchor in ["#email", "#channels-1", "#consent"] {
        assert!(body.contains(&format!("href=\"{anchor}\"")), "{anchor}: {body}");
    }
    assert!(body.contains("value=\"parks\""), "what was typed is kept");
    let (s, _) = post_form(
        app,
        "/register-interests",
        None,
        &[("csrf", &token), ("email", "a@example.org")],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Registered, pending: a reference and a key, shown once, and where the code went.
    let fields = [
        ("csrf", token.as_str()),
        ("email", "Resident@Example.org"),
        ("topics", "parks, libraries"),
        ("areas", area.as_str()),
        ("channels", "email"),
        ("consent", "yes"),
    ];
    let (s, done) = post_form(app, "/register-interests", Some(&value), &fields).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{done}");
    let (reference, key) = (by_id(&done, "reference"), by_id(&done, "key"));
    assert!(done.contains("sent a code to your email address"), "{done}");
    assert!(done.contains("action=\"/verify-registration\"") && done.contains("id=\"code\""));

    // See what is held, with the reference and key posted; a wrong key shows nothing.
    let manage = |action: &'static str, key: String| {
        let (reference, token, value) = (reference.clone(), token.clone(), value.clone());
        async move {
            post_form(
                app,
                "/my-registration",
                Some(&value),
                &[
                    ("csrf", &token),
                    ("reference", &reference),
                    ("key", &key),
                    ("action", action),
                ],
            )
            .await
        }
    };
    let (s, body) = manage("view", "wrong".into()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("There is no registration") && !body.contains("Resident@example.org"));
    let (s, body) = manage("view", key.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains("Resident@example.org") && body.contains("libraries, parks"),
        "{body}"
    );
    assert!(body.contains("You agreed to be contacted on"));
    assert!(body.contains("Waiting for the code we sent you"), "{body}");

    // Confirm with the code: a wrong one is shown beside the field, a forged post is refused,
    // a link fills the form in without confirming anything.
    let (s, body) = post_form(
        app,
        "/verify-registration",
        Some(&value),
        &[("csrf", &token), ("code", "WRONG-CODE")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("id=\"code-error\"") && body.contains("href=\"#code\""),
        "{body}"
    );
    assert!(body.contains("value=\"WRONG-CODE\""), "what was typed is kept");
    let id: uuid::Uuid = reference.parse().unwrap();
    let code = app.store.verification_code(id).await.unwrap().unwrap();
    let (s, _) = post_form(app, "/verify-registration", None, &[("csrf", &token), ("code", &code)]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, body) = page(app, &app.base, &format!("/verify-registration?code={code}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains(&format!("value=\"{code}\"")), "{body}");
    assert!(
        app.store.verification_code(id).await.unwrap().is_some(),
        "a link alone confirms nothing"
    );
    let typed = format!("{} {}", &code[..6], code[6..].to_lowercase());
    let (s, body) = post_form(
        app,
        "/verify-registration",
        Some(&value),
        &[("csrf", &token), ("code", &typed)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(
        body.contains("You are registered") && body.contains(&reference),
        "{body}"
    );
    let (_, body) = manage("view", key.clone()).await;
    assert!(
        body.contains("Confirmed") && !body.contains("Waiting for the code"),
        "{body}"
    );

    // Download it all, as JSON.
    let res = app
        .client
        .post(format!("{}/my-registration", app.base))
        .header("cookie", format!("consult_csrf={value}"))
        .form(&[
            ("csrf", token.as_str()),
            ("reference", &reference),
            ("key", &key),
            ("action", "export"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let export: serde_json::Value = res.json().await.unwrap();
    assert_eq!(export["resident"]["email"], "Resident@example.org");

    // Stop invitations, then delete: afterwards the reference and key find nothing.
    let (s, body) = manage("unsubscribe", key.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("You will not be invited any more"), "{body}");
    let (_, body) = manage("view", key.clone()).await;
    assert!(body.contains("You will not be invited to anything"), "{body}");
    let (s, body) = manage("delete", key.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("Registration deleted"));
    assert_eq!(manage("view", key.clone()).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

on_both!(hub_remark_form);
async fn hub_remark_form(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let open = app
        .register_activity(&tamworth, consultation("tamworth", "Parks strategy", -2, 10), true)
        .await;
    let remarks = || async {
        let (_, r) = app
            .get(&format!("/api/v1/consultations/{open}/remarks"), Some(&tamworth))
            .await;
        r.as_array().unwrap().clone()
    };
    // The activity's page links to the form; the form sets the anti-forgery cookie.
    let path = format!("/activities/{open}/remark");
    let (_, _, activity) = page(app, &app.base, &format!("/activities/{open}")).await;
    assert!(activity.contains(&format!("href=\"{path}\"")), "{activity}");
    let (s, h, form) = page(app, &app.base, &path).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["cache-control"], "no-store");
    let token = hidden(&form, "csrf");
    let value = cookie_value(h["set-cookie"].to_str().unwrap());
    assert!(form.contains("name=\"kind\" value=\"complaint\"") && form.contains("<label for=\"contact\">"));

    // A forged post stores nothing.
    let (s, _) = post_form(
        app,
        &path,
        None,
        &[("csrf", &token), ("kind", "complaint"), ("body", "x")],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(remarks().await.is_empty());

    // Nothing chosen or written: both errors, linked from the summary, beside their fields.
    let (s, body) = post_form(
        app,
        &path,
        Some(&value),
        &[("csrf", &token), ("body", " "), ("contact", "ann@example.org")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for anchor in [
        "href=\"#kind-1\"",
        "href=\"#body\"",
        "id=\"kind-error\"",
        "id=\"body-error\"",
    ] {
        assert!(body.contains(anchor), "{anchor}: {body}");
    }
    assert!(body.contains("Choose comment, compliment or complaint") && body.contains("Enter what happened"));
    assert!(body.contains("value=\"ann@example.org\""), "what was typed is kept");
    assert!(remarks().await.is_empty());

    // A complaint with a contact: received; the owner sees it with the contact, the public never.
    let (s, body) = post_form(
        app,
        &path,
        Some(&value),
        &[
            ("csrf", &token),
            ("kind", "complaint"),
            ("body", "The paper copy <never> arrived"),
            ("principle", "accessible"),
            ("contact", "ann@example.org"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("Received"), "{body}");
    let stored = remarks().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["kind"], "complaint");
    assert_eq!(stored[0]["principle"], "accessible");
    assert_eq!(stored[0]["body"], "The paper copy <never> arrived");
    assert_eq!(stored[0]["contact"], "ann@example.org");
    let (_, _, public) = page(app, &app.base, &format!("/activities/{open}")).await;
    assert!(!public.contains("ann@example.org"));
}

on_both!(hub_anti_forgery_cookie);
async fn hub_anti_forgery_cookie(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let open = app
        .register_activity(&tamworth, consultation("tamworth", "Parks strategy", -2, 10), true)
        .await;
    let path = format!("/activities/{open}/respond");
    let post = |base: String, cookie: String, token: String| {
        let path = path.clone();
        async move {
            app.client
                .post(format!("{base}{path}"))
                .header("cookie", cookie)
                .form(&[("csrf", token.as_str()), ("comments", "Planted")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // A cookie planted by a sibling domain, whose value the planter chose, with that value as
    // the token: refused, since the token is a keyed hash of the cookie, not the cookie.
    let planted = "ab".repeat(16);
    let s = post(app.base.clone(), format!("consult_csrf={planted}"), planted.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Over HTTPS the cookie is `__Host-` and `Secure`; the plain name is not read there.
    let https = app
        .instance_with(consult_api::Limits {
            anonymous_writes_per_minute: 0,
            public_url: Some("https://consult.example.gov.uk".into()),
            ..consult_api::Limits::default()
        })
        .await;
    let (s, h, form) = page(app, &https, &path).await;
    assert_eq!(s, StatusCode::OK);
    let cookie = h["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-consult_csrf=")
            && cookie.contains("; Secure")
            && cookie.contains("Path=/")
            && !cookie.contains("Domain"),
        "{cookie}"
    );
    let (value, token) = (cookie_value(cookie), hidden(&form, "csrf"));
    let s = post(https.clone(), format!("consult_csrf={value}"), token.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the plain cookie does not count over HTTPS");
    // The token is the same on every instance (the secret is in the database): a form shown by
    // one instance posts to another.
    let other = app
        .instance_with(consult_api::Limits {
            anonymous_writes_per_minute: 0,
            public_url: Some("https://consult.example.gov.uk".into()),
            ..consult_api::Limits::default()
        })
        .await;
    let s = post(other, format!("__Host-consult_csrf={value}"), token).await;
    assert_eq!(s, StatusCode::OK);
}

on_both!(hub_respondents_say_where_they_live);
async fn hub_respondents_say_where_they_live(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let open = app
        .register_activity(&tamworth, consultation("tamworth", "Parks strategy", -2, 10), true)
        .await;
    let path = format!("/activities/{open}/respond");
    let (s, h, form) = page(app, &app.base, &path).await;
    assert_eq!(s, StatusCode::OK);
    // The activity's area is offered (with "Not answered"), described by its hint.
    assert!(
        form.contains("Where do you live?") && form.contains("aria-describedby=\"area-hint"),
        "{form}"
    );
    assert!(form.contains("name=\"area\" value=\"E07000199\""), "{form}");
    assert!(
        !form.contains("value=\"E07000243\""),
        "another council's area is not offered"
    );
    let value = cookie_value(h["set-cookie"].to_str().unwrap());
    let (token, key) = (hidden(&form, "csrf"), hidden(&form, "key"));
    // A tampered area is named beside the question, nothing stored.
    let (s, body) = post_form(
        app,
        &path,
        Some(&value),
        &[
            ("csrf", &token),
            ("key", &key),
            ("comments", "Lights"),
            ("area", "E09999999"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("href=\"#area-1\"") && body.contains("id=\"area-error\""),
        "{body}"
    );
    let (s, body) = post_form(
        app,
        &path,
        Some(&value),
        &[
            ("csrf", &token),
            ("key", &key),
            ("comments", "Lights"),
            ("area", "E07000199"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // Counted by area in the analysis, never shown with the response.
    let (s, a) = app
        .get(
            &format!("/api/v1/consultations/{open}/analysis?by=area"),
            Some(&tamworth),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["groups"][0]["group"], "E07000199");
    assert_eq!(a["groups"][0]["respondents"], 1);
}

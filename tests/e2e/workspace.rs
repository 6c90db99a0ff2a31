//! The staff workspace over HTTP, as a browser without JavaScript uses it (forms, cookies,
//! redirects): signing in with a password set by the CLI, wrong passwords and the lockout, an
//! admin's second factor set up and used (a code never twice), sessions rotated at sign-in,
//! ended by signing out, by 30 idle minutes, after 12 hours and by disabling the account, the
//! cookie's attributes over HTTPS; and the partnership's roles on an activity's page: another
//! organisation's coordinator refused with the reason, a councillor seeing a submitted activity
//! in their ward and not one outside it, a service lead only their service's, the partnership
//! coordinator approving through the page.

use chrono::{DateTime, Duration, Utc};
use consult_tests::{TestApp, binary, consultation};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::io::Write as _;

/// A browser without JavaScript: keeps cookies, follows no redirect by itself.
struct Visitor {
    base: String,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Visitor {
    fn new(base: &str) -> Visitor {
        Visitor {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        for v in headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String, HeaderMap) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        self.absorb(&headers);
        (status, res.text().await.unwrap(), headers)
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, HeaderMap) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        self.absorb(&headers);
        (status, res.text().await.unwrap(), headers)
    }

    /// The session cookie's value.
    fn session(&self) -> Option<String> {
        self.cookies.get("consult_session").cloned()
    }
}

/// The anti-forgery token of the (first) form on a page.
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with its token") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

fn location(h: &HeaderMap) -> &str {
    h.get("location").map_or("", |v| v.to_str().unwrap())
}

/// Signs in with the form; returns the response to the post. Signed in already, the form is
/// one opened earlier (the sign-in page sends a signed-in browser home), posted with the
/// session's cookie: that session ends and a new one begins.
async fn sign_in(v: &mut Visitor, email: &str, password: &str) -> (StatusCode, String, HeaderMap) {
    let held = v.cookies.remove("consult_session");
    let (s, page, _) = v.get("/staff/sign-in").await;
    assert_eq!(s, StatusCode::OK);
    if let Some(held) = held {
        v.cookies.insert("consult_session".into(), held);
    }
    v.post(
        "/staff/sign-in",
        &[("csrf", &csrf(&page)), ("email", email), ("password", password)],
    )
    .await
}

async fn add_user(app: &TestApp, body: Value) -> String {
    let (s, b) = app.post("/api/v1/users", Some(&app.admin), body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

/// Sets a password with `consult user password`, typed on standard input.
fn set_password(app: &TestApp, user: &str, password: &str) {
    let mut child = std::process::Command::new(binary())
        .args(["--database", &app.database_url, "user", "password", user])
        .env_remove("CONSULT_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The current code of an authenticator holding `secret`, at `at`.
fn code(secret: &str, at: DateTime<Utc>) -> String {
    consult_app::signin::totp_code(secret, at).unwrap()
}

async fn audit_actions(app: &TestApp, user: &str) -> Vec<String> {
    let log = app.store.audit_log(Some(("user", user)), 1000).await.unwrap();
    log.into_iter().map(|e| e.action).collect()
}

const PASSWORD: &str = "a long sentence nobody guesses";

async fn sessions(app: &TestApp) {
    app.seed().await;
    let officer = add_user(
        app,
        json!({ "email": "olu@tamworth.gov.uk", "name": "Olu Officer", "role": "officer", "organisation": "tamworth" }),
    )
    .await;
    // The CLI refuses a weak password and names the rule.
    let mut child = std::process::Command::new(binary())
        .args([
            "--database",
            &app.database_url,
            "user",
            "password",
            "olu@tamworth.gov.uk",
        ])
        .env_remove("CONSULT_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "short").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    set_password(app, "olu@tamworth.gov.uk", PASSWORD);

    let mut v = Visitor::new(&app.base);
    let (s, _, h) = v.get("/staff").await;
    assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/staff/sign-in"));
    // A post without the form's token is refused, whatever it holds.
    let (s, _, _) = v
        .post(
            "/staff/sign-in",
            &[("email", "olu@tamworth.gov.uk"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(v.session().is_none());
    // A wrong password: one message, whichever part was wrong.
    let (s, page, _) = sign_in(&mut v, "olu@tamworth.gov.uk", "not the password at all").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("The e-mail address or the password is not right"),
        "{page}"
    );
    let (s, unknown, _) = sign_in(&mut v, "nobody@tamworth.gov.uk", PASSWORD).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.contains("The e-mail address or the password is not right"));
    let (s, blank, _) = sign_in(&mut v, "", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.contains("href=\"#email\"") && blank.contains("href=\"#password\""));

    // Signed in: the cookie is HttpOnly and SameSite=Lax, and home greets them.
    let (s, _, h) = sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/staff"));
    let set = h.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    let first = v.session().unwrap();
    let (s, home, h) = v.get("/staff").await;
    assert_eq!(s, StatusCode::OK);
    assert!(home.contains("Olu Officer") && home.contains("officer"), "{home}");
    assert_eq!(h.get("cache-control").unwrap(), "no-store");
    // Signing in again rotates the session: the old cookie is worth nothing.
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    let second = v.session().unwrap();
    assert_ne!(first, second);
    let mut thief = Visitor::new(&app.base);
    thief.cookies.insert("consult_session".into(), first.clone());
    let (s, _, h) = thief.get("/staff").await;
    assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/staff/sign-in"));
    assert!(thief.session().is_none(), "a dead session's cookie is removed");

    // Sign-out needs the page's token; then the session is gone.
    let (_, home, _) = v.get("/staff").await;
    let (s, _, _) = v.post("/staff/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, h) = v.post("/staff/sign-out", &[("csrf", &csrf(&home))]).await;
    assert_eq!(
        (s, location(&h)),
        (StatusCode::SEE_OTHER, "/staff/sign-in?signed_out=1")
    );
    thief.cookies.insert("consult_session".into(), second);
    assert_eq!(thief.get("/staff").await.0, StatusCode::SEE_OTHER);
    let actions = audit_actions(app, &officer).await;
    for a in ["session.sign_in_failed", "session.sign_in", "session.end"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }

    // Idle for 30 minutes: out. Used within them: still in.
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    let now = app.now();
    let mut later = Visitor::new(&app.instance_at_time(now + Duration::minutes(29), None).await);
    later.cookies = v.cookies.clone();
    assert_eq!(later.get("/staff").await.0, StatusCode::OK);
    let mut idle = Visitor::new(&app.instance_at_time(now + Duration::minutes(29 + 30), None).await);
    idle.cookies = v.cookies.clone();
    assert_eq!(idle.get("/staff").await.0, StatusCode::SEE_OTHER);
    // Used all along, it still ends 12 hours after sign-in.
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    let hash = hex::encode(sha2::Sha256::digest(v.session().unwrap().as_bytes()));
    let end = now + Duration::hours(12);
    app.store
        .touch_session(&hash, end - Duration::minutes(1))
        .await
        .unwrap();
    let mut nearly = Visitor::new(&app.instance_at_time(end - Duration::seconds(1), None).await);
    nearly.cookies = v.cookies.clone();
    assert_eq!(nearly.get("/staff").await.0, StatusCode::OK);
    let mut old = Visitor::new(&app.instance_at_time(end, None).await);
    old.cookies = v.cookies.clone();
    assert_eq!(old.get("/staff").await.0, StatusCode::SEE_OTHER);

    // Disabling the account signs it out everywhere.
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    assert_eq!(v.get("/staff").await.0, StatusCode::OK);
    let (s, b) = app
        .patch(
            &format!("/api/v1/users/{officer}"),
            Some(&app.admin),
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(v.get("/staff").await.0, StatusCode::SEE_OTHER);
    let (s, _, _) = sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a disabled account cannot sign in");
    app.patch(
        &format!("/api/v1/users/{officer}"),
        Some(&app.admin),
        json!({ "disabled": false }),
    )
    .await;
    // A right password clears the account's failures.
    assert_eq!(
        sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );

    // Five failures lock the account for the window, even with the right password then.
    let mut w = Visitor::new(&app.base);
    for _ in 0..5 {
        assert_eq!(
            sign_in(&mut w, "olu@tamworth.gov.uk", "wrong wrong wrong").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let (s, page, _) = sign_in(&mut w, "olu@tamworth.gov.uk", PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Too many failed sign-ins"));
    let mut after = Visitor::new(&app.instance_at_time(now + Duration::minutes(16), None).await);
    let (s, _, _) = sign_in(&mut after, "olu@tamworth.gov.uk", PASSWORD).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "the window passed");

    // An address with no account locks out the same way: the lockout tells no one which
    // addresses have accounts.
    let mut x = Visitor::new(&app.base);
    for _ in 0..5 {
        assert_eq!(
            sign_in(&mut x, "no.one@tamworth.gov.uk", "wrong wrong wrong").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let (s, page, _) = sign_in(&mut x, "no.one@tamworth.gov.uk", "wrong wrong wrong").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Too many failed sign-ins"));

    // Over HTTPS the cookie is __Host- prefixed and Secure.
    let mut secure = Visitor::new(
        &app.instance_at_time(now + Duration::minutes(17), Some("https://consult.example.gov.uk"))
            .await,
    );
    let (_, _, h) = sign_in(&mut secure, "olu@tamworth.gov.uk", PASSWORD).await;
    let set = h.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        set.starts_with("__Host-consult_session=") && set.contains("; Secure"),
        "{set}"
    );
}
on_both!(sessions);

async fn admins_need_a_second_factor(app: &TestApp) {
    let admin = add_user(
        app,
        json!({ "email": "ada@partnership.gov.uk", "name": "Ada Admin", "role": "admin" }),
    )
    .await;
    set_password(app, &admin, PASSWORD);
    let now = app.now();
    let mut v = Visitor::new(&app.base);
    let (s, _, h) = sign_in(&mut v, "ada@partnership.gov.uk", PASSWORD).await;
    assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/staff/enrol"));
    // Not signed in until the second factor is set up.
    let (s, _, h) = v.get("/staff").await;
    assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/staff/enrol"));
    let (s, page, _) = v.get("/staff/enrol").await;
    assert_eq!(s, StatusCode::OK);
    let at = page.find("<code>").unwrap() + 6;
    let secret = page[at..at + page[at..].find('<').unwrap()].to_owned();
    assert!(page.contains("otpauth://totp/consult:"), "{page}");
    let (s, _, _) = v
        .post("/staff/enrol", &[("csrf", &csrf(&page)), ("code", "000000")])
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, h) = v
        .post("/staff/enrol", &[("csrf", &csrf(&page)), ("code", &code(&secret, now))])
        .await;
    assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/staff"));
    assert_eq!(v.get("/staff").await.0, StatusCode::OK);

    // Next time: the password, then a code; a code already used is refused.
    let mut w = Visitor::new(&app.base);
    let (_, _, h) = sign_in(&mut w, "ada@partnership.gov.uk", PASSWORD).await;
    assert_eq!(location(&h), "/staff/two-factor");
    let (_, page, _) = w.get("/staff/two-factor").await;
    let (s, refused, _) = w
        .post(
            "/staff/two-factor",
            &[("csrf", &csrf(&page)), ("code", &code(&secret, now))],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "the enrolment's code was used");
    assert!(refused.contains("The code is not right"));
    let next = code(&secret, now + Duration::seconds(30));
    let (s, _, h) = w
        .post("/staff/two-factor", &[("csrf", &csrf(&page)), ("code", &next)])
        .await;
    assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/staff"));
    assert_eq!(w.get("/staff").await.0, StatusCode::OK);
    assert!(
        audit_actions(app, &admin)
            .await
            .iter()
            .any(|a| a == "user.second_factor")
    );

    // The admin's accounts page: an account added (an error first), then disabled.
    let (s, page, _) = w.get("/staff/admin/users").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Ada Admin"));
    let token = csrf(&page);
    let add = |role: &str| {
        vec![
            ("csrf", token.clone()),
            ("email", "nia@tamworth.gov.uk".to_owned()),
            ("name", "Nia Viewer".to_owned()),
            ("role", role.to_owned()),
            ("organisation", String::new()),
            ("service", String::new()),
            ("wards", String::new()),
        ]
    };
    let post = |path: &'static str, f: Vec<(&'static str, String)>| {
        let client = w.client.clone();
        let url = format!("{}{path}", w.base);
        let cookie = w.cookie_header();
        async move {
            let res = client.post(url).header("cookie", cookie).form(&f).send().await.unwrap();
            let (s, h) = (res.status(), res.headers().clone());
            (s, res.text().await.unwrap(), h)
        }
    };
    let (s, page, _) = post("/staff/admin/users", add("viewer")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("href=\"#organisation\""),
        "a viewer belongs to an organisation: {page}"
    );
    let (s, _, h) = post("/staff/admin/users", add("coordinator")).await;
    assert_eq!(
        (s, location(&h)),
        (StatusCode::SEE_OTHER, "/staff/admin/users?done=added")
    );
    let nia = app
        .store
        .staff_user_by_email("nia@tamworth.gov.uk")
        .await
        .unwrap()
        .unwrap();
    let (s, _, h) = w
        .post(&format!("/staff/admin/users/{}/disable", nia.id), &[("csrf", &token)])
        .await;
    assert_eq!(
        (s, location(&h)),
        (StatusCode::SEE_OTHER, "/staff/admin/users?done=disabled")
    );
    assert!(
        app.store
            .staff_user(nia.id)
            .await
            .unwrap()
            .unwrap()
            .disabled_at
            .is_some()
    );
}
on_both!(admins_need_a_second_factor);

async fn roles_on_an_activity(app: &TestApp) {
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/organisations",
            Some(&app.admin),
            json!({ "slug": "borough", "name": "Borough Council", "kind": "council", "services": ["Libraries", "Parks"] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Two submitted activities of the borough: libraries in Tamworth, parks in Stevenage.
    let mut ids = Vec::new();
    for (title, service, area) in [
        ("Library hours", "Libraries", "E07000199"),
        ("Park lighting", "Parks", "E07000243"),
    ] {
        let mut body = consultation("borough", title, 20, 30);
        body["service"] = json!(service);
        body["audience"] = json!({ "groups": ["residents"], "areas": [area] });
        let (s, c) = app.post("/api/v1/consultations", Some(&app.coordinator), body).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let id = c["id"].as_str().unwrap().to_owned();
        let (s, b) = app
            .post(
                &format!("/api/v1/consultations/{id}/transitions"),
                Some(&app.coordinator),
                json!({ "to": "submitted" }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        ids.push(id);
    }
    let (library, park) = (ids[0].clone(), ids[1].clone());
    for (email, body) in [
        (
            "oc@tamworth.gov.uk",
            json!({ "role": "organisation_coordinator", "organisation": "tamworth" }),
        ),
        (
            "cllr@tamworth.gov.uk",
            json!({ "role": "councillor", "wards": ["E07000199"] }),
        ),
        (
            "lead@borough.gov.uk",
            json!({ "role": "service_lead", "organisation": "borough", "service": "Libraries" }),
        ),
        ("cora@partnership.gov.uk", json!({ "role": "coordinator" })),
    ] {
        let mut body = body;
        body["email"] = json!(email);
        body["name"] = json!(format!("Staff {email}"));
        let id = add_user(app, body).await;
        set_password(app, &id, PASSWORD);
    }
    let signed_in = |email: &'static str| {
        let base = app.base.clone();
        async move {
            let mut v = Visitor::new(&base);
            let (s, _, _) = sign_in(&mut v, email, PASSWORD).await;
            assert_eq!(s, StatusCode::SEE_OTHER);
            v
        }
    };

    // Another organisation's coordinator sees the public... not a submitted activity of the
    // borough at all.
    let mut oc = signed_in("oc@tamworth.gov.uk").await;
    let (s, _, _) = oc.get(&format!("/staff/activities/{library}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A councillor sees the submitted activity in their ward, not the one outside it; and
    // cannot act on it.
    let mut cllr = signed_in("cllr@tamworth.gov.uk").await;
    let (s, page, _) = cllr.get(&format!("/staff/activities/{library}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Library hours") && page.contains("changes none"),
        "{page}"
    );
    assert!(!page.contains("value=\"approved\""));
    assert_eq!(
        cllr.get(&format!("/staff/activities/{park}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, home, _) = cllr.get("/staff").await;
    assert!(
        home.contains("Library hours") && !home.contains("Park lighting"),
        "{home}"
    );

    // A service lead sees their service's only; may not approve, and the page says who may.
    let mut lead = signed_in("lead@borough.gov.uk").await;
    let (s, page, _) = lead.get(&format!("/staff/activities/{library}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(
            "Only the partnership&#39;s coordinator or Borough Council&#39;s coordinator can approve this activity."
        ),
        "{page}"
    );
    assert_eq!(
        lead.get(&format!("/staff/activities/{park}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, refused, _) = lead
        .post(
            &format!("/staff/activities/{library}/status"),
            &[("csrf", &csrf(&page)), ("to", "approved")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(refused.contains("only the partnership"), "{refused}");

    // The partnership coordinator approves through the page (with an override if a blocking
    // check fails), and the history shows it.
    let mut cora = signed_in("cora@partnership.gov.uk").await;
    let (_, home, _) = cora.get("/staff").await;
    assert!(home.contains("Waiting for your approval (2)"), "{home}");
    let (_, page, _) = cora.get(&format!("/staff/activities/{library}")).await;
    let token = csrf(&page);
    let (s, mut done, _) = cora
        .post(
            &format!("/staff/activities/{library}/status"),
            &[("csrf", &token), ("to", "approved")],
        )
        .await;
    if s == StatusCode::CONFLICT {
        assert!(done.contains("blocking check"), "{done}");
        let (s2, again, _) = cora
            .post(
                &format!("/staff/activities/{library}/status"),
                &[
                    ("csrf", &token),
                    ("to", "approved"),
                    ("override", "Statutory deadline; agreed by the board"),
                ],
            )
            .await;
        assert_eq!(s2, StatusCode::OK, "{again}");
        done = again;
    } else {
        assert_eq!(s, StatusCode::OK, "{done}");
    }
    assert!(done.contains("the activity is now approved"), "{done}");
    let (_, c) = app
        .get(&format!("/api/v1/consultations/{library}"), Some(&app.coordinator))
        .await;
    assert_eq!(c["status"], "approved");
    // A forged post changes nothing.
    let (s, _, _) = cora
        .post(
            &format!("/staff/activities/{park}/status"),
            &[("csrf", "forged"), ("to", "approved")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, c) = app
        .get(&format!("/api/v1/consultations/{park}"), Some(&app.coordinator))
        .await;
    assert_eq!(c["status"], "submitted");
}
on_both!(roles_on_an_activity);

/// Goes through the identity provider's development login and consent pages as `login`,
/// starting at its authorization address; returns where it sends the browser back (consult's
/// callback with the code and state).
async fn at_the_provider(start: &str, login: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut url = start.to_owned();
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..12 {
        let cookie = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let req = match form.take() {
            Some(f) => client.post(&url).form(&f),
            None => client.get(&url),
        };
        let res = req.header("cookie", cookie).send().await.unwrap();
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (k, val) = v.split(';').next().unwrap().split_once('=').unwrap();
            cookies.insert(k.to_owned(), val.to_owned());
        }
        if let Some(next) = res.headers().get("location") {
            let next = next.to_str().unwrap().to_owned();
            if !next.starts_with(&start[..start.find("/auth").unwrap()]) && next.starts_with("http") {
                return next;
            }
            url = if next.starts_with('/') {
                format!("{}{next}", &start[..start.find("/auth").unwrap()])
            } else {
                next
            };
            continue;
        }
        let page = res.text().await.unwrap();
        let prompt = if page.contains("name=\"prompt\" value=\"login\"") {
            "login"
        } else {
            "consent"
        };
        let mut fields = vec![("prompt".to_owned(), prompt.to_owned())];
        if prompt == "login" {
            fields.push(("login".into(), login.into()));
            fields.push(("password".into(), "any password".into()));
        }
        form = Some(fields);
    }
    panic!("the identity provider never sent the browser back");
}

async fn sign_in_through_the_identity_provider(app: &TestApp) {
    use consult_app::oidc::{OidcProvider, OidcSettings};
    use consult_tests::{IdentityProvider, OIDC_CLIENT};
    app.seed().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let callback = format!("{base}/staff/sign-in/oidc/callback");
    // Microsoft Entra ID's shapes: the user principal name in preferred_username, no email
    // claim, oid and tid; and a guest whose email claim is unverified.
    let provider = IdentityProvider::start(
        &callback,
        &json!({
            "olu": { "preferred_username": "Olu@Tamworth.gov.uk", "name": "Olu Officer",
                     "oid": "00000000-0000-0000-0000-00000000a001", "tid": "tenant-1" },
            "stranger": { "preferred_username": "someone@elsewhere.gov.uk", "email": "someone@elsewhere.gov.uk" },
            "guest": { "email": "olu@tamworth.gov.uk", "email_verified": false, "preferred_username": "guest#ext" },
            "ada": { "preferred_username": "ada@partnership.gov.uk", "name": "Ada Admin" },
        }),
    );
    let olu = add_user(
        app,
        json!({ "email": "olu@tamworth.gov.uk", "name": "Olu Officer", "role": "officer", "organisation": "tamworth" }),
    )
    .await;
    let discovered = OidcProvider::discover(OidcSettings {
        issuer: provider.issuer.clone(),
        client_id: OIDC_CLIENT.0.into(),
        client_secret: OIDC_CLIENT.1.into(),
        redirect_url: callback.clone(),
    })
    .await
    .unwrap();
    let base = app
        .instance_on(listener, app.now(), move |a| a.with_oidc(discovered))
        .await;

    // The sign-in page offers the council account; following it goes to the provider with PKCE.
    let mut v = Visitor::new(&base);
    let (_, page, _) = v.get("/staff/sign-in").await;
    assert!(page.contains("Sign in with your council account"));
    let (s, _, h) = v.get("/staff/sign-in/oidc").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let to_provider = location(&h).to_owned();
    assert!(to_provider.starts_with(&provider.issuer), "{to_provider}");
    assert!(to_provider.contains("code_challenge_method=S256") && to_provider.contains("nonce="));
    let back = at_the_provider(&to_provider, "olu").await;
    assert!(back.starts_with(&callback), "{back}");
    let path = &back[base.len()..];
    let (s, _, h) = v.get(path).await;
    assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/staff"));
    let (s, home, _) = v.get("/staff").await;
    assert_eq!(s, StatusCode::OK);
    assert!(home.contains("Signed in as Olu Officer"), "{home}");
    let actions = audit_actions(app, &olu).await;
    assert!(actions.iter().any(|a| a == "user.link_identity"), "{actions:?}");
    // The same return again (a code used twice) signs no one in.
    let mut replay = Visitor::new(&base);
    replay.cookies = v.cookies.clone();
    replay.cookies.remove("consult_session");
    let (s, page, _) = replay.get(path).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("did not work"));

    // Another browser's return cannot be completed in this one (login forgery).
    let mut attacker = Visitor::new(&base);
    let (_, _, h) = attacker.get("/staff/sign-in/oidc").await;
    let forged = at_the_provider(location(&h), "olu").await;
    let mut victim = Visitor::new(&base);
    let (s, _, _) = victim.get(&forged[base.len()..]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(victim.session().is_none());

    // No account for this person; an unverified e-mail address does not link an account; an
    // admin signs in with their own second factor, never through the provider.
    add_user(
        app,
        json!({ "email": "ada@partnership.gov.uk", "name": "Ada Admin", "role": "admin" }),
    )
    .await;
    for login in ["stranger", "guest", "ada"] {
        let mut w = Visitor::new(&base);
        let (_, _, h) = w.get("/staff/sign-in/oidc").await;
        let back = at_the_provider(location(&h), login).await;
        let (s, page, _) = w.get(&back[base.len()..]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{login}");
        assert!(page.contains("not linked to a staff account"), "{page}");
        assert!(w.session().is_none());
    }

    // A provider that gives the address only at its userinfo endpoint: found there.
    let cora = add_user(
        app,
        json!({ "email": "cora@partnership.gov.uk", "name": "Cora", "role": "coordinator" }),
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base2 = format!("http://{}", listener.local_addr().unwrap());
    let callback2 = format!("{base2}/staff/sign-in/oidc/callback");
    let standard = IdentityProvider::start_userinfo(
        &callback2,
        &json!({ "cora": { "email": "Cora@Partnership.gov.uk", "email_verified": true } }),
    );
    let discovered = OidcProvider::discover(OidcSettings {
        issuer: standard.issuer.clone(),
        client_id: OIDC_CLIENT.0.into(),
        client_secret: OIDC_CLIENT.1.into(),
        redirect_url: callback2,
    })
    .await
    .unwrap();
    let base2 = app
        .instance_on(listener, app.now(), move |a| a.with_oidc(discovered))
        .await;
    let mut c = Visitor::new(&base2);
    let (_, _, h) = c.get("/staff/sign-in/oidc").await;
    let back = at_the_provider(location(&h), "cora").await;
    assert_eq!(c.get(&back[base2.len()..]).await.0, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/staff").await.0, StatusCode::OK);
    assert!(audit_actions(app, &cora).await.iter().any(|a| a == "session.sign_in"));

    // A disabled account is refused even through its link.
    app.patch(
        &format!("/api/v1/users/{olu}"),
        Some(&app.admin),
        json!({ "disabled": true }),
    )
    .await;
    let mut w = Visitor::new(&base);
    let (_, _, h) = w.get("/staff/sign-in/oidc").await;
    let back = at_the_provider(location(&h), "olu").await;
    assert_eq!(w.get(&back[base.len()..]).await.0, StatusCode::FORBIDDEN);
}
on_both!(sign_in_through_the_identity_provider);

/// The value of the first `name="NAME" value="..."` on a page after `from`.
fn value_after<'a>(page: &'a str, from: &str, name: &str) -> Option<&'a str> {
    let at = page.find(from)?;
    let rest = &page[at..];
    let key = format!("name=\"{name}\" value=\"");
    let v = rest.find(&key)? + key.len();
    Some(&rest[v..v + rest[v..].find('"')?])
}

async fn drafting_in_the_workspace(app: &TestApp) {
    app.seed().await;
    let id = add_user(
        app,
        json!({ "email": "olu@tamworth.gov.uk", "name": "Olu Officer", "role": "officer", "organisation": "tamworth" }),
    )
    .await;
    set_password(app, &id, PASSWORD);
    let mut v = Visitor::new(&app.base);
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    let (s, form, _) = v.get("/staff/activities/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        form.contains("value=\"tamworth\" selected"),
        "their organisation is chosen"
    );
    let token = csrf(&form);
    let today = app.today;
    let day = |d: i64| (today + Duration::days(d)).to_string();
    // Without a title, closing before it opens: each refusal beside its field, what was typed kept.
    let mut fields = vec![
        ("csrf", token.clone()),
        ("organisation", "tamworth".to_owned()),
        ("summary", "Should the library open on Sundays?".to_owned()),
        ("purpose", "To hear what residents want".to_owned()),
        ("decision", "Cabinet".to_owned()),
        ("level", "consult".to_owned()),
        ("methods", "online_survey".to_owned()),
        ("groups", "residents".to_owned()),
        ("areas", "E07000199".to_owned()),
        ("topics", "libraries, opening hours".to_owned()),
        ("opens_on", day(30)),
        ("closes_on", day(20)),
        ("accessible_formats", "Paper copies at every library".to_owned()),
        // Shared wider than its data-protection note allows: refused beside the choice.
        (
            "data_protection_note",
            "Library card numbers: kept by the library service only.".to_owned(),
        ),
        ("data_protection_allows", "organisation".to_owned()),
        ("results_sharing", "public".to_owned()),
    ];
    let as_form = |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let post = |v: &mut Visitor, path: String, f: Vec<(&'static str, String)>| {
        let f: Vec<(&str, String)> = f;
        let client = v.client.clone();
        let url = format!("{}{path}", v.base);
        let cookie = v.cookie_header();
        async move {
            let res = client.post(url).header("cookie", cookie).form(&f).send().await.unwrap();
            let (s, h) = (res.status(), res.headers().clone());
            (s, res.text().await.unwrap(), h)
        }
    };
    let (s, page, _) = post(&mut v, "/staff/activities/new".into(), as_form(&fields)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<title>Error: "));
    assert!(
        page.contains("href=\"#title\"") && page.contains("id=\"title-error\""),
        "{page}"
    );
    assert!(page.contains("href=\"#closes_on\""), "{page}");
    assert!(
        page.contains("Should the library open on Sundays?"),
        "what was typed is kept"
    );
    assert!(page.contains("value=\"E07000199\" checked"));
    assert!(
        page.contains("href=\"#results_sharing\"") && page.contains("id=\"results_sharing-error\""),
        "{page}"
    );
    assert!(
        page.contains("value=\"organisation\" checked"),
        "the note's limit is kept"
    );
    // Right, it is a draft, and its page shows the checklist.
    fields.push(("title", "Library Sunday opening".to_owned()));
    fields[11] = ("closes_on", day(30 + 84));
    fields.retain(|(k, _)| *k != "results_sharing");
    fields.push(("results_sharing", "organisation".to_owned()));
    let (s, _, h) = post(&mut v, "/staff/activities/new".into(), as_form(&fields)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let at = location(&h).to_owned();
    assert!(at.ends_with("?done=created"), "{at}");
    let (s, page, _) = v.get(&at).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("The draft is registered") && page.contains("Principles checklist"),
        "{page}"
    );
    let activity = at
        .trim_start_matches("/staff/activities/")
        .trim_end_matches("?done=created")
        .to_owned();
    let (_, c) = app
        .get(&format!("/api/v1/consultations/{activity}"), Some(&app.coordinator))
        .await;
    assert_eq!(
        (c["status"].as_str(), c["title"].as_str()),
        (Some("draft"), Some("Library Sunday opening"))
    );
    assert_eq!(
        (c["results_sharing"].as_str(), c["data_protection"]["allows"].as_str()),
        (Some("organisation"), Some("organisation"))
    );
    assert!(
        page.contains("<dt>Results and documents shared with</dt><dd>the owning organisation&#39;s staff"),
        "{page}"
    );

    // A checklist question answered in place: yes needs evidence.
    let check = value_after(&page, "Principles checklist", "check")
        .expect("a question to answer")
        .to_owned();
    let anchor = format!("attest-{}", check.replace('/', "-"));
    let attest = |answer: &str, evidence: &str| {
        vec![
            ("csrf", token.clone()),
            ("check", check.clone()),
            ("answer", answer.to_owned()),
            ("evidence", evidence.to_owned()),
        ]
    };
    let (s, page, _) = post(
        &mut v,
        format!("/staff/activities/{activity}/attestations"),
        attest("yes", ""),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(&format!("href=\"#{anchor}\"")), "{page}");
    let (s, page, _) = post(
        &mut v,
        format!("/staff/activities/{activity}/attestations"),
        attest("yes", "Agreed with the equality officer on 3 March"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("Your answer is recorded"));
    let (_, assessment) = app
        .get(
            &format!("/api/v1/consultations/{activity}/assessment"),
            Some(&app.coordinator),
        )
        .await;
    let answered = assessment["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == check.as_str())
        .unwrap()
        .clone();
    assert_ne!(answered["outcome"], "unanswered", "{answered}");

    // Edited: the form comes back filled in; the change is saved.
    let (s, edit, _) = v.get(&format!("/staff/activities/{activity}/edit")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(edit.contains("value=\"Library Sunday opening\""));
    let version = value_after(&edit, "<form", "version").unwrap().to_owned();
    let mut changed = fields.clone();
    changed.retain(|(k, _)| *k != "title");
    changed.push(("title", "Library opening on Sundays".to_owned()));
    changed.push(("version", version.clone()));
    let (s, _, h) = post(&mut v, format!("/staff/activities/{activity}/edit"), as_form(&changed)).await;
    assert_eq!(
        (s, location(&h)),
        (
            StatusCode::SEE_OTHER,
            format!("/staff/activities/{activity}?done=saved").as_str()
        )
    );
    let (_, c) = app
        .get(&format!("/api/v1/consultations/{activity}"), Some(&app.coordinator))
        .await;
    assert_eq!(c["title"], "Library opening on Sundays");
    // A form opened before that save does not overwrite it.
    let mut stale = fields.clone();
    stale.push(("title", "An older title".to_owned()));
    stale.push(("version", version));
    let (s, page, _) = post(&mut v, format!("/staff/activities/{activity}/edit"), as_form(&stale)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("Someone saved this draft after you opened it"), "{page}");
    let (_, c) = app
        .get(&format!("/api/v1/consultations/{activity}"), Some(&app.coordinator))
        .await;
    assert_eq!(c["title"], "Library opening on Sundays");
    // Submitted from its page.
    let (s, page, _) = post(
        &mut v,
        format!("/staff/activities/{activity}/status"),
        vec![("csrf", token.clone()), ("to", "submitted".to_owned())],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("now submitted"));
    // No longer a draft: no editing.
    let (s, page, _) = v.get(&format!("/staff/activities/{activity}/edit")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{page}");
}
on_both!(drafting_in_the_workspace);

async fn invitations_in_the_workspace(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    // Three verified residents of Tamworth interested in parks: two by e-mail, one by letter.
    for (email, channel) in [
        ("ann@example.org", "email"),
        ("bob@example.org", "email"),
        ("cat@example.org", "post"),
    ] {
        let body = json!({ "email": email, "postal_address": "1 Market Street, Tamworth", "interests": ["Parks"],
            "areas": ["E07000199"], "channels": [channel], "consent": true });
        let (s, b) = app.post("/api/v1/residents", None, body).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let id = b["id"].as_str().unwrap().parse().unwrap();
        let code = app.store.verification_code(id).await.unwrap().unwrap();
        let (s, v) = app
            .post("/api/v1/residents/verify", None, json!({ "code": code }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let mut body = consultation("tamworth", "Parks and open spaces", -2, 30);
    body["topics"] = json!(["parks"]);
    let activity = app.register_activity(&tamworth, body, true).await;
    let path = format!("/staff/activities/{activity}/invitations");
    for (email, role) in [
        ("cora@partnership.gov.uk", json!({ "role": "coordinator" })),
        (
            "olu@tamworth.gov.uk",
            json!({ "role": "officer", "organisation": "tamworth" }),
        ),
    ] {
        let mut body = role;
        body["email"] = json!(email);
        body["name"] = json!(email.split('@').next().unwrap());
        let id = add_user(app, body).await;
        set_password(app, &id, PASSWORD);
    }

    // The coordinator: the plan as counts (two by e-mail, one by letter, nobody left out), then
    // sent, then the same plan leaves all three out as already invited.
    let mut cora = Visitor::new(&app.base);
    sign_in(&mut cora, "cora@partnership.gov.uk", PASSWORD).await;
    let (s, page, _) = cora.get(&path).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("3 residents would be invited now"), "{page}");
    assert!(
        page.contains("<th scope=\"row\">E-mail</th><td class=\"numeric\">2</td>")
            && page.contains("<th scope=\"row\">Letter</th><td class=\"numeric\">1</td>"),
        "{page}"
    );
    assert!(page.contains("Nobody matching is left out") && page.contains("No invitation has been queued"));
    assert!(!page.contains("ann@example.org"), "never who");
    let token = csrf(&page);
    let (s, page, _) = cora.post(&path, &[("csrf", token.as_str())]).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("3 residents invited; 3 invitations queued"), "{page}");
    assert!(
        page.contains("<th scope=\"row\">Already invited to this activity</th><td class=\"numeric\">3</td>"),
        "{page}"
    );
    assert!(page.contains("3 invitations, by channel and status"), "{page}");
    // The messages, masked, for the coordinator.
    assert!(
        page.contains("a***@example.org") && !page.contains("ann@example.org"),
        "{page}"
    );
    let (_, deliveries) = app
        .get(
            &format!("/api/v1/consultations/{activity}/invitations"),
            Some(&app.coordinator),
        )
        .await;
    assert_eq!(deliveries["total"], 3, "{deliveries}");
    // Sent again: nothing more queued.
    let (_, page, _) = cora.post(&path, &[("csrf", token.as_str())]).await;
    assert!(page.contains("0 residents invited; 0 invitations queued"), "{page}");

    // The owner's officer: what became of them as counts; no plan, no button, no addresses.
    let mut olu = Visitor::new(&app.base);
    sign_in(&mut olu, "olu@tamworth.gov.uk", PASSWORD).await;
    let (s, page, _) = olu.get(&path).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("3 invitations, by channel and status"), "{page}");
    assert!(!page.contains("Send the invitations") && !page.contains("would be invited now"));
    assert!(!page.contains("***@example.org"), "{page}");
    assert!(page.contains("partnership coordinator"), "{page}");
}
on_both!(invitations_in_the_workspace);

/// Who the matrix signs in as: the seven roles and an officer of another organisation.
const MATRIX_ROLES: [&str; 8] = [
    "admin",
    "coordinator",
    "organisation_coordinator",
    "service_lead",
    "officer",
    "other_officer",
    "councillor",
    "viewer",
];

/// What each route answers each role (in MATRIX_ROLES' order) on a Tamworth draft of the Parks
/// service in Tamworth, with a forged token on every post; and with no one signed in. 303s to
/// sign-in for the public; 404 where the role may not even read the draft; 403 where it may
/// read but not change it, and for every forged post.
fn expected(method: &str, path: &str) -> ([u16; 8], u16) {
    match (method, path) {
        ("GET", "/staff") | ("GET", "/staff/activities") => ([200; 8], 303),
        ("GET", "/staff/activities/new") => ([200, 200, 200, 200, 200, 200, 403, 403], 303),
        ("GET", "/staff/activities/{id}") => ([200, 200, 200, 404, 200, 404, 404, 200], 303),
        ("GET", "/staff/activities/{id}/edit") => ([200, 200, 200, 404, 200, 404, 404, 403], 303),
        ("GET", "/staff/activities/{id}/responses")
        | ("GET", "/staff/activities/{id}/feedback")
        | ("GET", "/staff/activities/{id}/coding")
        | ("GET", "/staff/activities/{id}/responses/new")
        | ("GET", "/staff/activities/{id}/invitations")
        | ("GET", "/staff/activities/{id}/questionnaire") => ([200, 200, 200, 404, 200, 404, 404, 403], 303),
        ("POST", "/staff/activities/new")
        | ("POST", "/staff/activities/{id}/edit")
        | ("POST", "/staff/activities/{id}/attestations")
        | ("POST", "/staff/activities/{id}/feedback")
        | ("POST", "/staff/activities/{id}/coding")
        | ("POST", "/staff/activities/{id}/responses/new")
        | ("POST", "/staff/activities/{id}/questionnaire")
        | ("POST", "/staff/activities/{id}/coding/themes")
        | ("POST", "/staff/activities/{id}/coding/suggestions")
        | ("POST", "/staff/activities/{id}/status")
        | ("POST", "/staff/activities/{id}/invitations")
        | ("POST", "/staff/sign-out") => ([403; 8], 303),
        ("GET", "/staff/admin/users") => ([200, 403, 403, 403, 403, 403, 403, 403], 303),
        ("POST", "/staff/admin/users") | ("POST", "/staff/admin/users/{id}/{action}") => ([403; 8], 303),
        ("GET", "/staff/sign-in") => ([303; 8], 200),
        ("POST", "/staff/sign-in") => ([403; 8], 403),
        ("GET", "/staff/two-factor")
        | ("GET", "/staff/enrol")
        | ("POST", "/staff/two-factor")
        | ("POST", "/staff/enrol") => ([303; 8], 401),
        ("GET", "/staff/sign-in/oidc") => ([404; 8], 404),
        ("GET", "/staff/sign-in/oidc/callback") => ([403; 8], 403),
        other => panic!("{other:?} is a workspace route the matrix does not know: add what each role gets"),
    }
}

async fn staff_authorisation_matrix(app: &TestApp) {
    app.seed().await;
    for service in ["Parks", "Libraries"] {
        let (s, b) = app
            .post(
                "/api/v1/organisations/tamworth/services",
                Some(&app.admin),
                json!({ "name": service }),
            )
            .await;
        assert!(s.is_success(), "{b}");
    }
    let mut body = consultation("tamworth", "Play areas review", 20, 30);
    body["service"] = json!("Parks");
    body["audience"] = json!({ "groups": ["residents"], "areas": ["E07000199"] });
    let (s, c) = app.post("/api/v1/consultations", Some(&app.coordinator), body).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let draft = c["id"].as_str().unwrap().to_owned();
    let accounts = [
        json!({ "role": "admin" }),
        json!({ "role": "coordinator" }),
        json!({ "role": "organisation_coordinator", "organisation": "tamworth" }),
        json!({ "role": "service_lead", "organisation": "tamworth", "service": "Libraries" }),
        json!({ "role": "officer", "organisation": "tamworth" }),
        json!({ "role": "officer", "organisation": "police" }),
        json!({ "role": "councillor", "wards": ["E07000243"] }),
        json!({ "role": "viewer", "organisation": "tamworth" }),
    ];
    let mut visitors = Vec::new();
    for (name, mut account) in MATRIX_ROLES.iter().zip(accounts) {
        let email = format!("{}@matrix.gov.uk", name.replace('_', "."));
        account["email"] = json!(email);
        account["name"] = json!(format!("Matrix {name}"));
        let id = add_user(app, account).await;
        set_password(app, &id, PASSWORD);
        let mut v = Visitor::new(&app.base);
        let (_, _, h) = sign_in(&mut v, &email, PASSWORD).await;
        if location(&h) == "/staff/enrol" {
            let (_, page, _) = v.get("/staff/enrol").await;
            let at = page.find("<code>").unwrap() + 6;
            let secret = page[at..at + page[at..].find('<').unwrap()].to_owned();
            let (s, _, _) = v
                .post(
                    "/staff/enrol",
                    &[("csrf", &csrf(&page)), ("code", &code(&secret, app.now()))],
                )
                .await;
            assert_eq!(s, StatusCode::SEE_OTHER);
        }
        assert_eq!(v.get("/staff").await.0, StatusCode::OK, "{name} is signed in");
        visitors.push(v);
    }
    let audit_before = app.store.audit_log(None, 100_000).await.unwrap().len();
    let mut wrong = Vec::new();
    for &(method, route) in consult_api::staff::ROUTES {
        let path = route.replace("{id}", &draft).replace("{action}", "disable");
        let (by_role, public) = expected(method, route);
        let mut anonymous = Visitor::new(&app.base);
        let mut outcomes: Vec<(&str, u16)> = Vec::new();
        for (who, v) in MATRIX_ROLES
            .iter()
            .copied()
            .zip(visitors.iter_mut())
            .chain([("public", &mut anonymous)])
        {
            let s = if method == "GET" {
                v.get(&path).await.0
            } else {
                v.post(&path, &[("csrf", "forged"), ("to", "approved"), ("title", "Changed")])
                    .await
                    .0
            };
            outcomes.push((who, s.as_u16()));
        }
        for (i, (who, got)) in outcomes.iter().enumerate() {
            let want = if *who == "public" { public } else { by_role[i] };
            if *got != want {
                wrong.push(format!("{method} {route} as {who}: {got}, expected {want}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // None of it changed anything: no write, no audit entry but the reading of responses
    // (audited by design: four roles read them).
    let audit_after = app.store.audit_log(None, 100_000).await.unwrap();
    let new: Vec<_> = audit_after[..audit_after.len() - audit_before]
        .iter()
        .filter(|e| {
            !matches!(
                e.action.as_str(),
                "session.sign_in_failed" | "session.end" | "responses.list"
            )
        })
        .map(|e| e.action.clone())
        .collect();
    assert!(new.is_empty(), "{new:?}");
    let (_, c) = app
        .get(&format!("/api/v1/consultations/{draft}"), Some(&app.coordinator))
        .await;
    assert_eq!(
        (c["status"].as_str(), c["title"].as_str()),
        (Some("draft"), Some("Play areas review"))
    );
}
on_both!(staff_authorisation_matrix);

async fn reading_responses_in_the_workspace(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let activity = app
        .register_activity(&tamworth, consultation("tamworth", "Library hours", -2, 10), true)
        .await;
    for comments in ["Please open on Sundays", "Late evenings suit me better"] {
        let (s, b) = app
            .post(
                &format!("/api/v1/consultations/{activity}/responses"),
                Some(&tamworth),
                json!({ "channel": "paper", "comments": comments }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let id = add_user(
        app,
        json!({ "email": "olu@tamworth.gov.uk", "name": "Olu Officer", "role": "officer", "organisation": "tamworth" }),
    )
    .await;
    set_password(app, &id, PASSWORD);
    let mut v = Visitor::new(&app.base);
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    let (s, page, _) = v.get(&format!("/staff/activities/{activity}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Read the responses"));
    let (s, page, _) = v.get(&format!("/staff/activities/{activity}/responses")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Please open on Sundays") && page.contains("Late evenings suit me better"),
        "{page}"
    );
    assert!(page.contains("(paper, entered by"), "{page}");
    let (_, page, _) = v
        .get(&format!("/staff/activities/{activity}/responses?q=sundays"))
        .await;
    assert!(
        page.contains("Please open on Sundays") && !page.contains("Late evenings"),
        "{page}"
    );
    // Reading is audited.
    let log = app
        .store
        .audit_log(Some(("consultation", &activity)), 100)
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.action == "responses.list"), "{log:?}");
}
on_both!(reading_responses_in_the_workspace);

async fn lockout_holds_under_concurrent_attempts(app: &TestApp) {
    app.seed().await;
    let id = add_user(
        app,
        json!({ "email": "olu@tamworth.gov.uk", "name": "Olu Officer", "role": "officer", "organisation": "tamworth" }),
    )
    .await;
    set_password(app, &id, PASSWORD);
    // Twelve wrong passwords at once: no more than five are checked; the rest are locked out.
    let mut forms = Vec::new();
    for _ in 0..12 {
        let mut v = Visitor::new(&app.base);
        let (_, page, _) = v.get("/staff/sign-in").await;
        forms.push((v, csrf(&page)));
    }
    let tries = forms.into_iter().map(|(v, token)| {
        tokio::spawn(async move {
            let res = v
                .client
                .post(format!("{}/staff/sign-in", v.base))
                .header("cookie", v.cookie_header())
                .form(&[
                    ("csrf", token.as_str()),
                    ("email", "olu@tamworth.gov.uk"),
                    ("password", "guess guess guess"),
                ])
                .send()
                .await
                .unwrap();
            res.status()
        })
    });
    let mut refused = 0;
    let mut locked = 0;
    for t in tries {
        match t.await.unwrap() {
            StatusCode::UNPROCESSABLE_ENTITY => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => locked += 1,
            other => panic!("{other}"),
        }
    }
    assert!(
        (1..=5).contains(&refused) && refused + locked == 12,
        "{refused} checked, {locked} locked out"
    );
    let (s, _, _) = sign_in(&mut Visitor::new(&app.base), "olu@tamworth.gov.uk", PASSWORD).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits for the window too"
    );
}
on_both!(lockout_holds_under_concurrent_attempts);

async fn coding_in_the_workspace(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let activity = app.park_survey(&tamworth, "Park survey", 5, 30).await;
    // Opened later, as the public answers.
    let open = app.later(6).await;
    for idea in [
        "More benches by the pond",
        "Better lighting on the paths",
        "Benches near the play area",
        "The lighting is poor at night",
        "More lighting by the gate please",
    ] {
        let (s, b) = app
            .at(
                &open,
                reqwest::Method::POST,
                &format!("/api/v1/consultations/{activity}/responses"),
                None,
                Some(json!({ "answers": { "visit": "yes", "ideas": idea } })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let id = add_user(
        app,
        json!({ "email": "olu@tamworth.gov.uk", "name": "Olu Officer", "role": "officer", "organisation": "tamworth" }),
    )
    .await;
    set_password(app, &id, PASSWORD);
    let mut v = Visitor::new(&open);
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    let (s, page, _) = v.get(&format!("/staff/activities/{activity}/coding")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("Ideas?") && page.contains("0 of 5 answers coded"),
        "{page}"
    );
    assert!(page.contains("More benches by the pond"));
    let token = csrf(&page);
    // A theme without its label is refused beside the field; then added.
    let (s, page, _) = v
        .post(
            &format!("/staff/activities/{activity}/coding/themes?question=ideas"),
            &[("csrf", &token), ("key", "seating"), ("label", "")],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("href=\"#theme-label\""), "{page}");
    let (s, _, _) = v
        .post(
            &format!("/staff/activities/{activity}/coding/themes?question=ideas"),
            &[("csrf", &token), ("key", "seating"), ("label", "Seating")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page, _) = v
        .get(&format!("/staff/activities/{activity}/coding?question=ideas"))
        .await;
    // The answer's form holds its response's id before the answer's text.
    let at = page.find("More benches by the pond").unwrap();
    let key = "name=\"response\" value=\"";
    let form_at = page[..at].rfind(key).unwrap() + key.len();
    let response_id = page[form_at..form_at + 36].to_owned();
    let (s, _, _) = v
        .post(
            &format!("/staff/activities/{activity}/coding?question=ideas"),
            &[
                ("csrf", &token),
                ("response", &response_id),
                ("themes", "seating"),
                ("note", "by the pond"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page, _) = v
        .get(&format!("/staff/activities/{activity}/coding?question=ideas"))
        .await;
    assert!(page.contains("1 of 5 answers coded"), "{page}");
    assert!(
        page.contains(&format!(
            "id=\"code-{response_id}-seating\" name=\"themes\" value=\"seating\" checked"
        )),
        "{page}"
    );
    let (_, r) = app
        .at(
            &open,
            reqwest::Method::GET,
            &format!("/api/v1/consultations/{activity}/responses/{response_id}"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(r["codes"][0]["themes"], json!(["seating"]), "{r}");

    // A theme suggested from the answers' words, accepted under another label: added, and the
    // answers it covers coded.
    let (_, page, _) = v
        .get(&format!("/staff/activities/{activity}/coding?question=ideas"))
        .await;
    assert!(page.contains("Suggested themes"), "{page}");
    let suggestion = value_after(&page, "Suggested themes", "suggestion").unwrap().to_owned();
    let (s, _, h) = v
        .post(
            &format!("/staff/activities/{activity}/coding/suggestions?question=ideas"),
            &[
                ("csrf", &token),
                ("suggestion", &suggestion),
                ("key", "renamed"),
                ("label", "Renamed theme"),
                ("action", "accept"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(location(&h).contains("done=accepted"));
    let (_, page, _) = v
        .get(&format!("/staff/activities/{activity}/coding?question=ideas"))
        .await;
    assert!(page.contains("<strong>Renamed theme</strong> (renamed)"), "{page}");
    assert!(!page.contains("1 of 5 answers coded"), "more answers are coded: {page}");
}
on_both!(coding_in_the_workspace);

async fn keying_in_the_workspace(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let activity = app.park_survey(&tamworth, "Park survey", 5, 30).await;
    let open = app.later(6).await;
    let id = add_user(
        app,
        json!({ "email": "olu@tamworth.gov.uk", "name": "Olu Officer", "role": "officer", "organisation": "tamworth" }),
    )
    .await;
    set_password(app, &id, PASSWORD);
    let mut v = Visitor::new(&open);
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    let (s, page, _) = v.get(&format!("/staff/activities/{activity}/responses/new")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("id=\"q-agree\"") && page.contains("Lighting: its place"),
        "{page}"
    );
    let token = csrf(&page);
    let mut form = vec![
        ("csrf", token.clone()),
        ("channel", "paper".to_owned()),
        ("q-visit", "yes".to_owned()),
        ("q-uses", "walk".to_owned()),
        ("q-uses", "other".to_owned()),
        ("q-uses-other-text", "Picnics".to_owned()),
        ("q-satisfaction", "4".to_owned()),
        ("q-priorities-lights", "2".to_owned()),
        ("q-priorities-bins", "3".to_owned()),
        ("q-priorities-seats", "1".to_owned()),
        ("q-age", "7".to_owned()),
        ("q-last", "2025-06-01".to_owned()),
        ("q-ideas", "A cafe by the lake".to_owned()),
        ("q-agree-safe", "4".to_owned()),
        ("q-agree-clean", "2".to_owned()),
        ("comments", "Sent by post with a map".to_owned()),
    ];
    let posted = |f: &Vec<(&'static str, String)>| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let post = |f: Vec<(&'static str, String)>| {
        let client = v.client.clone();
        let url = format!("{}/staff/activities/{activity}/responses/new", v.base);
        let cookie = v.cookie_header();
        async move {
            let res = client.post(url).header("cookie", cookie).form(&f).send().await.unwrap();
            let (s, h) = (res.status(), res.headers().clone());
            (s, res.text().await.unwrap(), h)
        }
    };
    // An age under the question's minimum: refused beside it, everything typed kept.
    let (s, page, _) = post(posted(&form)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("href=\"#q-age\""), "{page}");
    assert!(
        page.contains("A cafe by the lake") && page.contains("value=\"Picnics\""),
        "{page}"
    );
    form.retain(|(k, _)| *k != "q-age");
    form.push(("q-age", "40".to_owned()));
    let (s, _, h) = post(posted(&form)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(location(&h).ends_with("?done=keyed"));
    let (_, list) = app
        .at(
            &open,
            reqwest::Method::GET,
            &format!("/api/v1/consultations/{activity}/responses"),
            Some(&tamworth),
            None,
        )
        .await;
    let r = &list["items"][0];
    assert_eq!(r["channel"], "paper", "{r}");
    assert_eq!(
        r["answers"]["uses"],
        json!(["walk", { "option": "other", "text": "Picnics" }])
    );
    assert_eq!(r["answers"]["priorities"], json!(["seats", "lights", "bins"]));
    assert_eq!(r["answers"]["agree"], json!({ "clean": 2, "safe": 4 }));
    assert_eq!(
        (r["answers"]["age"].as_f64(), r["answers"]["satisfaction"].as_f64()),
        (Some(40.0), Some(4.0))
    );
    assert!(
        r["entered_by"].as_str().is_some_and(|b| b.contains("Olu Officer")),
        "{r}"
    );
}
on_both!(keying_in_the_workspace);

async fn building_a_questionnaire(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let activity = app
        .register_activity(&tamworth, consultation("tamworth", "Bus routes", 20, 30), false)
        .await;
    let id = add_user(
        app,
        json!({ "email": "olu@tamworth.gov.uk", "name": "Olu Officer", "role": "officer", "organisation": "tamworth" }),
    )
    .await;
    set_password(app, &id, PASSWORD);
    let mut v = Visitor::new(&app.base);
    sign_in(&mut v, "olu@tamworth.gov.uk", PASSWORD).await;
    let path = format!("/staff/activities/{activity}/questionnaire");
    let (s, page, _) = v.get(&path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("No question yet"));
    let token = csrf(&page);
    let (client, cookie) = (v.client.clone(), v.cookie_header());
    let url = format!("{}{path}", v.base);
    let send = |fields: Vec<(&'static str, &'static str)>, version: String| {
        let mut f: Vec<(&str, String)> = fields.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
        f.push(("csrf", token.clone()));
        f.push(("version", version));
        let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
        async move {
            let res = client.post(url).header("cookie", cookie).form(&f).send().await.unwrap();
            let (s, h) = (res.status(), res.headers().clone());
            (s, res.text().await.unwrap(), h)
        }
    };
    let version = |page: &str| value_after(page, "<form", "version").unwrap_or("0").to_owned();
    // A question starting a section that has no title: refused beside the title.
    let (s, page2, _) = send(
        vec![
            ("action", "add_question"),
            ("section", "new"),
            ("new_section", ""),
            ("type", "free_text"),
            ("key", "why"),
            ("text", "Why?"),
        ],
        "0".into(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page2.contains("href=\"#nq-new_section\""), "{page2}");
    let (s, _, _) = send(
        vec![
            ("action", "add_question"),
            ("section", "new"),
            ("new_section", "Your journeys"),
            ("type", "free_text"),
            ("key", "why"),
            ("text", "What would make you take the bus more?"),
        ],
        "0".into(),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page, _) = v.get(&path).await;
    // A choice question without options: refused beside the options, what was typed kept.
    let (s, page2, _) = send(
        vec![
            ("action", "add_question"),
            ("section", "0"),
            ("type", "single_choice"),
            ("key", "often"),
            ("text", "How often do you take the bus?"),
            ("options", ""),
        ],
        version(&page),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page2.contains("href=\"#nq-options\"") && page2.contains("How often do you take the bus?"),
        "{page2}"
    );
    let (s, _, _) = send(
        vec![
            ("action", "add_question"),
            ("section", "0"),
            ("type", "single_choice"),
            ("key", "often"),
            ("text", "How often do you take the bus?"),
            ("options", "daily = Every day\nweekly = Every week\nrarely = Rarely"),
            ("required", "yes"),
            ("other", "yes"),
        ],
        version(&page),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page, _) = v.get(&path).await;
    let (s, _, _) = send(
        vec![
            ("action", "add_question"),
            ("section", "0"),
            ("type", "scale"),
            ("key", "satisfied"),
            ("text", "How satisfied are you?"),
            ("scale_min", "1"),
            ("scale_max", "5"),
            ("min_label", "Not at all"),
            ("max_label", "Very"),
            ("show_if", "often = daily, weekly"),
        ],
        version(&page),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // A form from before that save is refused: nothing is overwritten.
    let (s, _, _) = send(vec![("action", "down"), ("key", "why")], version(&page)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, page, _) = v.get(&path).await;
    assert!(page.contains("shown when often is daily or weekly"), "{page}");
    // A question cannot move above the one it depends on.
    let (s, _, _) = send(vec![("action", "up"), ("key", "satisfied")], version(&page)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, _) = send(vec![("action", "down"), ("key", "why")], version(&page)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, q) = app
        .get(
            &format!("/api/v1/consultations/{activity}/questionnaire"),
            Some(&tamworth),
        )
        .await;
    let keys: Vec<&str> = q["sections"][0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["often", "why", "satisfied"], "{q}");
    assert_eq!(q["sections"][0]["questions"][0]["options"][2]["label"], "Rarely");
    assert_eq!(q["sections"][0]["questions"][2]["scale"]["max_label"], "Very");
    let (_, page, _) = v.get(&path).await;
    let (s, _, _) = send(vec![("action", "remove"), ("key", "satisfied")], version(&page)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, q) = app
        .get(
            &format!("/api/v1/consultations/{activity}/questionnaire"),
            Some(&tamworth),
        )
        .await;
    assert_eq!(q["sections"][0]["questions"].as_array().unwrap().len(), 2);
}
on_both!(building_a_questionnaire);

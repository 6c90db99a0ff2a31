//! Harness for end-to-end tests: the real server on a fresh database (a temporary SQLite file,
//! or a private schema of the PostgreSQL server named by `CONSULT_TEST_POSTGRES_URL`), driven
//! over HTTP, and the `consult` binary run against the same database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDate, Utc};
use consult_api::{AppState, FixedClock};
use consult_store::{NewToken, Store, testing};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr;
use std::sync::OnceLock;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A temporary SQLite file.
    Sqlite,
    /// A private schema on the test PostgreSQL server.
    Postgres,
}

/// A running server with its database.
#[derive(Debug)]
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub base: String,
    /// The database URL (for the CLI).
    pub database_url: String,
    /// The store the server uses.
    pub store: Store,
    /// HTTP client.
    pub client: Client,
    /// An admin token.
    pub admin: String,
    /// A coordinator token.
    pub coordinator: String,
    /// "Today" for the server.
    pub today: NaiveDate,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A questionnaire with one question of every type (the park survey of the reading and
/// analysis scenarios).
pub fn park_questionnaire() -> Value {
    json!({ "sections": [ { "title": "Your park", "questions": [
        { "key": "visit", "type": "single_choice", "text": "Do you visit?", "other": true,
          "options": [ { "key": "yes", "label": "Yes" }, { "key": "no", "label": "No" } ] },
        { "key": "uses", "type": "multiple_choice", "text": "Uses?", "other": true,
          "options": [ { "key": "walk", "label": "Walking" }, { "key": "play", "label": "Play" } ] },
        { "key": "satisfaction", "type": "scale", "text": "Satisfied?", "scale": { "min": 1, "max": 5 } },
        { "key": "priorities", "type": "ranking", "text": "Rank",
          "options": [ { "key": "lights", "label": "Lighting" }, { "key": "bins", "label": "Bins" },
                       { "key": "seats", "label": "Seats" } ] },
        { "key": "age", "type": "number", "text": "Age", "min": 16, "max": 120 },
        { "key": "last", "type": "date", "text": "Last visit?" },
        { "key": "ideas", "type": "free_text", "text": "Ideas?" },
        { "key": "agree", "type": "grid", "text": "Agree?", "scale": { "min": 1, "max": 5 },
          "statements": [ { "key": "safe", "text": "Safe" }, { "key": "clean", "text": "Clean" } ] }
    ] } ] })
}

/// The day the test server believes it is.
pub fn test_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()
}

fn test_now() -> DateTime<Utc> {
    test_today().and_hms_opt(9, 30, 0).unwrap().and_utc()
}

impl TestApp {
    /// Starts a server on `db`. A PostgreSQL server needs `CONSULT_TEST_POSTGRES_URL`: its
    /// tests are `#[ignore]`d, and one asked to run without it fails rather than passes.
    pub async fn start(db: Db) -> TestApp {
        Self::start_at(db, test_now()).await
    }

    /// Starts a server whose clock is stopped at `now`.
    pub async fn start_at(db: Db, now: DateTime<Utc>) -> TestApp {
        let (store, database_url, dir, schema) = match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("consult.db").display());
                (Store::connect(&url).await.unwrap(), url, Some(dir), None)
            }
            Db::Postgres => {
                let url = testing::require_postgres_url();
                let (store, schema) = testing::postgres_schema(&url).await.unwrap();
                let with_schema = testing::postgres_url_with_schema(&url, &schema);
                (store, with_schema, None, Some((url, schema)))
            }
        };
        let admin_actor = consult_core::Actor {
            name: "harness".into(),
            role: consult_core::Role::Admin,
            organisation: None,
            staff: None,
        };
        let token = |name: &str, role| NewToken {
            name: name.into(),
            role,
            organisation: None,
            expires_at: None,
        };
        let admin = store
            .create_token(&token("Ada Admin", consult_core::Role::Admin), &admin_actor, now)
            .await
            .unwrap()
            .secret;
        let coordinator = store
            .create_token(
                &token("Cora Coordinator", consult_core::Role::Coordinator),
                &admin_actor,
                now,
            )
            .await
            .unwrap()
            .secret;
        // Tests write a lot from one address: the per-client limit has its own test.
        let limits = consult_api::Limits {
            anonymous_writes_per_minute: 0,
            anonymous_reads_per_minute: 0,
            public_cache: std::time::Duration::ZERO,
            ..consult_api::Limits::default()
        };
        let state = AppState::new(store.clone())
            .with_clock(FixedClock(now))
            .with_limits(limits);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(consult_api::serve(listener, state, async {
            let _ = rx.await;
        }));
        TestApp {
            base,
            database_url,
            store,
            client: Client::new(),
            admin,
            coordinator,
            today: now.date_naive(),
            _dir: dir,
            schema,
            shutdown: Some(tx),
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        self.send_to(&self.base, method, path, token, body).await
    }

    /// A request to another instance of the server on the same database (`base`, from
    /// `instance_with` and the like), returning status and JSON body.
    pub async fn at(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        into_json(self.send_to(base, method, path, token, body.as_ref()).await).await
    }

    async fn send_to(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method, format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.unwrap()
    }

    /// GET, returning status and JSON body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        into_json(self.send(Method::GET, path, token, None).await).await
    }

    /// POST JSON, returning status and JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        into_json(self.send(Method::POST, path, token, Some(&body)).await).await
    }

    /// PUT JSON, returning status and JSON body.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        into_json(self.send(Method::PUT, path, token, Some(&body)).await).await
    }

    /// PATCH JSON, returning status and JSON body.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        into_json(self.send(Method::PATCH, path, token, Some(&body)).await).await
    }

    /// Adds the Staffordshire areas and two organisations (`tamworth` council and `police`
    /// partner); returns an officer token for each.
    pub async fn seed(&self) -> (String, String) {
        for (code, name, parent) in [
            ("E10000028", "Staffordshire", None),
            ("E07000199", "Tamworth", Some("E10000028")),
            ("E07000243", "Stevenage", None),
        ] {
            let (s, b) = self
                .post(
                    "/api/v1/areas",
                    Some(&self.coordinator),
                    json!({ "code": code, "name": name, "parent": parent }),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        for (slug, kind) in [("tamworth", "council"), ("police", "partner")] {
            let (s, b) = self
                .post(
                    "/api/v1/organisations",
                    Some(&self.admin),
                    json!({ "slug": slug, "name": format!("{slug} body"), "kind": kind }),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        let officer =
            |org: &str| json!({ "name": format!("Officer of {org}"), "role": "officer", "organisation": org });
        let (_, t) = self
            .post("/api/v1/tokens", Some(&self.admin), officer("tamworth"))
            .await;
        let (_, p) = self.post("/api/v1/tokens", Some(&self.admin), officer("police")).await;
        (
            t["token"].as_str().unwrap().to_owned(),
            p["token"].as_str().unwrap().to_owned(),
        )
    }

    /// Starts a second server on the same database (a second instance behind a load balancer);
    /// returns its base URL. It stops when the test process ends.
    pub async fn second_instance(&self) -> String {
        self.instance_with(consult_api::Limits {
            anonymous_reads_per_minute: 0,
            ..consult_api::Limits::default()
        })
        .await
    }

    /// Starts another server on the same database with these limits (and no public cache:
    /// tests read what they just wrote through any instance); returns its base URL.
    pub async fn instance_with(&self, limits: consult_api::Limits) -> String {
        let limits = consult_api::Limits {
            public_cache: std::time::Duration::ZERO,
            ..limits
        };
        self.instance(limits, self.today.and_hms_opt(9, 30, 0).unwrap().and_utc())
            .await
    }

    /// Starts another server on the same database whose clock is stopped `days` later (time
    /// passing: activities close, feedback falls due); returns its base URL.
    pub async fn later(&self, days: u64) -> String {
        let day = self.today.checked_add_days(chrono::Days::new(days)).unwrap();
        let limits = consult_api::Limits {
            anonymous_writes_per_minute: 0,
            anonymous_reads_per_minute: 0,
            public_cache: std::time::Duration::ZERO,
            ..consult_api::Limits::default()
        };
        self.instance(limits, day.and_hms_opt(9, 30, 0).unwrap().and_utc())
            .await
    }

    /// Starts another server on the same database whose anonymous reads are cached for `ttl`;
    /// returns its base URL.
    pub async fn cached_instance(&self, ttl: std::time::Duration) -> String {
        let limits = consult_api::Limits {
            anonymous_writes_per_minute: 0,
            anonymous_reads_per_minute: 0,
            public_cache: ttl,
            ..consult_api::Limits::default()
        };
        self.instance(limits, self.today.and_hms_opt(9, 30, 0).unwrap().and_utc())
            .await
    }

    /// Starts another server on the same database whose clock is stopped at `now` (minutes or
    /// hours passing: sessions idle out), with the test limits; `public_url` as given (an
    /// `https://` one makes the workspace's cookie `__Host-` and `Secure`). Returns its base URL.
    pub async fn instance_at_time(&self, now: DateTime<Utc>, public_url: Option<&str>) -> String {
        let limits = consult_api::Limits {
            anonymous_writes_per_minute: 0,
            anonymous_reads_per_minute: 0,
            public_cache: std::time::Duration::ZERO,
            public_url: public_url.map(str::to_owned),
            ..consult_api::Limits::default()
        };
        self.instance(limits, now).await
    }

    /// The instant the server's clock is stopped at.
    pub fn now(&self) -> DateTime<Utc> {
        self.today.and_hms_opt(9, 30, 0).unwrap().and_utc()
    }

    async fn instance(&self, limits: consult_api::Limits, now: DateTime<Utc>) -> String {
        self.instance_at(limits, now).await.0
    }

    /// Starts another server on the same database with exactly these limits; returns its base
    /// URL and its state (to look at its public cache).
    pub async fn instance_with_state(&self, limits: consult_api::Limits) -> (String, AppState) {
        self.instance_at(limits, self.today.and_hms_opt(9, 30, 0).unwrap().and_utc())
            .await
    }

    /// Starts another server on the same database that accepts providers' delivery reports
    /// carrying `token` (GOV.UK Notify's callbacks); returns its base URL.
    pub async fn instance_with_provider_token(&self, token: &str) -> String {
        let limits = consult_api::Limits {
            anonymous_writes_per_minute: 0,
            anonymous_reads_per_minute: 0,
            public_cache: std::time::Duration::ZERO,
            ..consult_api::Limits::default()
        };
        let now = self.today.and_hms_opt(9, 30, 0).unwrap().and_utc();
        let token = token.to_owned();
        self.instance_built(limits, now, None, move |app| app.with_provider_token(token))
            .await
            .0
    }

    async fn instance_at(&self, limits: consult_api::Limits, now: DateTime<Utc>) -> (String, AppState) {
        self.instance_built(limits, now, None, |app| app).await
    }

    /// Starts another server on the same database, listening on `listener` (bound by the caller,
    /// who needs its address first: an identity provider's redirect), with the test limits,
    /// the clock at `now` and the application as `build` makes it; returns its base URL.
    pub async fn instance_on(
        &self,
        listener: tokio::net::TcpListener,
        now: DateTime<Utc>,
        build: impl FnOnce(consult_app::App) -> consult_app::App,
    ) -> String {
        let limits = consult_api::Limits {
            anonymous_writes_per_minute: 0,
            anonymous_reads_per_minute: 0,
            public_cache: std::time::Duration::ZERO,
            ..consult_api::Limits::default()
        };
        self.instance_built(limits, now, Some(listener), build).await.0
    }

    async fn instance_built(
        &self,
        limits: consult_api::Limits,
        now: DateTime<Utc>,
        listener: Option<tokio::net::TcpListener>,
        build: impl FnOnce(consult_app::App) -> consult_app::App,
    ) -> (String, AppState) {
        let store = match &self.schema {
            Some((url, schema)) => {
                let options = sqlx::postgres::PgConnectOptions::from_str(url)
                    .unwrap()
                    .options([("search_path", schema.as_str())]);
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .connect_with(options)
                    .await
                    .unwrap();
                Store::from_pg_pool(pool).await.unwrap()
            }
            None => Store::connect(&self.database_url).await.unwrap(),
        };
        let mut state = AppState::new(store).with_clock(FixedClock(now)).with_limits(limits);
        state.app = build(state.app);
        let listener = match listener {
            Some(l) => l,
            None => tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        };
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(consult_api::serve(listener, state.clone(), std::future::pending()));
        (base, state)
    }

    /// Registers (and approves) a Tamworth activity titled `title`, opening `opens` days from
    /// today for `days` days, with the park questionnaire (set before it opens when `opens` > 0);
    /// returns its id.
    pub async fn park_survey(&self, token: &str, title: &str, opens: i64, days: i64) -> String {
        let id = self
            .register_activity(token, consultation("tamworth", title, opens, days), true)
            .await;
        let (s, q) = self
            .put(
                &format!("/api/v1/consultations/{id}/questionnaire"),
                Some(token),
                park_questionnaire(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{q}");
        id
    }

    /// Registers an activity and, if asked, has a coordinator submit and approve it (with an
    /// override where the checklist asks for one: fixtures are short). Returns its id.
    pub async fn register_activity(&self, token: &str, body: Value, approve: bool) -> String {
        let (s, b) = self.post("/api/v1/consultations", Some(token), body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["id"].as_str().unwrap().to_owned();
        if approve {
            let path = format!("/api/v1/consultations/{id}/transitions");
            let (s, b) = self
                .post(&path, Some(&self.coordinator), json!({ "to": "submitted" }))
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let (_, a) = self
                .get(
                    &format!("/api/v1/consultations/{id}/assessment"),
                    Some(&self.coordinator),
                )
                .await;
            let body = if a["approvable"] == true {
                json!({ "to": "approved" })
            } else {
                json!({ "to": "approved", "override": "Test fixture" })
            };
            let (s, b) = self.post(&path, Some(&self.coordinator), body).await;
            assert_eq!(s, StatusCode::OK, "{b}");
        }
        id
    }

    /// Runs the `consult` binary against this server's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        cli(&self.database_url, args)
    }

    /// Stops the server and drops a PostgreSQL schema.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.store.close().await;
        if let Some((url, schema)) = self.schema.take() {
            testing::drop_postgres_schema(&url, &schema).await.unwrap();
        }
    }
}

/// Status and JSON body of a response (`Null` for an empty body).
pub async fn into_json(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// A consultation body for `org`, opening `opens` days after the test's today for `days` days.
pub fn consultation(org: &str, title: &str, opens: i64, days: i64) -> Value {
    consultation_from(test_today(), org, title, opens, days)
}

/// A consultation body opening `opens` days after `today` (the CLI runs on the real clock).
pub fn consultation_from(today: NaiveDate, org: &str, title: &str, opens: i64, days: i64) -> Value {
    let open = today + chrono::Duration::days(opens);
    let close = open + chrono::Duration::days(days - 1);
    json!({
        "organisation": org,
        "title": title,
        "summary": format!("About {title}"),
        "purpose": "To hear residents' views",
        "decision": "Cabinet decision",
        "decision_date": (close + chrono::Duration::days(30)).to_string(),
        "can_change": ["Which services are protected"],
        "cannot_change": ["The statutory duties"],
        "feedback_due_on": (close + chrono::Duration::days(60)).to_string(),
        "accessible_formats": "Paper copies and large print on request",
        "level": "consult",
        "methods": ["online_survey", "public_meeting"],
        "audience": { "groups": ["residents"], "areas": ["E07000199"], "equality_groups": [] },
        "topics": [title.split_whitespace().next().unwrap_or("general").to_lowercase()],
        "opens_on": open.to_string(),
        "closes_on": close.to_string(),
        "cost": { "amount": 1500, "currency": "GBP" }
    })
}

/// The `consult` binary, built once per test process if it is missing.
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
        let bin = dir.join(format!("consult{}", std::env::consts::EXE_SUFFIX));
        if !bin.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "--package", "consult-cli", "--bin", "consult"])
                .status()
                .unwrap();
            assert!(status.success(), "building the consult binary failed");
        }
        bin
    })
    .clone()
}

/// Runs `consult --database URL args...`.
pub fn cli(database_url: &str, args: &[&str]) -> Output {
    Command::new(binary())
        .arg("--database")
        .arg(database_url)
        .args(args)
        .env_remove("CONSULT_DATABASE_URL")
        .output()
        .unwrap()
}

/// `consult serve` as a child process on a database (on the real clock), for tests that kill it.
#[derive(Debug)]
pub struct ServerProcess {
    /// The process.
    pub child: std::process::Child,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub base: String,
}

impl ServerProcess {
    /// Starts `consult serve` on `database_url` on a free port, without the per-client limit,
    /// and waits until it listens.
    pub fn start(database_url: &str) -> ServerProcess {
        use std::io::BufRead;
        let mut child = Command::new(binary())
            .args(["--database", database_url, "serve", "--bind", "127.0.0.1:0"])
            .args([
                "--anonymous-writes-per-minute",
                "0",
                "--anonymous-reads-per-minute",
                "0",
            ])
            .env_remove("CONSULT_DATABASE_URL")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Read the log until the address appears, then keep draining it so the server never
        // blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                let plain: String = strip_ansi(&line);
                if let Some(at) = plain.find("listening on http://") {
                    let url: String = plain[at + "listening on ".len()..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url);
                    }
                }
            }
        });
        let base = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("consult serve did not start listening");
        ServerProcess { child, base }
    }

    /// Kills the server with SIGKILL (no shutdown of any kind) and waits for it to go.
    pub fn kill_nine(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A log line without terminal colour codes.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An SMTP server that speaks the protocol (aiosmtpd, `tests/support/smtp_sink.py`) on a free
/// port, keeping each message it accepts as a file. Recipients `bounce...@` get a 550 hard
/// bounce, `busy...@` a 451. Stopped when dropped.
#[derive(Debug)]
pub struct MailSink {
    child: std::process::Child,
    dir: tempfile::TempDir,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

/// One e-mail the sink received.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope recipients.
    pub to: String,
    /// Every header, as `(name, value)` in the order sent, values unfolded.
    pub headers: Vec<(String, String)>,
    /// The subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

impl Mail {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The one-click unsubscribe link (RFC 8058): the `List-Unsubscribe` address, after checking
    /// `List-Unsubscribe-Post` offers the one-click POST.
    pub fn one_click_link(&self) -> String {
        assert_eq!(
            self.header("List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click"),
            "{:?}",
            self.headers
        );
        self.header("List-Unsubscribe")
            .expect("a List-Unsubscribe header")
            .trim_matches(|c| c == '<' || c == '>')
            .to_owned()
    }
}

impl MailSink {
    /// Starts the server; fails the test with the reason if Python or aiosmtpd is missing.
    pub fn start() -> MailSink {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("python3 runs the test SMTP server (pip install aiosmtpd)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the test SMTP server did not start (pip install aiosmtpd)"
        );
        MailSink { child, dir, port }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| parse_mail(&std::fs::read(p).unwrap())).collect()
    }

    /// Waits up to 30 seconds until at least `n` messages have arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        for _ in 0..300 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("expected {n} e-mails, got {}", self.received().len());
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_mail(raw: &[u8]) -> Mail {
    let m = mail_parser::MessageParser::default().parse(raw).unwrap();
    let headers = m
        .headers_raw()
        .map(|(n, v)| (n.to_owned(), v.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect::<Vec<_>>();
    let to = headers
        .iter()
        .find(|(n, _)| n == "X-Envelope-To")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    Mail {
        to,
        subject: m.subject().unwrap_or_default().to_owned(),
        text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        headers,
    }
}

/// A local stand-in for GOV.UK Notify (`tests/support/notify_standin.py`) on a free port: it
/// checks each request's JSON Web Token and body as Notify's documentation says Notify does,
/// answers as Notify answers, and keeps what it accepted. An e-mail address starting `bounce`
/// is accepted, then reported back as a `permanent-failure` to the callback URL; `busy` gets a
/// 500. Stopped when dropped.
#[derive(Debug)]
pub struct NotifyStandIn {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// An API key for its service, as Notify shows one.
    pub api_key: String,
    /// Its templates: kind and channel to template id (`invitation`, `email`).
    pub templates: Vec<((String, String), String)>,
}

impl NotifyStandIn {
    /// Starts the stand-in, with a callback for delivery receipts when given (URL and token).
    pub fn start(callback: Option<(&str, &str)>) -> NotifyStandIn {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let service = uuid::Uuid::new_v4();
        let secret = uuid::Uuid::new_v4();
        let templates = [
            (
                "verification",
                "email",
                "email",
                "Confirm your registration",
                "Your code is ((code)). Confirm it at ((verify_url))",
            ),
            (
                "invitation",
                "email",
                "email",
                "Have your say: ((activity_title))",
                "((organisation)) would like to hear from you about ((activity_title)) until ((closes_on)): ((activity_url))\n\nStop: ((unsubscribe_url))",
            ),
            (
                "invitation",
                "sms",
                "sms",
                "",
                "((organisation)): have your say on ((activity_title)) by ((closes_on)) at ((activity_url))",
            ),
            (
                "invitation",
                "post",
                "letter",
                "Have your say: ((activity_title))",
                "((organisation)) would like to hear from you. Go to ((activity_url))",
            ),
            (
                "results_notice",
                "email",
                "email",
                "What we heard: ((activity_title))",
                "We have published the results of ((activity_title)): ((activity_url))",
            ),
        ];
        let mut config_templates = serde_json::Map::new();
        let mut ids = Vec::new();
        for (kind, channel, kind_of_template, subject, body) in templates {
            let id = uuid::Uuid::new_v4().to_string();
            config_templates.insert(
                id.clone(),
                json!({ "type": kind_of_template, "subject": subject, "body": body }),
            );
            ids.push(((kind.to_owned(), channel.to_owned()), id));
        }
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("notify.json");
        let (callback_url, callback_token) = callback.unzip();
        std::fs::write(
            &config,
            json!({ "service_id": service.to_string(), "secret": secret.to_string(),
                "templates": config_templates, "callback_url": callback_url, "callback_token": callback_token })
            .to_string(),
        )
        .unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("support/notify_standin.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(&config)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("python3 runs the GOV.UK Notify stand-in");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the GOV.UK Notify stand-in did not start");
        NotifyStandIn {
            child,
            _dir: dir,
            port,
            api_key: format!("consult_test-{service}-{secret}"),
            templates: ids,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The templates as consult's settings take them.
    pub fn template_settings(
        &self,
    ) -> std::collections::BTreeMap<(consult_core::MessageKind, consult_core::ContactChannel), uuid::Uuid> {
        self.templates
            .iter()
            .map(|((k, c), id)| {
                (
                    (
                        consult_core::MessageKind::parse(k).unwrap(),
                        consult_core::ContactChannel::parse(c).unwrap(),
                    ),
                    id.parse().unwrap(),
                )
            })
            .collect()
    }

    /// Every notification it accepted, oldest first (recipient in `to`).
    pub async fn received(&self) -> Vec<Value> {
        let v: Value = Client::new()
            .get(format!("{}/_standin/notifications", self.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["notifications"].as_array().unwrap().clone()
    }
}

impl Drop for NotifyStandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fields a problem+json body names, in order (`errors[].field`).
pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
}

/// A council's identity provider: the certified `oidc-provider` package (npm, installed with
/// the browser tests' packages) run by `tests/support/oidc_provider.mjs` on a free port, with
/// one client (`consult`) sending browsers back to `redirect`, and `accounts` (`{ login: claims }`).
/// Its development login page takes any password. Stopped when dropped.
#[derive(Debug)]
pub struct IdentityProvider {
    child: std::process::Child,
    /// Its issuer, `http://127.0.0.1:PORT`.
    pub issuer: String,
}

/// The client id and secret the identity provider knows consult by.
pub const OIDC_CLIENT: (&str, &str) = ("consult", "a client secret for the tests only");

impl IdentityProvider {
    /// Starts it, with the profile and e-mail claims in the ID token (as Microsoft Entra ID).
    pub fn start(redirect: &str, accounts: &Value) -> IdentityProvider {
        Self::start_with(redirect, accounts, "id_token")
    }

    /// Starts it with the profile and e-mail claims only at its userinfo endpoint (the standard's
    /// default when an access token is issued).
    pub fn start_userinfo(redirect: &str, accounts: &Value) -> IdentityProvider {
        Self::start_with(redirect, accounts, "userinfo")
    }

    fn start_with(redirect: &str, accounts: &Value, profile_in: &str) -> IdentityProvider {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert!(
            root.join("tests/browser/node_modules/oidc-provider").exists(),
            "the identity provider's package is missing: npm ci --prefix tests/browser (cargo xtask ci does)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("node")
            .arg(root.join("tests/support/oidc_provider.mjs"))
            .args([&port.to_string(), OIDC_CLIENT.0, OIDC_CLIENT.1, redirect])
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .env("OIDC_PROFILE_IN", profile_in)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs the identity provider (apt-get install nodejs npm)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the identity provider did not start");
        IdentityProvider {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

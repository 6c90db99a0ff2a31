//! The `consult` binary against the same databases as the server.

use consult_tests::{TestApp, binary, cli, consultation_from};

fn consultation(org: &str, title: &str, opens: i64, days: i64) -> Value {
    consultation_from(chrono::Utc::now().date_naive(), org, title, opens, days)
}
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Command, Output, Stdio};

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fails_with(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line on stderr: {stderr}");
}

on_both!(cli_administers_the_register);
async fn cli_administers_the_register(app: &TestApp) {
    ok(&app.cli(&["migrate"]));
    ok(&app.cli(&["area", "add", "--code", "E10000028", "--name", "Staffordshire"]));
    ok(&app.cli(&[
        "area",
        "add",
        "--code",
        "E07000199",
        "--name",
        "Tamworth",
        "--parent",
        "E10000028",
    ]));
    fails_with(
        &app.cli(&["area", "add", "--code", "Tamworth", "--name", "T"]),
        2,
        "code",
    );
    ok(&app.cli(&[
        "org",
        "add",
        "--slug",
        "tamworth",
        "--name",
        "Tamworth Borough Council",
        "--service",
        "Finance",
    ]));
    fails_with(
        &app.cli(&["org", "add", "--slug", "Bad Slug", "--name", "x"]),
        2,
        "slug",
    );
    fails_with(
        &app.cli(&["org", "add", "--slug", "tamworth", "--name", "Again"]),
        2,
        "already exists",
    );
    let table = ok(&app.cli(&["org", "list"]));
    assert!(table.starts_with("SLUG"), "{table}");
    assert!(table.contains("Tamworth Borough Council"));
    let json: Value = serde_json::from_str(&ok(&app.cli(&["org", "list", "--format", "json"]))).unwrap();
    assert_eq!(json[0]["slug"], "tamworth");
    assert_eq!(json[0]["services"], "Finance");

    // A token made by the CLI works over HTTP, and is printed alone.
    let token = ok(&app.cli(&[
        "token",
        "create",
        "--role",
        "officer",
        "--organisation",
        "tamworth",
        "--name",
        "Tom",
    ]));
    let token = token.trim_end();
    assert!(token.starts_with("cst_") && !token.contains(char::is_whitespace));
    fails_with(
        &app.cli(&["token", "create", "--role", "officer", "--name", "Nobody"]),
        2,
        "--organisation",
    );
    fails_with(
        &app.cli(&["token", "create", "--role", "boss", "--name", "B"]),
        2,
        "role",
    );
    let (s, created) = app
        .post(
            "/api/v1/consultations",
            Some(token),
            consultation("tamworth", "Budget 2027", 5, 60),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");

    // Create from a file, list, show, transition.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("parks.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&consultation("tamworth", "Parks review", -3, 30)).unwrap(),
    )
    .unwrap();
    let id = ok(&app.cli(&["consultation", "create", "--file", file.to_str().unwrap()]));
    let id = id.trim();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        serde_json::to_vec(&json!({ "organisation": "tamworth", "title": "x", "level": "loud" })).unwrap(),
    )
    .unwrap();
    fails_with(
        &app.cli(&["consultation", "create", "--file", bad.to_str().unwrap()]),
        2,
        "level",
    );
    std::fs::write(&bad, b"{ not json").unwrap();
    fails_with(
        &app.cli(&["consultation", "create", "--file", bad.to_str().unwrap()]),
        2,
        "not valid JSON",
    );

    ok(&app.cli(&["consultation", "transition", id, "--to", "submitted"]));
    fails_with(
        &app.cli(&["consultation", "transition", id, "--to", "evaluated"]),
        2,
        "cannot move from submitted",
    );
    fails_with(
        &app.cli(&["consultation", "transition", "nope", "--to", "approved"]),
        2,
        "not a consultation id",
    );
    // Approval is gated: the plan runs under twelve weeks with no justification.
    fails_with(
        &app.cli(&["consultation", "transition", id, "--to", "approved"]),
        2,
        "code_2008/twelve_weeks",
    );
    let out = app.cli(&["check", id]);
    assert_eq!(out.status.code(), Some(1), "a blocking failure exits 1");
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL"));
    fails_with(
        &app.cli(&[
            "consultation",
            "attest",
            id,
            "--check",
            "code_2008/twelve_weeks",
            "--answer",
            "yes",
        ]),
        2,
        "evidence",
    );
    ok(&app.cli(&[
        "consultation",
        "attest",
        id,
        "--check",
        "code_2008/twelve_weeks",
        "--answer",
        "yes",
        "--evidence",
        "Panel wave",
    ]));
    let checked: Value = serde_json::from_str(&ok(&app.cli(&["check", id, "--format", "json"]))).unwrap();
    assert_eq!(checked["approvable"], true);
    ok(&app.cli(&["consultation", "transition", id, "--to", "approved"]));
    let shown: Value = serde_json::from_str(&ok(&app.cli(&["consultation", "show", id]))).unwrap();
    // It opened three days ago, so it is open without anyone acting.
    assert_eq!(shown["status"], "open");
    assert_eq!(shown["status_history"][0]["to"], "submitted");

    let listed: Value = serde_json::from_str(&ok(&app.cli(&[
        "consultation",
        "list",
        "--format",
        "json",
        "--q",
        "parks",
    ])))
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id);
    let csv = ok(&app.cli(&["consultation", "list", "--format", "csv", "--status", "draft"]));
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("Budget 2027"));
    fails_with(
        &app.cli(&["consultation", "list", "--status", "pending"]),
        2,
        "unknown status",
    );

    // Usage errors exit 2 too.
    let out = app.cli(&["consultation", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

on_both!(export_and_import_round_trip);
async fn export_and_import_round_trip(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let mut hostile = consultation("tamworth", "=HYPERLINK(\"http://evil\")", 2, 30);
    hostile["can_change"] = json!(["Opening hours", "Which sites; and when"]);
    hostile["topics"] = json!(["parks", "open spaces"]);
    // A value that starts with an apostrophe comes back as typed (the export escapes it too).
    hostile["summary"] = json!("'=1+1' is text");
    for body in [consultation("tamworth", "Budget 2027", 5, 60), hostile] {
        let (s, b) = app.post("/api/v1/consultations", Some(&tamworth), body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("register.csv");
    ok(&app.cli(&[
        "export",
        "register",
        "--format",
        "csv",
        "--output",
        csv_path.to_str().unwrap(),
    ]));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.contains("'=HYPERLINK"), "formula cells are neutralised: {csv}");
    assert!(csv.contains("''=1+1' is text"), "apostrophes are escaped: {csv}");
    let exported_json: Value =
        serde_json::from_str(&ok(&app.cli(&["export", "register", "--format", "json"]))).unwrap();
    assert_eq!(exported_json["items"].as_array().unwrap().len(), 2);

    // Import into a fresh SQLite register with the same organisations and areas.
    let target = format!("sqlite://{}", dir.path().join("copy.db").display());
    ok(&cli(
        &target,
        &["area", "add", "--code", "E10000028", "--name", "Staffordshire"],
    ));
    ok(&cli(
        &target,
        &[
            "area",
            "add",
            "--code",
            "E07000199",
            "--name",
            "Tamworth",
            "--parent",
            "E10000028",
        ],
    ));
    ok(&cli(
        &target,
        &["org", "add", "--slug", "tamworth", "--name", "Tamworth"],
    ));

    // A file with one bad row imports nothing.
    let broken = dir.path().join("broken.csv");
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    lines.push(",tamworth,,Broken row,,,,,,,loud,,,,,,2026-01-01,2025-01-01,,,,,,,,,,,,".into());
    std::fs::write(&broken, lines.join("\n")).unwrap();
    fails_with(
        &cli(&target, &["import", "register", broken.to_str().unwrap()]),
        2,
        "nothing imported; 1 row(s) are invalid: line 6: level: unknown level `loud`",
    );
    let empty: Value = serde_json::from_str(&ok(&cli(&target, &["consultation", "list", "--format", "json"]))).unwrap();
    assert_eq!(empty.as_array().unwrap().len(), 0, "nothing was imported");

    ok(&cli(&target, &["import", "register", csv_path.to_str().unwrap()]));
    let imported: Value =
        serde_json::from_str(&ok(&cli(&target, &["export", "register", "--format", "json"]))).unwrap();
    assert!(
        imported["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["summary"] == "'=1+1' is text"),
        "{imported}"
    );
    let again = dir.path().join("again.csv");
    ok(&cli(
        &target,
        &[
            "export",
            "register",
            "--format",
            "csv",
            "--output",
            again.to_str().unwrap(),
        ],
    ));
    let strip = |s: &str| -> Vec<String> {
        // created_at and updated_at differ; everything else, ids included, must match.
        s.lines()
            .map(|l| l.rsplitn(3, ',').nth(2).unwrap_or(l).to_owned())
            .collect()
    };
    assert_eq!(strip(&std::fs::read_to_string(&again).unwrap()), strip(&csv));
    // Importing the same file twice is refused as a whole.
    fails_with(
        &cli(&target, &["import", "register", csv_path.to_str().unwrap()]),
        2,
        "already registered",
    );
}

#[test]
fn bad_database_urls_exit_2() {
    fails_with(&cli("mysql://localhost/x", &["migrate"]), 2, "unsupported database URL");
}

/// `consult serve` as a user runs it: the real binary on a free port, with demo data.
#[tokio::test]
async fn serve_binary_with_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(binary())
        .args([
            "--database",
            &db,
            "serve",
            "--demo",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            healthy = r.status() == StatusCode::OK;
            if healthy {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(healthy, "the server did not become healthy");
    let open: Value = client
        .get(format!("{base}/api/v1/consultations?status=open"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(open["items"].as_array().unwrap().len() >= 3, "{open}");
    let orgs: Value = client
        .get(format!("{base}/api/v1/organisations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = orgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    for s in [
        "staffordshire",
        "tamworth",
        "oxfordshire",
        "herefordshire-partnership",
        "stevenage",
    ] {
        assert!(slugs.contains(&s), "{s} missing from {slugs:?}");
    }
    let plan: Value = client
        .get(format!("{base}/api/v1/forward-plan"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["title"] == "Place Survey 2027")
    );
    child.kill().unwrap();
    let _ = child.wait();
}

/// `consult check --file plan.toml` needs no database and no server.
#[test]
fn offline_check_of_a_plan_file() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    let good = r#"
organisation = "tamworth"
title = "Garden waste collections"
summary = "Should collections move to fortnightly?"
purpose = "To decide the 2027 collection pattern"
decision = "Cabinet decision on the collection pattern"
decision_date = "2027-05-01"
can_change = ["How often bins are collected"]
cannot_change = ["The charge set by full council"]
level = "consult"
methods = ["online_survey", "questionnaire"]
opens_on = "2027-01-04"
closes_on = "2027-03-28"
feedback_due_on = "2027-06-01"
accessible_formats = "Paper and large print on request"

[audience]
groups = ["residents"]
areas = ["E07000199"]
"#;
    std::fs::write(&plan, good).unwrap();
    // Point at a database URL that cannot work: the offline check must not touch it.
    let args = ["check", "--file", plan.to_str().unwrap(), "--today", "2026-11-01"];
    let out = cli("postgres://nobody@127.0.0.1:1/none", &args);
    let table = ok(&out);
    assert!(
        table.contains("code_2008/twelve_weeks") && table.contains("approvable: yes"),
        "{table}"
    );

    // Eleven weeks and six days, launching in a pre-election period: exit 1, with the reasons.
    std::fs::write(&plan, good.replace("2027-03-28", "2027-03-27")).unwrap();
    let out = cli(
        "sqlite::memory:",
        &[
            "check",
            "--file",
            plan.to_str().unwrap(),
            "--today",
            "2026-11-01",
            "--pre-election",
            "2026-12-20..2027-01-10",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failing: Vec<&str> = a["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "fail")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["code_2008/not_in_election_period", "code_2008/twelve_weeks"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("blocking checks fail"), "{stderr}");

    // Another framework on request; an unknown one is bad input.
    let out = cli(
        "sqlite::memory:",
        &[
            "check",
            "--file",
            plan.to_str().unwrap(),
            "--framework",
            "stevenage",
            "--today",
            "2026-11-01",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("stevenage/variety_of_methods"));
    fails_with(
        &cli(
            "sqlite::memory:",
            &["check", "--file", plan.to_str().unwrap(), "--framework", "nonesuch"],
        ),
        2,
        "unknown framework",
    );
    std::fs::write(&plan, "title = ").unwrap();
    fails_with(
        &cli("sqlite::memory:", &["check", "--file", plan.to_str().unwrap()]),
        2,
        "plan.toml",
    );
}

on_both!(cli_frameworks_and_organisation_checklist);
async fn cli_frameworks_and_organisation_checklist(app: &TestApp) {
    app.seed().await;
    let listed = ok(&app.cli(&["framework", "list"]));
    assert_eq!(listed.lines().count(), 8, "{listed}");
    let shown: Value = serde_json::from_str(&ok(&app.cli(&["framework", "show", "staffordshire"]))).unwrap();
    assert_eq!(shown["principles"].as_array().unwrap().len(), 7);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("charter.json");
    let mut charter = shown.clone();
    charter["key"] = json!("police_charter");
    std::fs::write(&file, serde_json::to_vec(&charter).unwrap()).unwrap();
    assert_eq!(
        ok(&app.cli(&["framework", "add", "--file", file.to_str().unwrap()])).trim(),
        "police_charter v1"
    );
    charter["key"] = json!("gunning");
    std::fs::write(&file, serde_json::to_vec(&charter).unwrap()).unwrap();
    fails_with(
        &app.cli(&["framework", "add", "--file", file.to_str().unwrap()]),
        2,
        "built-in",
    );

    let set = ok(&app.cli(&[
        "org",
        "checklist",
        "police",
        "--frameworks",
        "police_charter,duty_to_involve",
        "--pre-election",
        "PCC elections=2028-03-27..2028-05-04",
    ]));
    let set: Value = serde_json::from_str(&set).unwrap();
    assert_eq!(set["frameworks"], json!(["duty_to_involve", "police_charter"]));
    let (_, over_http) = app.get("/api/v1/organisations/police/checklist", None).await;
    assert_eq!(over_http["election_periods"][0]["name"], "PCC elections");
    fails_with(
        &app.cli(&["org", "checklist", "police", "--frameworks", "nonesuch"]),
        2,
        "unknown framework",
    );
    fails_with(
        &app.cli(&["org", "checklist", "police", "--pre-election", "soon"]),
        2,
        "NAME=START..END",
    );
}

//! `cargo xtask`: the project's own automation.
//!
//! - `cargo xtask ci`: exactly what CI runs: formatting, lints, every test (SQLite always,
//!   PostgreSQL when `CONSULT_TEST_POSTGRES_URL` is set; required under `CI=true`), doc tests and
//!   the consult-core docs without warnings, then the public hub in headless Chromium
//!   (`tests/browser`, Node.js with playwright-core and axe-core from npm; skipped with a warning
//!   when Chromium or Node.js is missing, required under `CI=true`), then every fuzz target for a
//!   bounded time (cargo-fuzz), and schemathesis against the published OpenAPI document (both
//!   required under `CI=true`).
//! - `cargo xtask openapi [PATH]`: writes the published OpenAPI document (default
//!   `docs/openapi.json`).
//! - `cargo xtask bench [--quick]`: builds the benchmark harness in release, runs every benchmark
//!   (PostgreSQL comparisons when `CONSULT_TEST_POSTGRES_URL` is set) and writes
//!   docs/BENCHMARKS.md with the machine it ran on. `--quick` runs a tenth of the sizes.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(step: &str, cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: {step}");
    let start = std::time::Instant::now();
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("{step}: cannot start: {e}"))?;
    eprintln!("xtask: {step}: {:.1}s", start.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

fn ci() -> Result<(), String> {
    let pg = std::env::var("CONSULT_TEST_POSTGRES_URL").unwrap_or_default();
    if pg.is_empty() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err(
                "CONSULT_TEST_POSTGRES_URL must be set in CI: the PostgreSQL backend is always tested there".into(),
            );
        }
        eprintln!("xtask: CONSULT_TEST_POSTGRES_URL is not set; PostgreSQL variants will be skipped");
    }
    run(
        "cargo fmt --check",
        Command::new(cargo()).args(["fmt", "--all", "--check"]),
    )?;
    run(
        "cargo clippy",
        Command::new(cargo()).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    )?;
    // The e2e tests sign staff in through a real OpenID provider (npm's oidc-provider).
    node_packages()?;
    let mut tests = Command::new(cargo());
    tests.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    // The PostgreSQL variants are `#[ignore]`d so that a run without PostgreSQL reports them as
    // skipped, never as passed; with a database they are asked for.
    if !pg.is_empty() {
        tests.args(["--run-ignored", "all"]);
    }
    // insta: never write snapshots in CI; a difference is a failure. Snapshots are found from
    // this checkout even when a shared target directory holds binaries built elsewhere.
    tests.env("INSTA_UPDATE", "no").env("INSTA_WORKSPACE_ROOT", root());
    run("cargo nextest run --workspace", &mut tests)?;
    run(
        "cargo test --doc",
        Command::new(cargo()).args(["test", "--workspace", "--doc", "--quiet"]),
    )?;
    run(
        "cargo doc (library crates)",
        Command::new(cargo())
            .args([
                "doc",
                "--no-deps",
                "--package",
                "consult-core",
                "--package",
                "consult-store",
                "--package",
                "consult-app",
                "--package",
                "consult-api",
                "--package",
                "consult-delivery",
                "--quiet",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run(
        "example program",
        Command::new(cargo()).args(["run", "--quiet", "--package", "consult-core", "--example", "register"]),
    )?;
    browser_tests()?;
    api_conformance()?;
    fuzz()
}

/// The server against its own published OpenAPI document: schemathesis (PyPI) sends generated
/// requests to every operation as an administrator and checks that no answer is a 5xx and every
/// status, content type, header and body is the documented one.
fn api_conformance() -> Result<(), String> {
    use std::io::BufRead;
    // `python3 -m schemathesis.cli` works wherever pip put the package, on PATH or not.
    let schemathesis = || {
        let mut c = Command::new("python3");
        c.args(["-m", "schemathesis.cli"]);
        c
    };
    let have = schemathesis()
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err("schemathesis is needed in CI; .ci/run installs it".into());
        }
        eprintln!("xtask: schemathesis is not installed; skipping the API conformance run (pip install schemathesis)");
        return Ok(());
    }
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root().join("target"), PathBuf::from);
    let consult = target.join("debug/consult");
    let dir = std::env::temp_dir().join(format!("consult-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let database = format!("sqlite://{}", dir.join("consult.db").display());
    let mut server = Command::new(&consult)
        .args(["--database", &database, "serve", "--demo", "--bind", "127.0.0.1:0"])
        .args([
            "--anonymous-writes-per-minute",
            "0",
            "--anonymous-reads-per-minute",
            "0",
        ])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", consult.display()))?;
    let mut log = std::io::BufReader::new(server.stderr.take().ok_or("no server log")?);
    let mut base = None;
    let mut line = String::new();
    while base.is_none() && log.read_line(&mut line).is_ok_and(|n| n > 0) {
        if let Some(at) = line.find("listening on http://") {
            base = line[at + "listening on ".len()..]
                .split_whitespace()
                .next()
                .map(str::to_owned);
        }
        line.clear();
    }
    // Keep reading the log so the server never blocks on it.
    std::thread::spawn(move || for _ in log.lines() {});
    let result = (|| {
        let base = base.ok_or("the server did not start")?;
        let token = Command::new(&consult)
            .args([
                "--database",
                &database,
                "token",
                "create",
                "--role",
                "admin",
                "--name",
                "schemathesis",
            ])
            .output()
            .map_err(|e| e.to_string())?;
        let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
        run(
            "schemathesis against openapi.json",
            schemathesis().args([
                "run",
                &format!("{base}/openapi.json"),
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
                "--header",
                &format!("Authorization: Bearer {token}"),
                "--max-examples",
                "15",
                // Binary uploads (application/pdf and others) cannot be generated; e2e tests cover them.
                "--exclude-path-regex",
                "/documents/upload$",
            ]),
        )
    })();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Every parser of outside data under libFuzzer (`fuzz/`, cargo-fuzz on stable without a
/// sanitizer), each for a bounded time (`CONSULT_FUZZ_SECONDS`, default 12), from the seeds in
/// `fuzz/seeds`. A crash fails CI and leaves its input in `fuzz/artifacts`.
fn fuzz() -> Result<(), String> {
    let have = Command::new(cargo())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err("cargo-fuzz is needed in CI; .ci/run installs it".into());
        }
        eprintln!("xtask: cargo-fuzz is not installed; skipping the fuzz targets (cargo install cargo-fuzz)");
        return Ok(());
    }
    let seconds = std::env::var("CONSULT_FUZZ_SECONDS").unwrap_or_else(|_| "12".into());
    let dir = root().join("fuzz");
    run(
        "cargo fuzz build",
        Command::new(cargo()).args(["fuzz", "build", "-s", "none"]),
    )?;
    for target in ["register_csv", "responses_csv", "nomis_csv", "plan_file", "json_bodies"] {
        let corpus = dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        run(
            &format!("cargo fuzz run {target} ({seconds} s)"),
            Command::new(cargo())
                .args(["fuzz", "run", "-s", "none", target])
                .arg(&corpus)
                .arg(dir.join("seeds").join(target))
                // An input that takes over ten seconds is a hang: a failure, not a wait.
                .args(["--", &format!("-max_total_time={seconds}"), "-timeout=10"]),
        )?;
    }
    Ok(())
}

/// The hub in headless Chromium: navigation, forms, keyboard-only use and an accessibility audit
/// of every page type, driving the `consult` binary from Node.js (playwright-core, axe-core).
/// The npm packages of the tests (tests/browser/package-lock.json): Playwright and axe for the
/// browser tests, and the identity provider (`oidc-provider`) the e2e tests sign staff in
/// through; installed when any is missing.
fn node_packages() -> Result<(), String> {
    let dir = root().join("tests/browser");
    let installed = ["playwright-core", "axe-core", "oidc-provider"]
        .iter()
        .all(|p| dir.join("node_modules").join(p).exists());
    if installed {
        return Ok(());
    }
    run(
        "npm ci (tests/browser)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir),
    )
}

fn browser_tests() -> Result<(), String> {
    let chromium = std::env::var("CONSULT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let have = |cmd: &str| {
        Command::new(cmd)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !Path::new(&chromium).exists() || !have("node") || !have("npm") || !have("sqlite3") {
        let missing = format!("Chromium ({chromium}), Node.js with npm, and sqlite3 are needed for the browser tests");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err(format!("{missing}; .ci/run installs them"));
        }
        eprintln!("xtask: {missing}; skipping them (apt-get install chromium nodejs npm sqlite3)");
        return Ok(());
    }
    let dir = root().join("tests/browser");
    node_packages()?;
    run(
        "cargo build consult",
        Command::new(cargo()).args(["build", "--quiet", "--package", "consult-cli", "--bin", "consult"]),
    )?;
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root().join("target"), PathBuf::from);
    run(
        "browser tests (headless Chromium)",
        Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .arg(dir.join("hub.test.mjs"))
            .env("CONSULT_BIN", target.join("debug/consult"))
            .env("CONSULT_CHROMIUM", &chromium)
            .env("CONSULT_ARTEFACTS", target.join("browser-artefacts")),
    )
}

fn openapi(path: Option<String>) -> Result<(), String> {
    let path = path
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("docs/openapi.json"));
    let doc = serde_json::to_string_pretty(&consult_api::openapi()).map_err(|e| e.to_string())?;
    std::fs::write(&path, doc + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn machine() -> String {
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or_else(|| "unknown CPU".to_owned(), |s| s.trim().to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem_gib:.0} GiB; {rustc}; release build")
}

fn bench(quick: bool) -> Result<(), String> {
    run(
        "build the benchmark harness",
        Command::new(cargo()).args([
            "build",
            "--release",
            "--quiet",
            "--package",
            "consult-bench",
            "--package",
            "consult-cli",
        ]),
    )?;
    let harness = root().join("target/release/consult-bench");
    let (activities, queries, residents, responses) = if quick {
        ("100000", "300", "100000", "100000")
    } else {
        ("1000000", "1000", "1000000", "1000000")
    };
    let (big, answers) = if quick { ("10000", "2000") } else { ("100000", "20000") };
    let mut rows = String::new();
    for args in [
        vec!["overlap", "--size", activities, "--queries", queries],
        vec!["residents", "--residents", residents, "--contacts-per-resident", "10"],
        vec!["responses", "--responses", responses, "--import-rows", responses],
        vec!["export", "--responses", "100000"],
        vec![
            "analysis",
            "--responses",
            responses,
            "--big",
            big,
            "--import-rows",
            big,
            "--answers",
            answers,
        ],
        vec![
            "delivery",
            "--invitations",
            if quick { "20000" } else { "100000" },
            "--deliver",
            if quick { "5000" } else { "20000" },
            "--fault",
            if quick { "3000" } else { "10000" },
        ],
        vec!["load", "--seconds", if quick { "3" } else { "10" }],
    ] {
        eprintln!("xtask: consult-bench {}", args.join(" "));
        let out = Command::new(&harness)
            .args(&args)
            .current_dir(root())
            .output()
            .map_err(|e| format!("cannot run the harness: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "consult-bench {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        rows.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let pg = std::env::var("CONSULT_TEST_POSTGRES_URL").map_or_else(
        |_| "not set: PostgreSQL comparisons skipped".to_owned(),
        |url| {
            let setting = |name: &str| {
                Command::new("psql")
                    .args([url.as_str(), "-Atc", &format!("SHOW {name}")])
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                    .unwrap_or_else(|| "unknown".into())
            };
            format!(
                "local PostgreSQL {} on the same machine, default settings (shared_buffers {}, work_mem {})",
                setting("server_version"),
                setting("shared_buffers"),
                setting("work_mem")
            )
        },
    );
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let doc = format!(
        "# Benchmarks\n\n\
         Written by `cargo xtask bench{}` on {date}. Rerun it to refresh every figure; each row's\n\
         comparison was measured in the same run.\n\n\
         - Machine: {}\n\
         - PostgreSQL: {pg}\n\
         - Data: generated by `bench/src/generate.rs` (activities: council services, activity kinds,\n  \
           English place names, 30 counties with 10 districts, ten years of dates) and by SQL inside\n  \
           the database for residents (20 areas, interests, ten invitations each over two years) and\n  \
           responses (5,000 activities over ten years, five monitoring answers each); survey exports\n  \
           written as CSV files and imported through the CLI's path; load: the demo register with\n  \
           2,000 more activities, served in-process on two worker threads and driven over loopback\n  \
           by wrk (Debian's package, one thread, 64 connections) and by 200 reqwest submitters.\n\n\
         | what | figure | target | comparison and notes |\n|---|---|---|---|\n{rows}\n{notes}",
        if quick { " --quick" } else { "" },
        machine(),
        notes = std::fs::read_to_string(root().join("bench/NOTES.md")).unwrap_or_default()
    );
    let path = root().join("docs/BENCHMARKS.md");
    std::fs::write(&path, doc).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("ci") => ci(),
        Some("openapi") => openapi(args.next()),
        Some("bench") => bench(args.next().as_deref() == Some("--quick")),
        _ => Err("usage: cargo xtask ci | cargo xtask openapi [PATH] | cargo xtask bench [--quick]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(1)
        }
    }
}

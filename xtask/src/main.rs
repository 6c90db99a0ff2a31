//! `cargo xtask`: the project's own automation.
//!
//! - `cargo xtask ci`: exactly what CI runs: formatting, lints, every test (SQLite always,
//!   PostgreSQL when `CONSULT_TEST_POSTGRES_URL` is set; required under `CI=true`), doc tests and
//!   the consult-core docs without warnings.
//! - `cargo xtask openapi [PATH]`: writes the published OpenAPI document (default
//!   `docs/openapi.json`).

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
    let mut tests = Command::new(cargo());
    tests.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    // insta: never write snapshots in CI; a difference is a failure.
    tests.env("INSTA_UPDATE", "no");
    run("cargo nextest run --workspace", &mut tests)?;
    run(
        "cargo test --doc",
        Command::new(cargo()).args(["test", "--workspace", "--doc", "--quiet"]),
    )?;
    run(
        "cargo doc consult-core",
        Command::new(cargo())
            .args([
                "doc",
                "--no-deps",
                "--package",
                "consult-core",
                "--package",
                "consult-store",
                "--package",
                "consult-api",
                "--quiet",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run(
        "example program",
        Command::new(cargo()).args(["run", "--quiet", "--package", "consult-core", "--example", "register"]),
    )?;
    Ok(())
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

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("ci") => ci(),
        Some("openapi") => openapi(args.next()),
        _ => Err("usage: cargo xtask ci | cargo xtask openapi [PATH]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(1)
        }
    }
}

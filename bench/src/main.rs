//! The benchmark harness behind docs/BENCHMARKS.md. Each benchmark prints Markdown table rows:
//! what was measured, the figure, the target, and the comparison measured in the same run.
//!
//! Usage: `consult-bench overlap [--size N] [--queries Q] [--pg URL]`
//!        `consult-bench residents [--residents N] [--contacts-per-resident K] [--pg URL]`
//!        `consult-bench responses [--responses N] [--import-rows M] [--pg URL]`
//!        `consult-bench export [--responses N] [--pg URL]`
//!        `consult-bench analysis [--responses N] [--big B] [--import-rows M] [--answers A] [--pg URL]`
//!        `consult-bench load [--seconds S] [--connections C] [--pg URL]` (needs wrk)
//!        `consult-bench restart --pg URL --restart COMMAND` (restarts PostgreSQL; not in `all`)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analysis;
mod delivery;
mod export;
mod generate;
mod load;
mod overlap;
mod residents;
mod responses;
mod restart;

use std::time::Duration;

/// Resident set size of this process, in MiB (Linux).
pub fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The p-th percentile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    let pg = arg(&args, "--pg")
        .or_else(|| std::env::var("CONSULT_TEST_POSTGRES_URL").ok())
        .filter(|s| !s.is_empty());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if matches!(which, "overlap" | "all") {
        let size = arg(&args, "--size").and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
        let queries = arg(&args, "--queries").and_then(|s| s.parse().ok()).unwrap_or(1000);
        let budget = arg(&args, "--budget").and_then(|s| s.parse().ok());
        let candidates = arg(&args, "--candidates").and_then(|s| s.parse().ok());
        runtime.block_on(overlap::run(size, queries, pg.as_deref(), budget, candidates));
    }
    if matches!(which, "residents" | "all") {
        let residents = arg(&args, "--residents")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        let per = arg(&args, "--contacts-per-resident")
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        runtime.block_on(residents::run(residents, per, pg.as_deref()));
    }
    if matches!(which, "responses" | "all") {
        let n = arg(&args, "--responses")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        let rows = arg(&args, "--import-rows")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        runtime.block_on(responses::run(n, rows, pg.as_deref()));
    }
    if matches!(which, "export" | "all") {
        let n = arg(&args, "--responses")
            .and_then(|s| s.parse().ok())
            .unwrap_or(100_000);
        runtime.block_on(export::run(n, pg.as_deref()));
    }
    if which == "export-child" {
        // One export measured in a process of its own (its peak memory is the export's).
        let (url, activity, format, mode, out) = (&args[1], &args[2], &args[3], &args[4], &args[5]);
        export::child(url, activity, format, mode == "naive", std::path::Path::new(out));
        return;
    }
    if matches!(which, "analysis" | "all") {
        let num = |name: &str, default: usize| arg(&args, name).and_then(|s| s.parse().ok()).unwrap_or(default);
        let (n, big) = (num("--responses", 1_000_000), num("--big", 100_000));
        let (rows, answers) = (num("--import-rows", 100_000), num("--answers", 20_000));
        runtime.block_on(analysis::run(n, big, rows, answers, pg.as_deref()));
    }
    if matches!(which, "delivery" | "all") {
        let num = |name: &str, default: usize| arg(&args, name).and_then(|s| s.parse().ok()).unwrap_or(default);
        let consult =
            std::path::PathBuf::from(arg(&args, "--consult").unwrap_or_else(|| "target/release/consult".into()));
        runtime.block_on(delivery::run(
            num("--invitations", 100_000),
            num("--deliver", 20_000),
            num("--fault", 10_000),
            num("--connections", 32) as u32,
            pg.as_deref(),
            &consult,
        ));
    }
    if which == "restart" {
        let (Some(pg), Some(command)) = (pg.as_deref(), arg(&args, "--restart")) else {
            eprintln!("usage: consult-bench restart --pg URL --restart COMMAND");
            std::process::exit(2);
        };
        restart::run(pg, &command);
        return;
    }
    if matches!(which, "load" | "all") {
        let seconds = arg(&args, "--seconds").and_then(|s| s.parse().ok()).unwrap_or(10);
        let connections = arg(&args, "--connections").and_then(|s| s.parse().ok()).unwrap_or(64);
        load::run(seconds, connections, pg.as_deref());
    }
}

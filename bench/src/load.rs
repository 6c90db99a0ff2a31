//! Load on consult's HTTP server over loopback, on SQLite and PostgreSQL: public register reads
//! driven by wrk (Debian's package) against the real router, and in the same run against a
//! trivial axum handler on the same runtime, for the ratio; then 200 concurrent submitters with
//! idempotency keys, checking that every acknowledged response is stored exactly once.

use crate::generate::{KINDS, PREFIX, Rng, SUFFIX, TOPICS};
use crate::{ms, percentile};
use chrono::{Duration as Days, Utc};
use consult_app::demo;
use consult_core::{Actor, AudienceInput, ConsultationId, ConsultationInput, ConsultationPlan, Role, Status};
use consult_store::{Store, testing};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What wrk measured.
struct Wrk {
    per_second: f64,
    p50: String,
    p99: String,
    errors: u64,
}

fn wrk(url: &str, seconds: u32, connections: u32) -> Wrk {
    let out = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()
        .expect("wrk is needed for the load benchmark: apt-get install wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    let find = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix).map(|v| v.trim().to_owned()))
            .unwrap_or_default()
    };
    Wrk {
        per_second: find("Requests/sec:").parse().unwrap_or(0.0),
        p50: find("50%"),
        p99: find("99%"),
        errors: find("Non-2xx or 3xx responses:").parse().unwrap_or(0),
    }
}

fn admin() -> Actor {
    Actor {
        name: "bench".into(),
        role: Role::Admin,
        organisation: None,
        staff: None,
    }
}

/// The demo register plus `n` more activities of the demo council, a third of them open.
pub async fn register(store: &Store, n: usize) -> ConsultationId {
    let now = Utc::now();
    let today = now.date_naive();
    demo::load_if_empty(store, today, now).await.unwrap();
    let snapshot = store.register_snapshot().await.unwrap();
    let org = store.get_organisation("tamworth").await.unwrap().unwrap();
    let mut rng = Rng::new(7);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let opens = today + Days::days(rng.below(90) as i64 - 60);
        let closes = opens + Days::days(28 + rng.below(60) as i64);
        let plan = ConsultationPlan::parse(
            ConsultationInput {
                organisation: Some("tamworth".into()),
                title: Some(format!(
                    "{} {} in {}{} ({i})",
                    rng.pick(TOPICS),
                    rng.pick(KINDS),
                    rng.pick(PREFIX),
                    rng.pick(SUFFIX)
                )),
                summary: Some("What should change, and what matters most to you?".into()),
                level: Some("consult".into()),
                topics: vec![rng.pick(TOPICS).to_string()],
                audience: AudienceInput {
                    groups: vec!["residents".into()],
                    areas: vec!["E07000199".into()],
                    equality_groups: vec![],
                },
                opens_on: Some(opens.to_string()),
                closes_on: Some(closes.to_string()),
                ..Default::default()
            },
            snapshot.context(),
        )
        .unwrap();
        out.push(crate::generate::approved(org.id, plan, now));
    }
    store.import_consultations(&out, &admin()).await.unwrap();
    out.iter()
        .find(|c| c.status_on(today) == Status::Open)
        .map(|c| c.id)
        .unwrap()
}

/// Serves the application with its default public cache and without it, and a trivial handler,
/// on the current runtime; returns their addresses.
async fn servers(store: Store) -> (String, String, String) {
    let serve = |public_cache: Duration| {
        let store = store.clone();
        async move {
            let limits = consult_api::Limits {
                anonymous_writes_per_minute: 0,
                // wrk is one client: the per-client read limit would answer it 429.
                anonymous_reads_per_minute: 0,
                public_cache,
                ..consult_api::Limits::default()
            };
            let state = consult_api::AppState::new(store).with_limits(limits);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(consult_api::serve(listener, state, std::future::pending()));
            base
        }
    };
    let app = serve(consult_api::Limits::default().public_cache).await;
    let uncached = serve(Duration::ZERO).await;
    let trivial = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, trivial).await });
    (app, uncached, plain)
}

/// `submitters` tasks each send `each` responses with their own idempotency keys.
async fn submissions(
    base: &str,
    id: ConsultationId,
    submitters: usize,
    each: usize,
) -> (Vec<Duration>, Vec<(String, String)>, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(submitters)
        .build()
        .unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let times = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..submitters {
        let (client, acknowledged, times) = (client.clone(), acknowledged.clone(), times.clone());
        let url = format!("{base}/api/v1/consultations/{id}/responses");
        tasks.push(tokio::spawn(async move {
            for n in 0..each {
                let key = format!("load-{s}-{n}");
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("idempotency-key", &key)
                    .json(&serde_json::json!({ "comments": format!("Load test response {key}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), reqwest::StatusCode::CREATED);
                let body: serde_json::Value = res.json().await.unwrap();
                times.lock().unwrap().push(t.elapsed());
                acknowledged
                    .lock()
                    .unwrap()
                    .push((key, body["id"].as_str().unwrap().to_owned()));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    let mut times = times.lock().unwrap().clone();
    times.sort();
    let acknowledged = acknowledged.lock().unwrap().clone();
    (times, acknowledged, elapsed)
}

async fn measure(label: &str, store: Store, seconds: u32, connections: u32) {
    let activities = 2000;
    let id = register(&store, activities).await;
    let (base, uncached, plain) = servers(store.clone()).await;
    let path = "/api/v1/consultations?status=open";
    // Warm up both, then measure each in turn.
    let _ = tokio::task::spawn_blocking({
        let url = format!("{base}{path}");
        move || wrk(&url, 2, connections)
    })
    .await;
    let url = format!("{base}{path}");
    let reads = tokio::task::spawn_blocking(move || wrk(&url, seconds, connections))
        .await
        .unwrap();
    let trivial = tokio::task::spawn_blocking(move || wrk(&plain, seconds, connections))
        .await
        .unwrap();
    let uncached_url = format!("{uncached}{path}");
    let direct = tokio::task::spawn_blocking(move || wrk(&uncached_url, seconds, connections))
        .await
        .unwrap();
    let hub_url = format!("{base}/register");
    let hub = tokio::task::spawn_blocking(move || wrk(&hub_url, seconds, connections))
        .await
        .unwrap();
    println!(
        "| {label}: public register reads (GET {path}, first page of {} activities), wrk {connections} connections, {seconds} s | {:.0} requests/s (p50 {}, p99 {}) | >= 20,000/s | with the default 1 s public cache; trivial axum handler in the same process and run: {:.0}/s, ratio {:.2}; without the cache {:.0}/s (p50 {}); hub register page {:.0}/s; errors {} |",
        activities + 13,
        reads.per_second,
        reads.p50,
        reads.p99,
        trivial.per_second,
        reads.per_second / trivial.per_second.max(1.0),
        direct.per_second,
        direct.p50,
        hub.per_second,
        reads.errors + trivial.errors + hub.errors + direct.errors,
    );
    let (submitters, each) = (200, 25);
    let (times, acknowledged, elapsed) = submissions(&base, id, submitters, each).await;
    let view = reqwest::get(format!("{base}/api/v1/consultations/{id}"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let stored = view["response_count"].as_u64().unwrap();
    // Every acknowledged key, sent again with the same body, answers with its first id and
    // stores nothing; the same key with another body is refused (422: a key is bound to its
    // caller and body) and stores nothing either.
    let client = reqwest::Client::new();
    let (mut replayed_same, mut other_body_refused) = (0, 0);
    for (key, first) in acknowledged.iter().step_by(10) {
        let url = format!("{base}/api/v1/consultations/{id}/responses");
        let res = client
            .post(&url)
            .header("idempotency-key", key)
            .json(&serde_json::json!({ "comments": format!("Load test response {key}") }))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        replayed_same += usize::from(body["id"].as_str() == Some(first.as_str()));
        let res = client
            .post(&url)
            .header("idempotency-key", key)
            .json(&serde_json::json!({ "comments": "again" }))
            .send()
            .await
            .unwrap();
        other_body_refused += usize::from(res.status() == reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    }
    let after = reqwest::get(format!("{base}/api/v1/consultations/{id}"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["response_count"]
        .as_u64()
        .unwrap();
    let lost = acknowledged.len() as i64 - stored as i64;
    println!(
        "| {label}: {submitters} concurrent submitters x {each} responses | {:.0} responses/s (p50 {}, p99 {}) | zero lost or duplicated | {} acknowledged, {stored} stored ({} lost, {} extra); {replayed_same} of {} replays answered with the first id, {other_body_refused} sent with another body refused (422); count after replays {after} |",
        acknowledged.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 99.0)),
        acknowledged.len(),
        lost.max(0),
        (-lost).max(0),
        acknowledged.len().div_ceil(10),
    );
}

/// The runtime an in-process server runs on: the machine's two cores, as `consult serve` has.
pub fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn run(seconds: u32, connections: u32, pg: Option<&str>) {
    server_runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("load.db").display());
        let store = Store::connect(&url).await.unwrap();
        measure("SQLite", store.clone(), seconds, connections).await;
        store.close().await;
        if let Some(url) = pg {
            let (store, schema) = testing::postgres_schema(url).await.unwrap();
            measure("PostgreSQL", store.clone(), seconds, connections).await;
            store.close().await;
            testing::drop_postgres_schema(url, &schema).await.unwrap();
        }
    });
}

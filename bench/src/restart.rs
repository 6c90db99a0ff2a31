//! A real PostgreSQL restart under load (not part of `cargo xtask bench`: it restarts the
//! server it is pointed at). Sixteen submitters keep responding through consult while a command
//! restarts PostgreSQL: every answer must be a stored response or a clean 503 problem+json, the
//! same consult server must recover without a restart, and every key sent again must end up
//! stored exactly once.

use crate::ms;
use consult_store::{Store, testing};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn run(pg: &str, restart: &str) {
    crate::load::server_runtime().block_on(async {
        let (store, schema) = testing::postgres_schema(pg).await.unwrap();
        let id = crate::load::register(&store, 200).await;
        let url = testing::postgres_url_with_schema(pg, &schema);
        store.close().await;
        // The server's own pool, as `consult serve` would have.
        let store = Store::connect(&url).await.unwrap();
        let limits = consult_api::Limits {
            anonymous_writes_per_minute: 0,
            anonymous_reads_per_minute: 0,
            ..consult_api::Limits::default()
        };
        let state = consult_api::AppState::new(store.clone()).with_limits(limits);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(consult_api::serve(listener, state, std::future::pending()));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let answers = Arc::new(Mutex::new(Vec::<(String, u16, String, Instant)>::new()));
        let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for task in 0..16 {
            let (client, base, answers, running) = (client.clone(), base.clone(), answers.clone(), running.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                while running.load(std::sync::atomic::Ordering::SeqCst) {
                    let key = format!("restart-{task}-{n}");
                    n += 1;
                    let res = client
                        .post(format!("{base}/api/v1/consultations/{id}/responses"))
                        .header("idempotency-key", &key)
                        .json(&serde_json::json!({ "comments": "Sent while PostgreSQL restarts" }))
                        .send()
                        .await;
                    let (status, kind) = match res {
                        Ok(r) => (
                            r.status().as_u16(),
                            r.headers()
                                .get("content-type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned(),
                        ),
                        Err(e) => (0, e.to_string()),
                    };
                    answers.lock().unwrap().push((key, status, kind, Instant::now()));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let command = restart.to_owned();
        let restarted_at = Instant::now();
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new("sh").args(["-c", &command]).status()
        })
        .await
        .unwrap()
        .expect("the restart command could not run");
        assert!(status.success(), "the restart command failed");
        let back_at = Instant::now();
        tokio::time::sleep(Duration::from_secs(6)).await;
        running.store(false, std::sync::atomic::Ordering::SeqCst);
        for t in tasks {
            t.await.unwrap();
        }
        let answers = answers.lock().unwrap().clone();
        let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
        for (_, status, kind, _) in &answers {
            *by_status.entry(*status).or_default() += 1;
            if *status == 503 {
                assert_eq!(kind, "application/problem+json");
            }
        }
        let recovered = answers
            .iter()
            .filter(|a| a.1 == 201 && a.3 > back_at)
            .map(|a| a.3 - back_at)
            .min();
        // Every key, sent again until it is answered, is stored once.
        for (key, _, _, _) in &answers {
            for _ in 0..100 {
                let res = client
                    .post(format!("{base}/api/v1/consultations/{id}/responses"))
                    .header("idempotency-key", key)
                    .json(&serde_json::json!({ "comments": "Sent while PostgreSQL restarts" }))
                    .send()
                    .await;
                if res.is_ok_and(|r| r.status().is_success()) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let count = store
            .response_counts(&[id])
            .await
            .unwrap()
            .get(&id)
            .copied()
            .unwrap_or(0);
        let statuses: Vec<String> = by_status
            .iter()
            .map(|(s, n)| format!("{} {n}", if *s == 0 { "no answer".to_owned() } else { s.to_string() }))
            .collect();
        println!(
            "| PostgreSQL restarted under load (`{restart}`, 16 submitters, {:.1} s in all) | first stored response {} after the restart command returned (it took {}) | 503 problem+json while down, recovery without restarting consult, nothing lost or doubled | answers: {}; after sending every key again: {count} stored for {} keys |",
            start.elapsed().as_secs_f64(),
            recovered.map_or_else(|| "never".to_owned(), ms),
            ms(back_at - restarted_at),
            statuses.join(", "),
            answers.len(),
        );
        assert_eq!(count, answers.len() as u64, "lost or doubled responses");
        assert!(
            by_status.keys().all(|s| [201, 503].contains(s)),
            "answers other than 201 and 503: {by_status:?}"
        );
        store.close().await;
        testing::drop_postgres_schema(pg, &schema).await.unwrap();
    });
}

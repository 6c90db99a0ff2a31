//! The outbox at scale: queueing a plan's invitations in one commit (against queueing them one
//! transaction each), sending them to a real SMTP server (aiosmtpd, `tests/support/smtp_sink.py`)
//! with pooled connections (against one connection), and a fault run: `consult deliver` killed
//! with SIGKILL while sending, restarted, and every message counted at the server.

use crate::ms;
use chrono::{DateTime, Utc};
use consult_app::App;
use consult_app::delivery::{Deliverer, DeliverySettings};
use consult_core::{ContactChannel, MessageKey, MessageKind, NewMessage};
use consult_delivery::{SmtpChannel, SmtpSettings};
use consult_store::{Store, testing};
use sqlx::Executor;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One-transaction-each queueing is measured on this many messages.
const NAIVE_QUEUE: usize = 2_000;
/// One-connection delivery is measured on this many messages.
const NAIVE_SEND: usize = 2_000;

/// The SMTP server the messages go to, writing each to a file in its directory.
struct Sink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Sink {
    fn start() -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg("tests/support/smtp_sink.py")
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start (pip install aiosmtpd)"
        );
        Sink { child, dir, port }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect()
    }

    fn count(&self) -> usize {
        self.files().len()
    }

    /// Messages received per `Message-ID`.
    fn by_message_id(&self) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for path in self.files() {
            let text = std::fs::read_to_string(&path).unwrap();
            let id = text
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("message-id").then(|| value.trim().to_owned())
                })
                .unwrap_or_else(|| panic!("no Message-ID in {}", path.display()));
            *seen.entry(id).or_insert(0) += 1;
        }
        seen
    }

    /// Waits until `n` messages arrived (at most a minute past the last arrival).
    fn wait_for(&self, n: usize) {
        let mut last = (self.count(), Instant::now());
        while last.0 < n {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.count();
            if now != last.0 {
                last = (now, Instant::now());
            }
            assert!(
                last.1.elapsed() < Duration::from_secs(60),
                "the sink stalled at {now} of {n}"
            );
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` residents, every one matching the target activity (its area, its topic), by e-mail.
fn residents_sql(n: usize, postgres: bool) -> Vec<String> {
    if postgres {
        vec![
            format!(
                "INSERT INTO residents (id, email, channels, consent_at, token_hash, created_at, verified_at) \
                 SELECT md5(i::text)::uuid, 'r' || i || '@example.org', 'email', now(), 'h' || i, now(), now() \
                 FROM generate_series(1, {n}) i"
            ),
            "INSERT INTO resident_areas (resident_id, code) SELECT id, 'E07000001' FROM residents".into(),
            "INSERT INTO resident_interests (resident_id, topic) SELECT id, 'parks' FROM residents".into(),
        ]
    } else {
        vec![
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
                 INSERT INTO residents (id, email, channels, consent_at, token_hash, created_at, verified_at) \
                 SELECT randomblob(16), 'r' || i || '@example.org', 'email', \
                 '2026-01-01T00:00:00+00:00', 'h' || i, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00' FROM n"
            ),
            "INSERT INTO resident_areas (resident_id, code) SELECT id, 'E07000001' FROM residents".into(),
            "INSERT INTO resident_interests (resident_id, topic) SELECT id, 'parks' FROM residents".into(),
        ]
    }
}

/// Generates `n` residents and commits the target activity's invitation plan; returns the time
/// the commit took and how many messages it queued.
async fn queue_plan(
    store: &Store,
    raw: RawSql<'_>,
    n: usize,
    postgres: bool,
    now: DateTime<Utc>,
) -> (Duration, u64, consult_core::Consultation) {
    let (target, _) = crate::residents::seed(store, now).await;
    for sql in residents_sql(n, postgres) {
        raw(sql).await;
    }
    raw(if postgres { "VACUUM ANALYZE" } else { "ANALYZE" }.into()).await;
    let plan = consult_app::invitations::plan(store, None, &target, now.date_naive())
        .await
        .unwrap();
    assert_eq!(
        plan.invited.len(),
        n,
        "every resident matches: left out {:?}",
        plan.excluded
    );
    let fields = consult_core::invitation_fields(&target, "Bench Council");
    let t = Instant::now();
    let queued = store
        .record_invitations(target.id, &plan.invited, &fields, &crate::residents::admin(), now)
        .await
        .unwrap();
    (t.elapsed(), queued, target)
}

/// Queues `n` messages one transaction each (the naive way); returns the time taken.
async fn queue_one_by_one(
    store: &Store,
    target: &consult_core::Consultation,
    n: usize,
    now: DateTime<Utc>,
) -> Duration {
    let fields: BTreeMap<String, String> = consult_core::invitation_fields(target, "Bench Council");
    let t = Instant::now();
    for i in 0..n {
        let resident = uuid::Uuid::now_v7();
        let message = NewMessage {
            key: MessageKey::new(MessageKind::Invitation, &[&"naive", &resident]),
            kind: MessageKind::Invitation,
            channel: ContactChannel::Post,
            recipient: format!("{i} Naive Street, Tamworth"),
            resident: None,
            staff: None,
            consultation: None,
            personalisation: fields.clone(),
        };
        store.queue_messages(&[message], now).await.unwrap();
    }
    t.elapsed()
}

fn deliverer(store: &Store, sink: &Sink, connections: u32) -> Deliverer {
    deliverer_with(store, sink, connections, false)
}

/// A deliverer over consult's own SMTP connections, or over lettre's pool (`lettre`).
fn deliverer_with(store: &Store, sink: &Sink, connections: u32, lettre: bool) -> Deliverer {
    let mut smtp = SmtpChannel::new(&SmtpSettings {
        url: sink.url(),
        from: "Bench Council <consult@bench.example.org>".into(),
        connections,
    })
    .unwrap();
    if lettre {
        smtp = smtp.with_lettre_pool();
    }
    Deliverer::new(
        App::new(store.clone()).with_public_url("https://consult.example.org"),
        vec![Arc::new(smtp)],
        DeliverySettings::default(),
    )
}

/// Peak resident memory of this process so far, in MiB.
fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

async fn queue_rows(
    label: &str,
    store: &Store,
    raw: RawSql<'_>,
    n: usize,
    postgres: bool,
    now: DateTime<Utc>,
) -> consult_core::Consultation {
    let (commit, queued, target) = queue_plan(store, raw, n, postgres, now).await;
    assert_eq!(queued as usize, n);
    let naive = queue_one_by_one(store, &target, NAIVE_QUEUE, now).await;
    let per_naive = naive.as_secs_f64() / NAIVE_QUEUE as f64;
    println!(
        "| {label}: queueing an invitation plan of {n} residents in one commit (contact log and outbox) | {:.2} s | < 5 s | one transaction per message (the naive way), {NAIVE_QUEUE} measured: {} per message, {:.0} s for {n} ({:.0}x slower) |",
        commit.as_secs_f64(),
        ms(Duration::from_secs_f64(per_naive)),
        per_naive * n as f64,
        per_naive * n as f64 / commit.as_secs_f64()
    );
    target
}

/// Runs one SQL statement on the benchmark's database.
type RawSql<'a> = &'a dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// Sends `deliver` of the queued invitations through the sink: first `NAIVE_SEND` over one
/// connection, then the rest over `connections` pooled connections.
async fn send_rows(store: &Store, pool: &sqlx::SqlitePool, deliver: usize, connections: u32) {
    let sink = Sink::start();
    let later: DateTime<Utc> = "2100-01-01T00:00:00Z".parse().unwrap();
    let now = Utc::now();
    // Only the invitations take part; all but `NAIVE_SEND` wait for the pooled run.
    sqlx::query("UPDATE outbox SET status = 'cancelled' WHERE kind <> 'invitation' OR channel <> 'email'")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE outbox SET due_at = ?1 WHERE status = 'queued' AND id NOT IN \
         (SELECT id FROM outbox WHERE status = 'queued' ORDER BY id LIMIT ?2)",
    )
    .bind(later)
    .bind(NAIVE_SEND as i64)
    .execute(pool)
    .await
    .unwrap();
    let one = deliverer(store, &sink, 1);
    let t = Instant::now();
    let round = one.drain().await.unwrap();
    let naive = t.elapsed();
    assert_eq!(round.sent as usize, NAIVE_SEND, "{round:?}");
    sink.wait_for(NAIVE_SEND);
    // The peer way: lettre's own pool, as many connections, `NAIVE_SEND` more.
    sqlx::query(
        "UPDATE outbox SET due_at = ?1 WHERE id IN \
         (SELECT id FROM outbox WHERE status = 'queued' ORDER BY id LIMIT ?2)",
    )
    .bind(now)
    .bind(NAIVE_SEND as i64)
    .execute(pool)
    .await
    .unwrap();
    let lettre = deliverer_with(store, &sink, connections, true);
    let t = Instant::now();
    let round = lettre.drain().await.unwrap();
    let peer = t.elapsed();
    assert_eq!(round.sent as usize, NAIVE_SEND, "{round:?}");
    sink.wait_for(2 * NAIVE_SEND);
    // The pooled run: `deliver` more, the rest cancelled.
    sqlx::query(
        "UPDATE outbox SET status = 'cancelled' WHERE status = 'queued' AND id NOT IN \
         (SELECT id FROM outbox WHERE status = 'queued' ORDER BY id LIMIT ?1)",
    )
    .bind(deliver as i64)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE outbox SET due_at = ?1 WHERE status = 'queued'")
        .bind(now)
        .execute(pool)
        .await
        .unwrap();
    let pooled = deliverer(store, &sink, connections);
    let t = Instant::now();
    let round = pooled.drain().await.unwrap();
    let took = t.elapsed();
    assert_eq!(round.sent as usize, deliver, "{round:?}");
    sink.wait_for(2 * NAIVE_SEND + deliver);
    let ids = sink.by_message_id();
    assert_eq!(ids.len(), 2 * NAIVE_SEND + deliver, "every message once");
    println!(
        "| SQLite: delivering {deliver} invitations to a local SMTP server (aiosmtpd), {connections} pooled connections | {:.0} messages/s | >= 500 messages/s | one connection (the naive way), {NAIVE_SEND} measured: {:.0} messages/s; lettre's own pool of {connections} (the peer way), {NAIVE_SEND} measured: {:.0} messages/s; {:.1} s in all; each arrived once (Message-ID); peak RSS of the harness {} MiB, the 100,000-message queue included |",
        deliver as f64 / took.as_secs_f64(),
        NAIVE_SEND as f64 / naive.as_secs_f64(),
        NAIVE_SEND as f64 / peer.as_secs_f64(),
        took.as_secs_f64(),
        peak_mib()
    );
}

/// The fault run: `consult deliver` killed with SIGKILL part way through `n` messages, then
/// restarted once its claims' leases ran out.
async fn fault_run(consult: &Path, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fault.db").display());
    let store = Store::connect(&url).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let raw = |sql: String| {
        let pool = pool.clone();
        Box::pin(async move {
            pool.execute(sql.as_str()).await.unwrap();
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
    };
    let now = Utc::now();
    let (_, queued, _) = queue_plan(&store, &raw, n, false, now).await;
    assert_eq!(queued as usize, n);
    sqlx::query("UPDATE outbox SET status = 'cancelled' WHERE kind <> 'invitation'")
        .execute(&pool)
        .await
        .unwrap();
    let sink = Sink::start();
    let lease = 3;
    let deliver = |once: bool| {
        let mut c = Command::new(consult);
        c.args(["--database", &url, "deliver", "--smtp-url", &sink.url()])
            .args([
                "--delivery-lease-seconds",
                &lease.to_string(),
                "--smtp-connections",
                "8",
            ])
            .args(["--public-url", "https://consult.example.org"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if once {
            c.arg("--once");
        }
        c
    };
    let mut worker = deliver(false)
        .spawn()
        .expect("the consult binary (cargo build --release)");
    let kill_at = n * 3 / 10;
    let started = Instant::now();
    while sink.count() < kill_at {
        assert!(started.elapsed() < Duration::from_secs(300), "the worker sent nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let at_kill = sink.count();
    std::thread::sleep(Duration::from_secs(lease + 1));
    let status = deliver(true).status().unwrap();
    assert!(status.success(), "the restarted worker failed");
    let (sent,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND status = 'sent'")
        .fetch_one(&pool)
        .await
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let ids = sink.by_message_id();
    let received: usize = ids.values().sum();
    let twice = received - ids.len();
    println!(
        "| SQLite: fault run, `consult deliver` killed with SIGKILL after {at_kill} of {n} messages arrived, restarted | {twice} delivered twice | 0 is the goal; at most one round's claims ({}) | every message delivered: {} ({sent} marked sent, {} distinct at the server, {received} received in all) |",
        DeliverySettings::default().batch,
        if ids.len() == n && sent as usize == n {
            "yes"
        } else {
            "NO"
        },
        ids.len()
    );
    store.close().await;
}

/// Runs the delivery benchmarks: `queue` invitations queued in one commit (SQLite, and
/// PostgreSQL when given), `deliver` of them sent over SMTP, a fault run of `fault` messages.
pub async fn run(queue: usize, deliver: usize, fault: usize, connections: u32, pg: Option<&str>, consult: &Path) {
    let now = Utc::now();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let raw = |sql: String| {
        let pool = pool.clone();
        Box::pin(async move {
            pool.execute(sql.as_str()).await.unwrap();
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
    };
    queue_rows("SQLite", &store, &raw, queue, false, now).await;
    // `--deliver 0` and `--fault 0` measure the queueing alone.
    if deliver > 0 {
        send_rows(
            &store,
            &pool,
            deliver.min(queue.saturating_sub(2 * NAIVE_SEND)),
            connections,
        )
        .await;
    }
    store.close().await;
    if let Some(url) = pg {
        let (store, schema) = testing::postgres_schema(url).await.unwrap();
        let pool = sqlx::PgPool::connect(&testing::postgres_url_with_schema(url, &schema))
            .await
            .unwrap();
        let raw = |sql: String| {
            let pool = pool.clone();
            Box::pin(async move {
                pool.execute(sql.as_str()).await.unwrap();
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
        };
        queue_rows("PostgreSQL", &store, &raw, queue, true, now).await;
        store.close().await;
        testing::drop_postgres_schema(url, &schema).await.unwrap();
    }
    if fault > 0 {
        fault_run(consult, fault).await;
    }
}

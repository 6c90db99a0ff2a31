//! Overlap queries on a large register: the index against a brute-force scan and against
//! PostgreSQL pg_trgm similarity (Decidim's method), in the same run.

use crate::generate::{self, Rng};
use crate::{ms, percentile, rss_mib};
use consult_core::{OverlapConfig, OverlapContext, OverlapIndex, OverlapSubject};
use sqlx::{Connection, Executor, PgConnection};
use std::time::{Duration, Instant};

pub async fn run(size: usize, queries: usize, pg: Option<&str>, budget: Option<usize>, candidates: Option<usize>) {
    let (areas, hierarchy) = generate::areas();
    let rss_before = rss_mib();
    let mut rng = Rng::new(1);
    let subjects = (0..size as u64).map(|n| generate::subject(&mut rng, n, &areas));
    let t = Instant::now();
    let index = OverlapIndex::build(subjects);
    let build = t.elapsed();
    let memory = rss_mib() - rss_before;

    let mut config = OverlapConfig::default();
    if let Some(b) = budget {
        config.postings_budget = b;
    }
    if let Some(c) = candidates {
        config.candidates = c;
    }
    let ctx = OverlapContext {
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        areas: &hierarchy,
        config: &config,
    };
    let mut probe_rng = Rng::new(2);
    let probes: Vec<OverlapSubject> = (0..queries as u64)
        .map(|n| generate::subject(&mut probe_rng, 1 << 40 | n, &areas))
        .collect();
    let mut times: Vec<Duration> = Vec::with_capacity(queries);
    let mut found = 0usize;
    for p in &probes {
        let t = Instant::now();
        found += index.query(p, &ctx).len();
        times.push(t.elapsed());
    }
    times.sort();
    let (p50, p99, max) = (
        percentile(&times, 50.0),
        percentile(&times, 99.0),
        *times.last().unwrap_or(&Duration::ZERO),
    );

    // Brute force: score every activity exactly, for a sample of the same probes.
    let sample = if std::env::var_os("CONSULT_BENCH_NO_BRUTE").is_some() {
        0
    } else {
        probes.len().min(20)
    };
    let mut brute: Vec<Duration> = Vec::new();
    let mut identical = 0;
    let (mut fast_total, mut slow_total) = (0.0, 0.0);
    for p in &probes[..sample] {
        let t = Instant::now();
        let slow = index.query_exhaustive(p, &ctx);
        brute.push(t.elapsed());
        let fast = index.query(p, &ctx);
        let ids = |v: &[consult_core::OverlapFinding]| v.iter().map(|f| f.consultation_id).collect::<Vec<_>>();
        if ids(&fast) == ids(&slow) {
            identical += 1;
        }
        fast_total += fast.iter().map(|f| f.score).sum::<f64>();
        slow_total += slow.iter().map(|f| f.score).sum::<f64>();
    }
    let quality = if slow_total > 0.0 { fast_total / slow_total } else { 1.0 };
    brute.sort();
    let brute_p50 = percentile(&brute, 50.0);

    println!(
        "| Overlap index build, {size} activities | {:.1} s | < 30 s | |",
        build.as_secs_f64()
    );
    println!(
        "| Overlap index memory (RSS growth) | {memory:.0} MiB | reported | {:.0} bytes per activity |",
        memory * 1024.0 * 1024.0 / size as f64
    );
    println!(
        "| Overlap query, {queries} queries on one core: p50 / p99 / max | {} / {} / {} | p99 <= 5 ms | {:.1} findings per query |",
        ms(p50),
        ms(p99),
        ms(max),
        found as f64 / queries as f64
    );
    println!(
        "| Brute-force exact scan of every activity (same probes, {sample}): p50 | {} | comparison | index is {:.0}x faster at p50; same top-{} in {identical}/{sample}; index top-{} scores sum to {:.1}% of the exact ones |",
        ms(brute_p50),
        brute_p50.as_secs_f64() / p50.as_secs_f64().max(1e-9),
        config.top_k,
        config.top_k,
        quality * 100.0
    );
    if let Some(url) = pg {
        let trigram_probes = probes.len().min(20);
        match trigram(url, size, &probes[..trigram_probes]).await {
            Ok((load, index_build, t50, t99)) => println!(
                "| PostgreSQL pg_trgm similarity >= 0.25 over title and summary (Decidim's method), {} of the same probes: p50 / max | {} / {} | comparison | index is {:.0}x faster at p50, {:.0}x at max (table load {:.0} s, GIN index build {:.0} s) |",
                trigram_probes,
                ms(t50),
                ms(t99),
                t50.as_secs_f64() / p50.as_secs_f64().max(1e-9),
                t99.as_secs_f64() / p99.as_secs_f64().max(1e-9),
                load.as_secs_f64(),
                index_build.as_secs_f64()
            ),
            Err(e) => println!("| PostgreSQL pg_trgm comparison | not run | comparison | {e} |"),
        }
    }
}

async fn trigram(
    url: &str,
    size: usize,
    probes: &[OverlapSubject],
) -> Result<(Duration, Duration, Duration, Duration), sqlx::Error> {
    let (areas, _) = generate::areas();
    let mut conn = PgConnection::connect(url).await?;
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
    conn.execute("DROP TABLE IF EXISTS bench_trgm").await?;
    conn.execute("CREATE UNLOGGED TABLE bench_trgm (id BIGINT PRIMARY KEY, body TEXT NOT NULL)")
        .await?;
    let t = Instant::now();
    let mut copy = conn.copy_in_raw("COPY bench_trgm (id, body) FROM STDIN").await?;
    let mut rng = Rng::new(1);
    let mut buf = String::with_capacity(1 << 20);
    for n in 0..size as u64 {
        let s = generate::subject(&mut rng, n, &areas);
        buf.push_str(&format!("{n}\t{} {}\n", s.title, s.summary));
        if buf.len() > 1 << 20 {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    copy.send(buf.as_bytes()).await?;
    copy.finish().await?;
    let load = t.elapsed();
    let t = Instant::now();
    conn.execute("CREATE INDEX bench_trgm_body ON bench_trgm USING gin (body gin_trgm_ops)")
        .await?;
    conn.execute("ANALYZE bench_trgm").await?;
    let index_build = t.elapsed();
    conn.execute("SET pg_trgm.similarity_threshold = 0.25").await?;
    let mut times = Vec::new();
    for p in probes {
        let text = format!("{} {}", p.title, p.summary);
        let t = Instant::now();
        let _rows: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM bench_trgm WHERE body % $1 ORDER BY similarity(body, $1) DESC LIMIT 10")
                .bind(&text)
                .fetch_all(&mut conn)
                .await?;
        times.push(t.elapsed());
    }
    times.sort();
    conn.execute("DROP TABLE bench_trgm").await?;
    Ok((load, index_build, percentile(&times, 50.0), percentile(&times, 99.0)))
}

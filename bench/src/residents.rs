//! Invitation plans and fatigue findings over a large residents' register, on SQLite and
//! PostgreSQL. The register is generated inside the database (it would take longer to send).

use crate::{ms, percentile};
use chrono::{DateTime, NaiveDate, Utc};
use consult_app::audience::ResidentCache;
use consult_app::invitations;
use consult_core::{
    Actor, Area, AreaCode, AudienceInput, Consultation, ConsultationInput, ConsultationPlan, Organisation,
    OrganisationId, OrganisationInput, Role,
};
use consult_store::{Store, testing};
use sqlx::Executor;
use std::time::{Duration, Instant};
use uuid::Uuid;

const AREAS: u32 = 20;

pub(crate) fn admin() -> Actor {
    Actor {
        name: "bench".into(),
        role: Role::Admin,
        organisation: None,
        staff: None,
    }
}

/// The activity invited to, and a filler activity the generated contact log refers to.
pub(crate) async fn seed(store: &Store, now: DateTime<Utc>) -> (Consultation, Consultation) {
    for i in 1..=AREAS {
        let area = Area {
            code: AreaCode::parse(&format!("E07{i:06}")).unwrap(),
            name: format!("District {i}"),
            parent: None,
        };
        store.create_area(&area, &admin(), now).await.unwrap();
    }
    let org = Organisation::parse(
        OrganisationId(Uuid::now_v7()),
        OrganisationInput {
            slug: Some("bench".into()),
            name: Some("Bench Council".into()),
            kind: Some("council".into()),
            services: vec![],
        },
    )
    .unwrap();
    store.create_organisation(&org, &admin(), now).await.unwrap();
    let snapshot = store.register_snapshot().await.unwrap();
    let make = |title: &str, areas: Vec<String>| {
        let plan = ConsultationPlan::parse(
            ConsultationInput {
                organisation: Some("bench".into()),
                title: Some(title.into()),
                level: Some("consult".into()),
                topics: vec!["parks".into()],
                audience: AudienceInput {
                    groups: vec!["residents".into()],
                    areas,
                    equality_groups: vec![],
                },
                opens_on: Some("2026-11-01".into()),
                closes_on: Some("2026-12-31".into()),
                ..Default::default()
            },
            snapshot.context(),
        )
        .unwrap();
        crate::generate::approved(org.id, plan, now)
    };
    let target = make(
        "Parks and open spaces strategy",
        vec!["E07000001".into(), "E07000002".into()],
    );
    let filler = make("Earlier activities", vec!["E07000003".into()]);
    store
        .import_consultations(&[target.clone(), filler.clone()], &admin())
        .await
        .unwrap();
    (target, filler)
}

fn sqlite_sql(n: usize, per: usize, filler: Uuid) -> Vec<String> {
    let blob = filler.simple().to_string().to_uppercase();
    vec![
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             INSERT INTO residents (id, email, channels, consent_at, token_hash, created_at, verified_at) \
             SELECT randomblob(16), 'r' || i || '@example.org', CASE i % 3 WHEN 0 THEN 'post' ELSE 'email' END, \
             '2026-01-01T00:00:00+00:00', 'h' || i, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00' FROM n"
        ),
        format!("INSERT INTO resident_areas (resident_id, code) SELECT id, 'E07' || printf('%06d', (rowid % {AREAS}) + 1) FROM residents"),
        "INSERT INTO resident_interests (resident_id, topic) SELECT id, CASE WHEN rowid % 20 < 2 THEN 'parks' ELSE 'topic' || (rowid % 7) END FROM residents".into(),
        format!(
            "WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {}) \
             INSERT INTO contacts (resident_id, consultation_id, kind, channel, at, on_date) \
             SELECT r.id, X'{blob}', 'invitation', 'email', \
             date('2026-11-01', '-' || ((r.rowid * 37 + k.j * 101) % 730) || ' days') || 'T10:00:00+00:00', \
             date('2026-11-01', '-' || ((r.rowid * 37 + k.j * 101) % 730) || ' days') FROM residents r, k",
            per - 1
        ),
    ]
}

fn postgres_sql(n: usize, per: usize, filler: Uuid) -> Vec<String> {
    vec![
        format!(
            "INSERT INTO residents (id, email, channels, consent_at, token_hash, created_at, verified_at) \
             SELECT md5(i::text)::uuid, 'r' || i || '@example.org', CASE i % 3 WHEN 0 THEN 'post' ELSE 'email' END, \
             now(), 'h' || i, now(), now() FROM generate_series(1, {n}) i"
        ),
        format!(
            "INSERT INTO resident_areas (resident_id, code) SELECT md5(i::text)::uuid, 'E07' || lpad(((i % {AREAS}) + 1)::text, 6, '0') FROM generate_series(1, {n}) i"
        ),
        format!(
            "INSERT INTO resident_interests (resident_id, topic) SELECT md5(i::text)::uuid, CASE WHEN i % 20 < 2 THEN 'parks' ELSE 'topic' || (i % 7) END FROM generate_series(1, {n}) i"
        ),
        format!(
            "INSERT INTO contacts (resident_id, consultation_id, kind, channel, at, on_date) \
             SELECT md5(i::text)::uuid, '{filler}', 'invitation', 'email', \
             timestamptz '2026-11-01 10:00+00' - ((i * 37 + j * 101) % 730) * interval '1 day', \
             date '2026-11-01' - ((i * 37 + j * 101) % 730) FROM generate_series(1, {n}) i, generate_series(0, {}) j",
            per - 1
        ),
    ]
}

async fn timed<F, Fut, T>(runs: usize, mut f: F) -> (Vec<Duration>, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f().await);
        times.push(t.elapsed());
    }
    times.sort();
    (times, last.unwrap())
}

async fn measure(
    label: &str,
    store: &Store,
    raw: impl Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
    n: usize,
    per: usize,
    postgres: bool,
) {
    let now: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
    let today: NaiveDate = now.date_naive();
    let (target, filler) = seed(store, now).await;
    let t = Instant::now();
    let statements = if postgres {
        postgres_sql(n, per, filler.id.0)
    } else {
        sqlite_sql(n, per, filler.id.0)
    };
    for sql in statements {
        raw(sql).await;
    }
    // Contacts were loaded by SQL: derive each resident's recent invitation dates, as recording
    // invitations does; then statistics (and on PostgreSQL the visibility map autovacuum keeps).
    store.rebuild_recent_invitations().await.unwrap();
    raw(if postgres { "VACUUM ANALYZE" } else { "ANALYZE" }.into()).await;
    let load = t.elapsed();
    // The server's path: the audience index, a cache of the register.
    let cache = ResidentCache::new();
    let t = Instant::now();
    let built = cache.sync(store).await.unwrap();
    let build = t.elapsed();
    let memory = cache.memory_bytes();
    let (plan_times, plan) = timed(10, || invitations::plan(store, Some(&cache), &target, today)).await;
    let plan = plan.unwrap();
    let (fatigue_times, _) = timed(10, || invitations::fatigue(store, Some(&cache), &target, today)).await;
    let (audience_times, _) = timed(5, || invitations::audience_fatigue(store, &target, today)).await;
    // The one-off path (the CLI): decided in the database by the SQL twin.
    let (sql_plan_times, sql_plan) = timed(5, || invitations::plan(store, None, &target, today)).await;
    let mut sql_plan = sql_plan.unwrap();
    let (sql_fatigue_times, _) = timed(5, || invitations::fatigue(store, None, &target, today)).await;
    let mut same = plan.clone();
    same.invited.sort();
    sql_plan.invited.sort();
    assert_eq!(same, sql_plan, "the index and the database disagree");
    let matched = plan.invited.len() as u64 + plan.excluded.values().sum::<u64>();
    let t = Instant::now();
    store
        .record_invitations(target.id, &plan.invited, &Default::default(), &admin(), now)
        .await
        .unwrap();
    let commit = t.elapsed();
    let t = Instant::now();
    let caught_up = cache.sync(store).await.unwrap();
    let catch_up = t.elapsed();
    let excluded: Vec<String> = plan
        .excluded
        .iter()
        .map(|(k, v)| format!("{} {v}", k.as_str()))
        .collect();
    println!(
        "| {label}: residents' audience index build, {built} residents | {:.1} s | reported | {} MiB ({} bytes per resident) |",
        build.as_secs_f64(),
        memory / (1 << 20),
        memory / built.max(1)
    );
    println!(
        "| {label}: invitation plan, {n} residents and {} contact events, {matched} matching | p50 {} / max {} | < 1 s | from the audience index (the server's path); {} invited; left out: {}; in the database (the CLI's one-off path) p50 {}, {:.0}x slower, same plan; data generated in {:.0} s |",
        n * per,
        ms(percentile(&plan_times, 50.0)),
        ms(*plan_times.last().unwrap()),
        plan.invited.len(),
        excluded.join(", "),
        ms(percentile(&sql_plan_times, 50.0)),
        percentile(&sql_plan_times, 50.0).as_secs_f64() / percentile(&plan_times, 50.0).as_secs_f64(),
        load.as_secs_f64()
    );
    println!(
        "| {label}: fatigue check, full findings (person rules over the {matched} matching residents; audience groups x areas) | p50 {} / max {} | < 100 ms | from the audience index; audience part alone p50 {}; person rules counted in the database p50 {} |",
        ms(percentile(&fatigue_times, 50.0)),
        ms(*fatigue_times.last().unwrap()),
        ms(percentile(&audience_times, 50.0)),
        ms(percentile(&sql_fatigue_times, 50.0)),
    );
    println!(
        "| {label}: committing the plan ({} contacts, one transaction) | {} | reported | the index then caught up with {caught_up} changed residents in {} |",
        plan.invited.len(),
        ms(commit),
        ms(catch_up)
    );
}

pub async fn run(n: usize, per: usize, pg: Option<&str>) {
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
    measure("SQLite", &store, raw, n, per, false).await;
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
        measure("PostgreSQL", &store, raw, n, per, true).await;
        store.close().await;
        testing::drop_postgres_schema(url, &schema).await.unwrap();
    }
}

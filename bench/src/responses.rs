//! Responses and equality reports over a large store, on SQLite and PostgreSQL: the report for
//! one activity and for a year of activities against the naive routes (every answer loaded and
//! counted in the application; the join through responses the first version used), and the
//! import of a large survey export through the same path as `consult responses import`.

use crate::{ms, percentile};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, Area, AreaCode, AudienceInput, ColumnMapping, Consultation, ConsultationId, ConsultationInput,
    ConsultationPlan, ImportMode, MonitoringScheme, Organisation, OrganisationId, OrganisationInput, ReportSettings,
    Role, equality_report, import_responses,
};
use consult_store::{Baseline, Store, testing};
use sqlx::Executor;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Activities in the register: ten years of 500.
const ACTIVITIES: usize = 5000;
const PER_YEAR: usize = 500;
const AREA: &str = "E07000199";

fn admin() -> Actor {
    Actor {
        name: "bench".into(),
        role: Role::Admin,
        organisation: None,
        staff: None,
    }
}

/// The register: one council, its area with a baseline, ten years of activities (the last
/// element is the activity a survey export is imported into).
async fn seed(store: &Store, now: DateTime<Utc>) -> Vec<Consultation> {
    let area = Area {
        code: AreaCode::parse(AREA).unwrap(),
        name: "Tamworth".into(),
        parent: None,
    };
    store.create_area(&area, &admin(), now).await.unwrap();
    let mut counts = BTreeMap::new();
    counts.insert(
        "sex".to_owned(),
        BTreeMap::from([("female".to_owned(), 39_000), ("male".to_owned(), 37_000)]),
    );
    counts.insert(
        "age_band".to_owned(),
        ["under_16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
            .iter()
            .map(|k| ((*k).to_owned(), 9_000))
            .collect(),
    );
    store
        .put_baselines(
            &[Baseline {
                area: area.code.clone(),
                name: "Tamworth".into(),
                source: "bench".into(),
                counts,
            }],
            &admin(),
            now,
        )
        .await
        .unwrap();
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
    let activities: Vec<Consultation> = (0..=ACTIVITIES)
        .map(|n| {
            let year = 2016 + (n / PER_YEAR) as i32;
            let opens =
                NaiveDate::from_ymd_opt(year, 1, 1).unwrap() + chrono::Duration::days((n % PER_YEAR) as i64 * 2 % 330);
            let plan = ConsultationPlan::parse(
                ConsultationInput {
                    organisation: Some("bench".into()),
                    title: Some(format!("Activity {n}")),
                    level: Some("consult".into()),
                    topics: vec!["parks".into()],
                    audience: AudienceInput {
                        groups: vec!["residents".into()],
                        areas: vec![AREA.into()],
                        equality_groups: vec![],
                    },
                    opens_on: Some(opens.to_string()),
                    closes_on: Some((opens + chrono::Duration::days(30)).to_string()),
                    ..Default::default()
                },
                snapshot.context(),
            )
            .unwrap();
            crate::generate::approved(org.id, plan, now)
        })
        .collect();
    for chunk in activities.chunks(500) {
        store.import_consultations(chunk, &admin()).await.unwrap();
    }
    activities
}

/// `CASE` over an integer expression picking keys by weight.
fn pick(h: &str, salt: u32, keys: &[(&str, u32)]) -> String {
    let total: u32 = keys.iter().map(|k| k.1).sum();
    let mut out = format!("CASE (({h}) * 31 + {salt}) % {total}");
    let mut at = 0;
    for (k, w) in keys {
        for _ in 0..*w {
            out.push_str(&format!(" WHEN {at} THEN '{k}'"));
            at += 1;
        }
    }
    out.push_str(" END");
    out
}

/// A characteristic, a salt for its answers, and its answer mix (category, weight).
type AnswerMix = (&'static str, u32, Vec<(&'static str, u32)>);

/// The five monitored characteristics and realistic-looking answer mixes.
fn characteristics() -> Vec<AnswerMix> {
    vec![
        ("sex", 1, vec![("female", 6), ("male", 4), ("prefer_not_to_say", 1)]),
        (
            "age_band",
            2,
            vec![
                ("16-24", 1),
                ("25-34", 2),
                ("35-44", 3),
                ("45-54", 3),
                ("55-64", 3),
                ("65-74", 3),
                ("75+", 1),
                ("prefer_not_to_say", 1),
            ],
        ),
        (
            "ethnic_group",
            3,
            vec![
                ("white_british", 16),
                ("other_white", 1),
                ("indian", 1),
                ("pakistani", 1),
                ("african", 1),
                ("prefer_not_to_say", 1),
            ],
        ),
        (
            "religion",
            4,
            vec![("christian", 6), ("no_religion", 5), ("muslim", 1), ("hindu", 1)],
        ),
        (
            "disability",
            5,
            vec![("no_condition", 7), ("limited_a_little", 2), ("limited_a_lot", 1)],
        ),
    ]
}

fn generate_sql(n: usize, postgres: bool) -> Vec<String> {
    let mut out = vec![
        "DROP TABLE IF EXISTS bench_acts".to_owned(),
        format!(
            "CREATE TABLE bench_acts AS SELECT id, ROW_NUMBER() OVER (ORDER BY opens_on, id) - 1 AS n FROM consultations \
             WHERE title <> 'Activity {ACTIVITIES}'"
        ),
    ];
    if postgres {
        out.push(format!(
            "INSERT INTO responses (id, consultation_id, channel, comments, idempotency_key, received_at, recorded_by) \
             SELECT md5('r' || i)::uuid, a.id, 'online', 'Comments ' || i, NULL, now(), NULL \
             FROM generate_series(0, {}) i JOIN bench_acts a ON a.n = i % {ACTIVITIES}",
            n - 1
        ));
        for (c, salt, keys) in characteristics() {
            out.push(format!(
                "INSERT INTO monitoring_answers (response_id, consultation_id, scheme, characteristic, category) \
                 SELECT md5('r' || i)::uuid, a.id, 'census2021@1', '{c}', {} \
                 FROM generate_series(0, {}) i JOIN bench_acts a ON a.n = i % {ACTIVITIES}",
                pick("i", salt, &keys),
                n - 1
            ));
        }
        out.push("VACUUM ANALYZE".into());
    } else {
        out.push(format!(
            "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {}) \
             INSERT INTO responses (id, consultation_id, channel, comments, idempotency_key, received_at, recorded_by) \
             SELECT randomblob(16), a.id, 'online', 'Comments ' || i, NULL, '2026-06-01T10:00:00+00:00', NULL \
             FROM s JOIN bench_acts a ON a.n = s.i % {ACTIVITIES}",
            n - 1
        ));
        for (c, salt, keys) in characteristics() {
            out.push(format!(
                "INSERT INTO monitoring_answers (response_id, consultation_id, scheme, characteristic, category) \
                 SELECT r.id, r.consultation_id, 'census2021@1', '{c}', {} FROM responses r",
                pick("r.rowid", salt, &keys)
            ));
        }
        out.push("ANALYZE".into());
    }
    out.push("DROP TABLE bench_acts".into());
    out
}

/// A literal list of ids for the naive queries.
fn id_list(ids: &[ConsultationId], postgres: bool) -> String {
    ids.iter()
        .map(|id| {
            if postgres {
                format!("'{}'::uuid", id.0)
            } else {
                format!("X'{}'", id.0.simple())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Pool {
    async fn execute(&self, sql: &str) {
        match self {
            Pool::Sqlite(p) => {
                p.execute(sql).await.unwrap();
            }
            Pool::Pg(p) => {
                p.execute(sql).await.unwrap();
            }
        }
    }

    async fn pairs(&self, sql: &str) -> Vec<(String, String)> {
        match self {
            Pool::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            Pool::Pg(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        }
    }

    async fn counted(&self, sql: &str) -> Vec<(String, String, i64)> {
        match self {
            Pool::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            Pool::Pg(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        }
    }
}

async fn report(store: &Store, ids: &[ConsultationId], scheme: &MonitoringScheme) -> consult_core::EqualityReport {
    let baseline = store.baseline(&[AreaCode::parse(AREA).unwrap()]).await.unwrap();
    let tally = consult_app::equality::tally(store, ids, scheme).await.unwrap();
    equality_report(scheme, &tally, &baseline, &ReportSettings::default(), true)
}

async fn median_of<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        f(i).await;
        times.push(t.elapsed());
    }
    times.sort();
    percentile(&times, 50.0)
}

async fn measure(label: &str, store: &Store, pool: Pool, n: usize, import_rows: usize, postgres: bool) {
    let now: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
    let activities = seed(store, now).await;
    let t = Instant::now();
    for sql in generate_sql(n, postgres) {
        pool.execute(&sql).await;
    }
    let load = t.elapsed();
    let scheme = MonitoringScheme::census2021().unwrap();
    let registered = &activities[..ACTIVITIES];
    let year: Vec<ConsultationId> = registered
        .iter()
        .filter(|c| chrono::Datelike::year(&c.plan.opens_on()) == 2025)
        .map(|c| c.id)
        .collect();

    let one = median_of(21, |i| {
        let id = registered[i * 97 % ACTIVITIES].id;
        let (store, scheme) = (store, &scheme);
        async move {
            let r = report(store, &[id], scheme).await;
            assert!(r.respondents > 0);
        }
    })
    .await;
    let year_report = report(store, &year, &scheme).await;
    let year_time = median_of(5, |_| {
        let (store, scheme, year) = (store, &scheme, &year);
        async move {
            report(store, year, scheme).await;
        }
    })
    .await;

    // Naive routes, same activities: every answer row loaded and counted in the application;
    // and the GROUP BY joined through responses (no covering index), as the first version did.
    let list = id_list(&year, postgres);
    let naive_load = median_of(3, |_| {
        let (pool, list) = (&pool, &list);
        let sql = format!(
            "SELECT m.characteristic, m.category FROM monitoring_answers m JOIN responses r ON r.id = m.response_id \
             WHERE r.consultation_id IN ({list})"
        );
        async move {
            let rows = pool.pairs(&sql).await;
            let mut counts: HashMap<(String, String), u64> = HashMap::new();
            for row in rows {
                *counts.entry(row).or_default() += 1;
            }
            assert!(!counts.is_empty());
        }
    })
    .await;
    let naive_join = median_of(3, |_| {
        let (pool, list) = (&pool, &list);
        let sql = format!(
            "SELECT m.characteristic, m.category, COUNT(*) FROM monitoring_answers m JOIN responses r ON r.id = m.response_id \
             WHERE r.consultation_id IN ({list}) GROUP BY m.characteristic, m.category"
        );
        async move {
            assert!(!pool.counted(&sql).await.is_empty());
        }
    })
    .await;
    let sex_female = year_report
        .characteristics
        .iter()
        .find(|c| c.characteristic == "sex")
        .and_then(|c| c.categories.iter().find(|k| k.category == "female"))
        .and_then(|k| k.respondents)
        .unwrap_or(0);

    // Import a survey export through the CLI's path: read the CSV, check every row, store all.
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("export.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv_path).unwrap());
        writeln!(
            f,
            "Respondent,Your views,What is your sex?,Age,Ethnicity,Religion,Disability"
        )
        .unwrap();
        let ages = [
            "16 to 24",
            "25 to 34",
            "35 to 44",
            "45 to 54",
            "55 to 64",
            "65 to 74",
            "75 and over",
        ];
        for i in 0..import_rows {
            writeln!(
                f,
                "{i},\"Keep the library open, please ({i})\",{},{},{},{},{}",
                if i % 2 == 0 { "Female" } else { "Male" },
                ages[i % ages.len()],
                if i % 10 == 0 { "Indian" } else { "White British" },
                if i % 3 == 0 { "No religion" } else { "Christian" },
                if i % 5 == 0 {
                    "Prefer not to say"
                } else {
                    "no_condition"
                },
            )
            .unwrap();
        }
    }
    let mapping = ColumnMapping {
        comments: Some("Your views".into()),
        channel: None,
        columns: BTreeMap::from([
            ("sex".to_owned(), "What is your sex?".to_owned()),
            ("age_band".to_owned(), "Age".to_owned()),
            ("ethnic_group".to_owned(), "Ethnicity".to_owned()),
            ("religion".to_owned(), "Religion".to_owned()),
            ("disability".to_owned(), "Disability".to_owned()),
        ]),
        values: BTreeMap::new(),
        area: None,
        questions: BTreeMap::new(),
    };
    let target = activities[ACTIVITIES].id;
    let t = Instant::now();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let read = t.elapsed();
    let (responses, skipped) = import_responses(
        &scheme,
        None,
        &consult_core::AreaHierarchy::new([]),
        &mapping,
        &header,
        &rows,
        target,
        "bench",
        now,
        ImportMode::AllOrNothing,
        Uuid::now_v7,
    )
    .unwrap();
    assert!(skipped.is_empty());
    let checked = t.elapsed() - read;
    store.insert_responses(&responses).await.unwrap();
    let import = t.elapsed();
    let stored = store.response_counts(&[target]).await.unwrap()[&target];
    assert_eq!(stored, import_rows as u64);
    let big = median_of(3, |_| {
        let (store, scheme) = (store, &scheme);
        async move {
            report(store, &[target], scheme).await;
        }
    })
    .await;

    println!(
        "| {label}: equality report for one activity, {n} responses with 5 answers each in the store | p50 {} | < 300 ms | {} activities of about {} responses; data generated in {:.0} s |",
        ms(one),
        ACTIVITIES,
        n / ACTIVITIES,
        load.as_secs_f64()
    );
    println!(
        "| {label}: equality report for a year of {} activities ({} respondents) | p50 {} | < 1 s | naive: loading every answer and counting in the application p50 {} ({:.0}x slower); GROUP BY joined through responses p50 {} ({:.0}x slower); {sex_female} women counted |",
        year.len(),
        year_report.respondents,
        ms(year_time),
        ms(naive_load),
        naive_load.as_secs_f64() / year_time.as_secs_f64().max(1e-9),
        ms(naive_join),
        naive_join.as_secs_f64() / year_time.as_secs_f64().max(1e-9),
    );
    println!(
        "| {label}: import of a {import_rows}-row survey export (CSV, 5 monitoring columns), all or nothing | {:.1} s | < 60 s | read {:.1} s, checked {:.1} s, stored in one transaction {:.1} s; then the report for that activity p50 {} |",
        import.as_secs_f64(),
        read.as_secs_f64(),
        checked.as_secs_f64(),
        (import - read - checked).as_secs_f64(),
        ms(big)
    );
}

pub async fn run(n: usize, import_rows: usize, pg: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    measure("SQLite", &store, Pool::Sqlite(pool), n, import_rows, false).await;
    store.close().await;
    if let Some(url) = pg {
        let (store, schema) = testing::postgres_schema(url).await.unwrap();
        let pool = sqlx::PgPool::connect(&testing::postgres_url_with_schema(url, &schema))
            .await
            .unwrap();
        measure("PostgreSQL", &store, Pool::Pg(pool), n, import_rows, true).await;
        store.close().await;
        testing::drop_postgres_schema(url, &schema).await.unwrap();
    }
}

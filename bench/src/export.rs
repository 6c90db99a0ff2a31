//! Staff exports of 100,000 responses to a 20-question questionnaire (5 single choices, 5
//! scales, 2 rankings of 5, a grid of 5 statements, 7 free texts), as CSV and as xlsx, through
//! `App::export_responses` on SQLite and PostgreSQL: time and peak memory of the streamed way
//! against the naive way (every row collected first, the CSV built as one buffer, the workbook
//! in rust_xlsxwriter's normal in-memory mode), each in a child process of its own so that its
//! peak resident memory (`VmHWM`) is its own.
//!
//! The SQLite data set is built once, in `target/bench-data/`, and reused by later runs.

use chrono::{DateTime, Utc};
use consult_app::{App, ExportFormat};
use consult_core::{
    Actor, ConsultationId, ConsultationInput, ConsultationPlan, Organisation, OrganisationId, OrganisationInput,
    Questionnaire, QuestionnaireInput, Role,
    export::{Cell, RESPONSES_SHEET},
};
use consult_store::{Store, testing};
use serde_json::{Value, json};
use sqlx::Executor as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use uuid::Uuid;

/// The 200 MB peak memory target, in MiB.
const TARGET_MIB: f64 = 190.7;

fn admin() -> Actor {
    Actor {
        name: "bench".into(),
        role: Role::Admin,
        organisation: None,
        staff: None,
    }
}

fn options(prefix: &str, n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| json!({ "key": format!("{prefix}{i}"), "label": format!("Option {i} of {prefix}") }))
        .collect()
}

/// The questionnaire: 5 single choices (4 options, "other" on the first), 5 scales 1-5,
/// 2 rankings of 5, a grid of 5 statements and 7 free texts: 20 questions, 40 columns.
fn questionnaire() -> Questionnaire {
    let mut qs = Vec::new();
    for i in 1..=5 {
        qs.push(
            json!({ "key": format!("c{i}"), "type": "single_choice", "text": format!("Choice {i}?"),
            "other": i == 1, "options": options("o", 4) }),
        );
    }
    for i in 1..=5 {
        qs.push(
            json!({ "key": format!("s{i}"), "type": "scale", "text": format!("Scale {i}?"),
            "scale": { "min": 1, "max": 5 } }),
        );
    }
    for i in 1..=2 {
        qs.push(
            json!({ "key": format!("r{i}"), "type": "ranking", "text": format!("Rank {i}"),
            "options": options("p", 5) }),
        );
    }
    qs.push(json!({ "key": "g", "type": "grid", "text": "Agree?", "scale": { "min": 1, "max": 5 },
        "statements": (1..=5).map(|j| json!({ "key": format!("st{j}"), "text": format!("Statement {j}") })).collect::<Vec<_>>() }));
    for i in 1..=7 {
        qs.push(json!({ "key": format!("t{i}"), "type": "free_text", "text": format!("Tell us {i}") }));
    }
    let input: QuestionnaireInput =
        serde_json::from_value(json!({ "sections": [ { "title": "Survey", "questions": qs } ] })).unwrap();
    Questionnaire::parse(input).unwrap()
}

/// The statements that fill the response and answer rows, per backend: `ids` is the SQL of
/// the responses' ids and row numbers (`id`, `n`).
fn answer_sql(activity: &str, ids: &str) -> Vec<String> {
    let mut out = Vec::new();
    let insert = "INSERT INTO response_answers (response_id, consultation_id, question, item, number, text)";
    for i in 1..=5 {
        out.push(format!(
            "{insert} SELECT id, {activity}, 'c{i}', CASE (n * 7 + {i}) % 5 WHEN 0 THEN 'o1' WHEN 1 THEN 'o2' \
             WHEN 2 THEN 'o3' WHEN 3 THEN 'o4' ELSE '{}' END, NULL, {} FROM {ids}",
            if i == 1 { "other" } else { "o1" },
            if i == 1 {
                "CASE (n * 7 + 1) % 5 WHEN 4 THEN '=Something else ' || n ELSE NULL END"
            } else {
                "NULL"
            }
        ));
        out.push(format!(
            "{insert} SELECT id, {activity}, 's{i}', '', (n * 3 + {i}) % 5 + 1, NULL FROM {ids}"
        ));
    }
    for r in 1..=2 {
        for j in 1..=5 {
            out.push(format!(
                "{insert} SELECT id, {activity}, 'r{r}', 'p{j}', (n + {j} + {r}) % 5 + 1, NULL FROM {ids}"
            ));
        }
    }
    for j in 1..=5 {
        out.push(format!(
            "{insert} SELECT id, {activity}, 'g', 'st{j}', (n * {j} + 1) % 5 + 1, NULL FROM {ids}"
        ));
    }
    for t in 1..=7 {
        out.push(format!(
            "{insert} SELECT id, {activity}, 't{t}', '', NULL, \
             'Answer ' || n || ' to question {t}: the buses, the parking by the library, \"safer\" cycling, \
             and a bench, please.' FROM {ids}"
        ));
    }
    out
}

/// Builds the data set: an organisation, one activity with the questionnaire, `n` responses
/// and their answer rows, generated inside the database.
async fn build(store: &Store, url: &str, n: usize, postgres: bool) -> ConsultationId {
    let now: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
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
    let plan = ConsultationPlan::parse(
        ConsultationInput {
            organisation: Some("bench".into()),
            title: Some("Big survey".into()),
            level: Some("consult".into()),
            topics: vec!["parks".into()],
            audience: consult_core::AudienceInput {
                groups: vec!["residents".into()],
                areas: vec![],
                equality_groups: vec![],
            },
            opens_on: Some("2026-05-01".into()),
            closes_on: Some("2026-07-01".into()),
            ..Default::default()
        },
        snapshot.context(),
    )
    .unwrap();
    let activity = crate::generate::approved(org.id, plan, now);
    let id = activity.id;
    store.import_consultations(&[activity], &admin()).await.unwrap();
    store
        .save_questionnaire(
            &admin(),
            now,
            id,
            &questionnaire(),
            0,
            consult_store::QuestionnaireChange::Set,
        )
        .await
        .unwrap();
    let (activity, responses, ids) = if postgres {
        (
            format!("'{}'::uuid", id.0),
            format!(
                "INSERT INTO responses (id, consultation_id, channel, comments, idempotency_key, received_at, \
                 recorded_by, questionnaire_version) SELECT md5('r' || i)::uuid, '{}'::uuid, 'online', \
                 'Comments ' || i, NULL, now(), NULL, 1 FROM generate_series(0, {}) i",
                id.0,
                n - 1
            ),
            format!(
                "(SELECT md5('r' || i)::uuid AS id, i AS n FROM generate_series(0, {}) i) g",
                n - 1
            ),
        )
    } else {
        (
            format!("X'{}'", id.0.simple()),
            format!(
                "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {}) \
                 INSERT INTO responses (id, consultation_id, channel, comments, idempotency_key, received_at, \
                 recorded_by, questionnaire_version) SELECT randomblob(16), X'{}', 'online', 'Comments ' || i, NULL, \
                 '2026-06-01T10:00:00+00:00', NULL, 1 FROM s",
                n - 1,
                id.0.simple()
            ),
            "(SELECT id, rowid AS n FROM responses) g".to_owned(),
        )
    };
    let mut statements = vec![responses];
    statements.extend(answer_sql(&activity, &ids));
    statements.push(if postgres { "VACUUM ANALYZE" } else { "ANALYZE" }.into());
    if postgres {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for sql in statements {
            pool.execute(sql.as_str()).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for sql in statements {
            pool.execute(sql.as_str()).await.unwrap();
        }
        pool.close().await;
    }
    id
}

/// One export in this process (the child): prints seconds, peak MiB and bytes written.
pub fn child(url: &str, activity: &str, format: &str, naive: bool, out: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let id = ConsultationId(Uuid::parse_str(activity).unwrap());
    let format = ExportFormat::parse(Some(format)).unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        let store = Store::connect(url).await.unwrap();
        let app = App::one_off(store.clone());
        let mut export = app.export_responses(&admin(), id, format).await.unwrap();
        let file = std::fs::File::create(out).unwrap();
        match (format, naive) {
            (ExportFormat::Csv, false) => {
                let mut w = std::io::BufWriter::new(file);
                export.write_csv(&mut w).await.unwrap();
            }
            (ExportFormat::Xlsx, false) => {
                export.write_xlsx(file).await.unwrap();
            }
            (_, true) => {
                let columns: Vec<String> = export.layout().header().map(str::to_owned).collect();
                let mut rows = Vec::new();
                while let Some(page) = export.next_page().await.unwrap() {
                    rows.extend(page.into_iter().map(|r| r.cells));
                }
                if format == ExportFormat::Csv {
                    let mut w = csv::Writer::from_writer(Vec::new());
                    w.write_record(&columns).unwrap();
                    for row in &rows {
                        w.write_record(row.iter().map(naive_text)).unwrap();
                    }
                    let buffer = w.into_inner().unwrap();
                    let mut file = file;
                    file.write_all(&buffer).unwrap();
                } else {
                    let mut book = rust_xlsxwriter::Workbook::new();
                    let sheet = book.add_worksheet();
                    sheet.set_name(RESPONSES_SHEET).unwrap();
                    for (c, k) in columns.iter().enumerate() {
                        sheet.write_string(0, c as u16, k).unwrap();
                    }
                    for (r, row) in rows.iter().enumerate() {
                        for (c, cell) in row.iter().enumerate() {
                            let (r, c) = (r as u32 + 1, c as u16);
                            match cell {
                                Cell::Number(n) => {
                                    sheet.write_number(r, c, *n).unwrap();
                                }
                                Cell::Empty => {}
                                other => {
                                    sheet.write_string(r, c, naive_text(other)).unwrap();
                                }
                            }
                        }
                    }
                    book.save_to_writer(file).unwrap();
                }
            }
        }
        store.close().await;
    });
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!("{} {} {bytes}", started.elapsed().as_secs_f64(), peak_mib());
}

fn naive_text(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(t) => t.clone(),
        Cell::Number(n) => n.to_string(),
        Cell::Date(d) => d.to_string(),
        Cell::Time(t) => t.to_rfc3339(),
    }
}

/// Peak resident set size of this process, in MiB (Linux `VmHWM`).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs one export in a child process: (seconds, peak MiB, bytes).
fn measure(url: &str, id: ConsultationId, format: &str, naive: bool, dir: &Path) -> (f64, f64, u64) {
    let out = dir.join(format!("export-{}.{format}", if naive { "naive" } else { "streamed" }));
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "export-child",
        url,
        &id.0.to_string(),
        format,
        if naive { "naive" } else { "streamed" },
    ])
    .arg(&out);
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "export child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    let mut next = || parts.next().unwrap().to_owned();
    let (secs, mib, bytes) = (next(), next(), next());
    let _ = std::fs::remove_file(&out);
    (secs.parse().unwrap(), mib.parse().unwrap(), bytes.parse().unwrap())
}

fn report(backend: &str, url: &str, id: ConsultationId, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    for format in ["csv", "xlsx"] {
        let (secs, mib, bytes) = measure(url, id, format, false, dir.path());
        let (naive_secs, naive_mib, _) = measure(url, id, format, true, dir.path());
        println!(
            "| {backend}: export of {n} responses (20 questions, 40 columns) as {format}, streamed | {secs:.1} s, \
             peak {mib:.0} MiB ({:.0} MB file) | peak < 200 MB | naive (every row in memory, {}): {naive_secs:.1} s, \
             peak {naive_mib:.0} MiB; {} |",
            bytes as f64 / 1e6,
            if format == "csv" {
                "the file built as one buffer"
            } else {
                "the workbook in memory"
            },
            if mib < TARGET_MIB { "met" } else { "NOT met" }
        );
    }
}

/// Where the SQLite data set of `n` responses is kept between runs.
fn sqlite_data(n: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("export-{n}.db"))
}

/// The export benchmark on SQLite (data set reused between runs) and, with `pg`, PostgreSQL.
pub async fn run(n: usize, pg: Option<&str>) {
    let path = sqlite_data(n);
    let url = format!("sqlite://{}", path.display());
    let ready = path.with_extension("ready");
    let id = match std::fs::read_to_string(&ready)
        .ok()
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
    {
        Some(id) if path.exists() => ConsultationId(id),
        _ => {
            let _ = std::fs::remove_file(&path);
            let store = Store::connect(&url).await.unwrap();
            let id = build(&store, &url, n, false).await;
            store.close().await;
            std::fs::write(&ready, id.0.to_string()).unwrap();
            id
        }
    };
    report("SQLite", &url, id, n);
    if let Some(pg) = pg {
        let (store, schema) = testing::postgres_schema(pg).await.unwrap();
        let url = testing::postgres_url_with_schema(pg, &schema);
        let id = build(&store, &url, n, true).await;
        store.close().await;
        report("PostgreSQL", &url, id, n);
        testing::drop_postgres_schema(pg, &schema).await.unwrap();
    }
}

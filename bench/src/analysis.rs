//! Questionnaires at scale (issue 16), on SQLite and PostgreSQL: the analysis and a
//! cross-tabulation of one 100,000-response activity among 1,000,000 responses to a 20-question
//! questionnaire, against loading every answer row and counting in the application; the import
//! of a survey export with 20 mapped questions; theme suggestions over 20,000 free-text answers
//! against a naive all-pairs clustering.
//!
//! The generated store is kept between runs (a SQLite file under `target/bench-data`, a
//! PostgreSQL schema named after the sizes) and reused when its generation finished: the data
//! are the same each time (a seeded generator), and generating 23 million answer rows is most of
//! the run. Delete the file or `DROP SCHEMA bench_analysis_... CASCADE` to generate afresh.

use crate::generate::Rng;
use crate::{ms, percentile};
use chrono::{DateTime, Utc};
use consult_app::{App, FixedClock};
use consult_core::{
    Actor, Analysis, AnswerRow, Area, AreaCode, AudienceInput, CheckedAnswers, ColumnMapping, ConsultationId,
    ConsultationInput, ConsultationPlan, ImportMode, Organisation, OrganisationId, OrganisationInput, QuestionColumns,
    QuestionMapping, Questionnaire, QuestionnaireInput, Response, ResponseChannel, Role, suggest_themes,
};
use consult_store::{QuestionnaireChange, Store, testing};
use serde_json::json;
use sqlx::Executor;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Bump when the generated data change, so a kept store of the old shape is not reused.
const DATA_VERSION: u32 = 2;
/// Responses stored per `insert_responses` call while generating.
const BATCH: usize = 5000;
/// Responses of each other activity.
const PER_OTHER: usize = 25_000;
/// The share of respondents answering the first free-text question (one in five).
const FIRST_TEXT_EVERY: usize = 5;

fn admin() -> Actor {
    Actor {
        name: "bench".into(),
        role: Role::Admin,
        organisation: None,
        staff: None,
    }
}

fn now() -> DateTime<Utc> {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

const SINGLE: [(&str, &[&str]); 3] = [
    (
        "service",
        &["library", "park", "leisure_centre", "museum", "tip", "none"],
    ),
    ("how_often", &["daily", "weekly", "monthly", "yearly", "never"]),
    ("travel", &["walk", "cycle", "bus", "car", "train"]),
];
const MULTIPLE: [(&str, &[&str]); 2] = [
    (
        "priorities",
        &["roads", "bins", "parks", "libraries", "care", "housing"],
    ),
    ("heard", &["website", "newspaper", "social_media", "letter", "friend"]),
];
const SCALES: [&str; 5] = ["satisfied", "value", "informed", "trust", "influence"];
const RANKINGS: [(&str, &[&str]); 2] = [
    ("spend", &["potholes", "lighting", "buses", "youth"]),
    ("cuts", &["opening_hours", "grass_cutting", "events"]),
];
const GRID: (&str, &[&str]) = ("agree", &["safe", "clean", "friendly", "accessible", "good_value"]);
const TEXTS: [&str; 7] = [
    "improve",
    "worked_well",
    "missing",
    "impact",
    "alternatives",
    "other_views",
    "anything_else",
];

/// The 20-question questionnaire: 5 choice (3 single, 2 multiple, each with "other"), 5 scales,
/// 2 rankings, 1 grid of 5 statements, 7 free text.
fn questionnaire() -> Questionnaire {
    let opts = |keys: &[&str]| -> Vec<serde_json::Value> {
        keys.iter().map(|k| json!({ "key": k, "label": label(k) })).collect()
    };
    let mut choice = Vec::new();
    for (key, keys) in SINGLE {
        choice.push(
            json!({ "key": key, "type": "single_choice", "text": label(key), "other": true,
                            "options": opts(keys) }),
        );
    }
    for (key, keys) in MULTIPLE {
        choice.push(
            json!({ "key": key, "type": "multiple_choice", "text": label(key), "other": true,
                            "max_choices": 3, "options": opts(keys) }),
        );
    }
    let scales: Vec<_> = SCALES
        .iter()
        .map(|key| {
            json!({ "key": key, "type": "scale", "text": label(key),
                    "scale": { "min": 1, "max": 5, "min_label": "Not at all", "max_label": "Very" } })
        })
        .collect();
    let mut ranked: Vec<_> = RANKINGS
        .iter()
        .map(|(key, keys)| json!({ "key": key, "type": "ranking", "text": label(key), "options": opts(keys) }))
        .collect();
    ranked.push(json!({ "key": GRID.0, "type": "grid", "text": label(GRID.0), "scale": { "min": 1, "max": 5 },
                        "statements": GRID.1.iter().map(|k| json!({ "key": k, "text": label(k) })).collect::<Vec<_>>() }));
    let texts: Vec<_> = TEXTS
        .iter()
        .map(|key| json!({ "key": key, "type": "free_text", "text": label(key), "max_length": 2000 }))
        .collect();
    let input: QuestionnaireInput = serde_json::from_value(json!({ "sections": [
        { "title": "Using our services", "questions": choice },
        { "title": "What you think", "questions": scales },
        { "title": "Priorities", "questions": ranked },
        { "title": "In your own words", "questions": texts },
    ] }))
    .unwrap();
    Questionnaire::parse(input).unwrap()
}

fn label(key: &str) -> String {
    let s = key.replace('_', " ");
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Weighted pick of an index: earlier items more likely (weights n, n-1, ..., 1).
fn skewed(rng: &mut Rng, n: usize) -> usize {
    let total = n * (n + 1) / 2;
    let mut r = rng.below(total);
    for i in 0..n {
        let w = n - i;
        if r < w {
            return i;
        }
        r -= w;
    }
    n - 1
}

const SUBJECTS: &[&[&str]] = &[
    &[
        "the car park charges are too high",
        "parking near the centre costs too much",
        "more parking spaces for blue badge holders",
    ],
    &[
        "longer opening hours in the evenings",
        "open the library on Sunday afternoons",
        "opening hours do not suit people who work",
    ],
    &[
        "the public toilets need cleaning more often",
        "toilets in the park are always locked",
        "keep the toilets open later",
    ],
    &[
        "dog fouling on the paths is disgusting",
        "more dog bins and fines for dog fouling",
        "owners do not pick up after their dogs",
    ],
    &[
        "the play area equipment is broken",
        "new swings for the children's play area",
        "a safer play area for younger children",
    ],
    &[
        "street lighting on the footpaths is too dark",
        "the paths feel unsafe after dark without lighting",
        "fix the broken street lights",
    ],
    &[
        "buses are unreliable and often late",
        "the evening bus service was cut",
        "cheaper bus fares for young people",
    ],
    &[
        "potholes on residential roads damage cars",
        "repair the potholes before winter",
        "roads are full of potholes",
    ],
    &[
        "staff at the leisure centre were helpful",
        "friendly staff but long queues",
        "not enough staff at the reception desk",
    ],
    &[
        "council tax keeps going up",
        "council tax is too high for what we get",
        "freeze council tax this year",
    ],
];
const OPENERS: &[&str] = &[
    "",
    "I think ",
    "Please note ",
    "In my view ",
    "Honestly, ",
    "As a resident ",
    "My main concern: ",
];
const CLOSERS: &[&str] = &[
    "",
    ".",
    " at weekends.",
    " for families.",
    " especially in winter.",
    " as soon as possible.",
    " in Tamworth.",
    " near the high street.",
];

/// A free-text answer: one subject (sometimes two) in a resident's words.
fn answer_text(rng: &mut Rng) -> String {
    let s = skewed(rng, SUBJECTS.len());
    let subject = SUBJECTS[s];
    let mut text = format!(
        "{}{}",
        OPENERS[rng.below(OPENERS.len())],
        subject[rng.below(subject.len())]
    );
    if rng.below(4) == 0 {
        text.push_str(" and ");
        let other = SUBJECTS[rng.below(SUBJECTS.len())];
        text.push_str(other[rng.below(other.len())]);
    }
    text.push_str(CLOSERS[rng.below(CLOSERS.len())]);
    text
}

const SEX: &[&str] = &["female", "female", "female", "male", "male", "prefer_not_to_say"];
const AGE: &[&str] = &[
    "16-24", "25-34", "35-44", "35-44", "45-54", "55-64", "55-64", "65-74", "75+",
];
const ETHNIC: &[&str] = &[
    "white_british",
    "white_british",
    "white_british",
    "white_british",
    "indian",
    "other_white",
];
const RELIGION: &[&str] = &[
    "christian",
    "christian",
    "no_religion",
    "no_religion",
    "muslim",
    "hindu",
];
const DISABILITY: &[&str] = &[
    "no_condition",
    "no_condition",
    "no_condition",
    "limited_a_little",
    "limited_a_lot",
];

/// The answer rows of response `i` (its questionnaire-shaped answers, from a seeded generator).
fn answer_rows(i: usize, rng: &mut Rng) -> Vec<AnswerRow> {
    let row = |q: &str, item: Option<&str>, number: Option<f64>, text: Option<String>| AnswerRow {
        question: q.to_owned(),
        item: item.map(str::to_owned),
        number,
        text,
    };
    let mut rows = Vec::with_capacity(28);
    for (q, keys) in SINGLE {
        if rng.below(50) == 0 {
            rows.push(row(q, Some("other"), None, Some("Something else".into())));
        } else {
            rows.push(row(q, Some(keys[skewed(rng, keys.len())]), None, None));
        }
    }
    for (q, keys) in MULTIPLE {
        let mut chosen: Vec<&str> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let k = keys[skewed(rng, keys.len())];
            if !chosen.contains(&k) {
                chosen.push(k);
            }
        }
        rows.extend(chosen.into_iter().map(|k| row(q, Some(k), None, None)));
    }
    for q in SCALES {
        if rng.below(20) != 0 {
            rows.push(row(q, None, Some((1 + skewed(rng, 5)) as f64), None));
        }
    }
    for (q, keys) in RANKINGS {
        if rng.below(10) != 0 {
            let mut order: Vec<&str> = keys.to_vec();
            for k in (1..order.len()).rev() {
                order.swap(k, rng.below(k + 1));
            }
            rows.extend(
                order
                    .iter()
                    .enumerate()
                    .map(|(r, k)| row(q, Some(k), Some((r + 1) as f64), None)),
            );
        }
    }
    if rng.below(10) != 0 {
        for s in GRID.1 {
            rows.push(row(GRID.0, Some(s), Some((1 + skewed(rng, 5)) as f64), None));
        }
    }
    if i.is_multiple_of(FIRST_TEXT_EVERY) {
        rows.push(row(TEXTS[0], None, None, Some(answer_text(rng))));
    }
    for q in &TEXTS[1..] {
        if rng.below(10) == 0 {
            rows.push(row(q, None, None, Some(answer_text(rng))));
        }
    }
    rows
}

/// The county every generated activity covers.
const COUNTY: &str = "E10000099";

/// The county, its eight districts, and a district of another county.
fn areas() -> Vec<Area> {
    let county = AreaCode::parse(COUNTY).unwrap();
    let mut out = vec![Area {
        code: county.clone(),
        name: "Bench County".into(),
        parent: None,
    }];
    for d in 1..=9u32 {
        out.push(Area {
            code: AreaCode::parse(&format!("E07{:06}", 990 + d)).unwrap(),
            name: format!("Bench District {d}"),
            parent: (d <= 8).then(|| county.clone()),
        });
    }
    out
}

/// A respondent's area: one of the county's districts mostly, another county's district one
/// time in twenty, none one time in ten.
fn respondent_area(rng: &mut Rng) -> Option<AreaCode> {
    match rng.below(20) {
        0 | 1 => None,
        2 => Some(AreaCode::parse("E07000999").unwrap()),
        _ => Some(AreaCode::parse(&format!("E07{:06}", 991 + rng.below(8))).unwrap()),
    }
}

fn monitoring(rng: &mut Rng) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (c, keys) in [
        ("sex", SEX),
        ("age_band", AGE),
        ("ethnic_group", ETHNIC),
        ("religion", RELIGION),
        ("disability", DISABILITY),
    ] {
        // One in twenty leaves a characteristic unanswered.
        if rng.below(20) != 0 {
            m.insert(c.to_owned(), (*rng.pick(keys)).to_owned());
        }
    }
    m
}

/// Where the generated store is kept, and how to reach it.
enum Kept {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Kept {
    async fn execute(&self, sql: &str) {
        match self {
            Kept::Sqlite(p) => {
                p.execute(sql).await.unwrap();
            }
            Kept::Pg(p) => {
                p.execute(sql).await.unwrap();
            }
        }
    }

    async fn meta(&self) -> HashMap<String, String> {
        self.execute("CREATE TABLE IF NOT EXISTS bench_analysis_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
            .await;
        let sql = "SELECT k, v FROM bench_analysis_meta";
        let rows: Vec<(String, String)> = match self {
            Kept::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            Kept::Pg(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        };
        rows.into_iter().collect()
    }

    async fn set_meta(&self, k: &str, v: &str) {
        let sql = "INSERT INTO bench_analysis_meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v";
        match self {
            Kept::Sqlite(p) => {
                sqlx::query(sql).bind(k).bind(v).execute(p).await.unwrap();
            }
            Kept::Pg(p) => {
                sqlx::query(sql).bind(k).bind(v).execute(p).await.unwrap();
            }
        }
    }

    /// Deletes an activity's responses (the import's target, emptied before and after).
    async fn clear(&self, id: ConsultationId) {
        for table in ["response_answers", "monitoring_answers", "responses", "answer_tallies"] {
            let sql = format!("DELETE FROM {table} WHERE consultation_id = $1");
            match self {
                Kept::Sqlite(p) => {
                    sqlx::query(&sql).bind(id.0).execute(p).await.unwrap();
                }
                Kept::Pg(p) => {
                    sqlx::query(&sql).bind(id.0).execute(p).await.unwrap();
                }
            }
        }
    }

    /// Every answer row of an activity, as the naive way reads them: the columns counting needs.
    async fn answer_rows(&self, id: ConsultationId) -> Vec<(Uuid, String, String, Option<f64>)> {
        let sql = "SELECT response_id, question, item, number FROM response_answers WHERE consultation_id = $1";
        match self {
            Kept::Sqlite(p) => sqlx::query_as(sql).bind(id.0).fetch_all(p).await.unwrap(),
            Kept::Pg(p) => sqlx::query_as(sql).bind(id.0).fetch_all(p).await.unwrap(),
        }
    }

    /// Each response's group for a breakdown: its category for a characteristic, or its area
    /// for `area` (responses without one left out, as without an answer).
    async fn categories(&self, id: ConsultationId, characteristic: &str) -> Vec<(Uuid, String)> {
        let sql = if characteristic == "area" {
            "SELECT id, area FROM responses WHERE consultation_id = $1 AND area IS NOT NULL AND $2 = 'area'"
        } else {
            "SELECT response_id, category FROM monitoring_answers WHERE consultation_id = $1 AND characteristic = $2"
        };
        match self {
            Kept::Sqlite(p) => sqlx::query_as(sql)
                .bind(id.0)
                .bind(characteristic)
                .fetch_all(p)
                .await
                .unwrap(),
            Kept::Pg(p) => sqlx::query_as(sql)
                .bind(id.0)
                .bind(characteristic)
                .fetch_all(p)
                .await
                .unwrap(),
        }
    }

    async fn response_ids(&self, id: ConsultationId) -> Vec<Uuid> {
        let sql = "SELECT id FROM responses WHERE consultation_id = $1";
        let rows: Vec<(Uuid,)> = match self {
            Kept::Sqlite(p) => sqlx::query_as(sql).bind(id.0).fetch_all(p).await.unwrap(),
            Kept::Pg(p) => sqlx::query_as(sql).bind(id.0).fetch_all(p).await.unwrap(),
        };
        rows.into_iter().map(|r| r.0).collect()
    }
}

/// The activities of a generated store: the one of `big` responses, the import's target.
struct Setup {
    big: ConsultationId,
    import: ConsultationId,
    /// How long generating took, when this run generated it.
    generated: Option<Duration>,
    rows: u64,
}

async fn setup(store: &Store, kept: &Kept, n: usize, big: usize) -> Setup {
    let meta = kept.meta().await;
    if meta.get("complete").map(String::as_str) == Some("yes") {
        let id = |k: &str| ConsultationId(meta[k].parse().unwrap());
        return Setup {
            big: id("big"),
            import: id("import"),
            generated: None,
            rows: meta["rows"].parse().unwrap(),
        };
    }
    let started = Instant::now();
    let at = now();
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
    store.create_organisation(&org, &admin(), at).await.unwrap();
    for area in areas() {
        store.create_area(&area, &admin(), at).await.unwrap();
    }
    let snapshot = store.register_snapshot().await.unwrap();
    // The big activity, the others (25,000 responses each), and the import's target: all open
    // now (an import needs an open or recently closed activity).
    let others = (n.saturating_sub(big)).div_ceil(PER_OTHER);
    let activities: Vec<_> = (0..others + 2)
        .map(|k| {
            let plan = ConsultationPlan::parse(
                ConsultationInput {
                    organisation: Some("bench".into()),
                    title: Some(match k {
                        0 => "Budget survey".to_owned(),
                        1 => "Survey export".to_owned(),
                        k => format!("Service survey {k}"),
                    }),
                    level: Some("consult".into()),
                    topics: vec!["budget".into()],
                    audience: AudienceInput {
                        areas: vec![COUNTY.into()],
                        ..Default::default()
                    },
                    opens_on: Some("2026-11-01".into()),
                    closes_on: Some("2026-12-31".into()),
                    ..Default::default()
                },
                snapshot.context(),
            )
            .unwrap();
            crate::generate::approved(org.id, plan, at)
        })
        .collect();
    store.import_consultations(&activities, &admin()).await.unwrap();
    let q = questionnaire();
    for a in &activities {
        store
            .save_questionnaire(&admin(), at, a.id, &q, 0, QuestionnaireChange::Set)
            .await
            .unwrap();
    }
    let mut rng = Rng::new(16);
    let mut rows = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    let targets =
        std::iter::repeat_n(activities[0].id, big).chain((0..n - big).map(|i| activities[2 + i / PER_OTHER].id));
    for (i, cid) in targets.enumerate() {
        let answer_rows = answer_rows(i, &mut rng);
        rows += answer_rows.len() as u64;
        batch.push(Response {
            id: Uuid::now_v7(),
            consultation_id: cid,
            channel: ResponseChannel::Online,
            comments: None,
            monitoring: monitoring(&mut rng),
            scheme: "census2021@1".into(),
            received_at: at,
            recorded_by: None,
            questionnaire_version: Some(1),
            answers: CheckedAnswers::from_rows(&q, &answer_rows),
            area: respondent_area(&mut rng),
            results_notice: None,
        });
        if batch.len() == BATCH {
            store.insert_responses(&batch).await.unwrap();
            batch.clear();
        }
    }
    store.insert_responses(&batch).await.unwrap();
    match kept {
        Kept::Sqlite(_) => kept.execute("ANALYZE").await,
        Kept::Pg(_) => kept.execute("VACUUM ANALYZE").await,
    }
    kept.set_meta("big", &activities[0].id.0.to_string()).await;
    kept.set_meta("import", &activities[1].id.0.to_string()).await;
    kept.set_meta("rows", &rows.to_string()).await;
    kept.set_meta("complete", "yes").await;
    Setup {
        big: activities[0].id,
        import: activities[1].id,
        generated: Some(started.elapsed()),
        rows,
    }
}

/// Times `runs` calls; sorted.
async fn timed<F, Fut, T>(runs: usize, mut f: F) -> (Vec<Duration>, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f().await);
        times.push(t.elapsed());
    }
    times.sort();
    (times, last.unwrap())
}

/// The naive analysis: every answer row loaded, counted in the application (answer rows by
/// question, item and number; respondents answering each question). With `by`, each response's
/// category is loaded too and everything is counted per group.
async fn naive_counts(
    kept: &Kept,
    id: ConsultationId,
    by: Option<&str>,
) -> HashMap<String, (HashMap<(String, String, u64), u64>, HashMap<String, u64>)> {
    let group: HashMap<Uuid, String> = match by {
        Some(c) => kept.categories(id, c).await.into_iter().collect(),
        None => HashMap::new(),
    };
    let rows = kept.answer_rows(id).await;
    type Counting = (HashMap<(String, String, u64), u64>, HashSet<(String, Uuid)>);
    let mut out: HashMap<String, Counting> = HashMap::new();
    for (response, question, item, number) in rows {
        let g = match by {
            Some(_) => group
                .get(&response)
                .cloned()
                .unwrap_or_else(|| consult_store::NOT_ANSWERED.to_owned()),
            None => String::new(),
        };
        let (cells, answered) = out.entry(g).or_default();
        answered.insert((question.clone(), response));
        *cells
            .entry((question, item, number.map_or(u64::MAX, f64::to_bits)))
            .or_default() += 1;
    }
    out.into_iter()
        .map(|(g, (cells, answered))| {
            let mut per: HashMap<String, u64> = HashMap::new();
            for (q, _) in answered {
                *per.entry(q).or_default() += 1;
            }
            (g, (cells, per))
        })
        .collect()
}

fn answered(a: &Analysis, key: &str) -> u64 {
    a.questions
        .iter()
        .find(|q| q.key == key)
        .and_then(|q| q.answered)
        .unwrap_or(0)
}

/// A survey export of `rows` rows: one column per question or question part (20 questions), the
/// survey tool's own words for options and scale points, five monitoring columns.
fn write_export(path: &std::path::Path, rows: usize) -> ColumnMapping {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut header: Vec<String> = vec!["Respondent".into()];
    let mut questions: BTreeMap<String, QuestionColumns> = BTreeMap::new();
    // Single choices: the option's label in one column, "other" text beside it.
    for (q, _) in SINGLE {
        header.push(label(q));
        header.push(format!("{} (other)", label(q)));
        questions.insert(
            q.into(),
            QuestionColumns::Mapped(QuestionMapping {
                column: Some(label(q)),
                other: Some(format!("{} (other)", label(q))),
                ..Default::default()
            }),
        );
    }
    // Multiple choices: the first as a column per option (ticked `1`), the second as one cell
    // of labels split by `;`.
    let (mq, mkeys) = MULTIPLE[0];
    for k in mkeys {
        header.push(format!("{}: {}", label(mq), label(k)));
    }
    questions.insert(
        mq.into(),
        QuestionColumns::Mapped(QuestionMapping {
            columns: mkeys
                .iter()
                .map(|k| ((*k).to_owned(), format!("{}: {}", label(mq), label(k))))
                .collect(),
            ..Default::default()
        }),
    );
    let (mq2, mkeys2) = MULTIPLE[1];
    header.push(label(mq2));
    questions.insert(
        mq2.into(),
        QuestionColumns::Mapped(QuestionMapping {
            column: Some(label(mq2)),
            values: mkeys2.iter().map(|k| (label(k), (*k).to_owned())).collect(),
            ..Default::default()
        }),
    );
    // Scales: words mapped to points.
    let words = [
        "Very dissatisfied",
        "Dissatisfied",
        "Neither",
        "Satisfied",
        "Very satisfied",
    ];
    for q in SCALES {
        header.push(label(q));
        questions.insert(
            q.into(),
            QuestionColumns::Mapped(QuestionMapping {
                column: Some(label(q)),
                values: words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| ((*w).to_owned(), (i + 1).to_string()))
                    .collect(),
                ..Default::default()
            }),
        );
    }
    // Rankings: the first as a rank column per option, the second as keys in order in one cell.
    let (rq, rkeys) = RANKINGS[0];
    for k in rkeys {
        header.push(format!("Rank {}", label(k)));
    }
    questions.insert(
        rq.into(),
        QuestionColumns::Mapped(QuestionMapping {
            columns: rkeys
                .iter()
                .map(|k| ((*k).to_owned(), format!("Rank {}", label(k))))
                .collect(),
            ..Default::default()
        }),
    );
    let (rq2, rkeys2) = RANKINGS[1];
    header.push(label(rq2));
    questions.insert(rq2.into(), QuestionColumns::Column(label(rq2)));
    // The grid: a column per statement.
    for s in GRID.1 {
        header.push(label(s));
    }
    questions.insert(
        GRID.0.into(),
        QuestionColumns::Mapped(QuestionMapping {
            columns: GRID.1.iter().map(|s| ((*s).to_owned(), label(s))).collect(),
            ..Default::default()
        }),
    );
    for q in TEXTS {
        header.push(label(q));
        questions.insert(q.into(), QuestionColumns::Column(label(q)));
    }
    let monitoring_columns = ["Sex", "Age", "Ethnicity", "Religion", "Disability"];
    header.extend(monitoring_columns.iter().map(|c| (*c).to_owned()));
    let mut w = csv::Writer::from_writer(&mut f);
    w.write_record(&header).unwrap();
    let mut rng = Rng::new(1616);
    for i in 0..rows {
        let mut rec: Vec<String> = vec![i.to_string()];
        for (_, keys) in SINGLE {
            if rng.below(50) == 0 {
                rec.push(String::new());
                rec.push("Something else".into());
            } else {
                rec.push(label(keys[skewed(&mut rng, keys.len())]));
                rec.push(String::new());
            }
        }
        let n = 1 + rng.below(3);
        for k in 0..mkeys.len() {
            rec.push(if (k + i) % mkeys.len() < n {
                "1".into()
            } else {
                String::new()
            });
        }
        let picked: Vec<String> = (0..1 + rng.below(2))
            .map(|k| label(mkeys2[(i + k * 2) % mkeys2.len()]))
            .collect();
        rec.push(picked.join(";"));
        for _ in SCALES {
            rec.push(if rng.below(20) == 0 {
                String::new()
            } else {
                words[skewed(&mut rng, 5)].to_owned()
            });
        }
        let shift = rng.below(rkeys.len());
        for k in 0..rkeys.len() {
            rec.push(((k + shift) % rkeys.len() + 1).to_string());
        }
        let shift2 = rng.below(rkeys2.len());
        let order: Vec<&str> = (0..rkeys2.len()).map(|k| rkeys2[(k + shift2) % rkeys2.len()]).collect();
        rec.push(order.join(";"));
        for _ in GRID.1 {
            rec.push((1 + skewed(&mut rng, 5)).to_string());
        }
        for (k, _) in TEXTS.iter().enumerate() {
            rec.push(if k == 0 && i.is_multiple_of(FIRST_TEXT_EVERY) || rng.below(10) == 0 {
                answer_text(&mut rng)
            } else {
                String::new()
            });
        }
        rec.push(if i % 2 == 0 { "Female" } else { "Male" }.into());
        rec.push(
            [
                "16 to 24",
                "25 to 34",
                "35 to 44",
                "45 to 54",
                "55 to 64",
                "65 to 74",
                "75 and over",
            ][i % 7]
                .into(),
        );
        rec.push(if i % 10 == 0 { "Indian" } else { "White British" }.into());
        rec.push(if i % 3 == 0 { "No religion" } else { "Christian" }.into());
        rec.push(
            if i % 5 == 0 {
                "Prefer not to say"
            } else {
                "no_condition"
            }
            .into(),
        );
        w.write_record(&rec).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    f.flush().unwrap();
    ColumnMapping {
        comments: None,
        channel: None,
        area: None,
        columns: [
            ("sex", "Sex"),
            ("age_band", "Age"),
            ("ethnic_group", "Ethnicity"),
            ("religion", "Religion"),
            ("disability", "Disability"),
        ]
        .into_iter()
        .map(|(c, h)| (c.to_owned(), h.to_owned()))
        .collect(),
        values: BTreeMap::new(),
        questions,
    }
}

async fn measure(label: &str, store: &Store, kept: Kept, n: usize, big: usize, import_rows: usize) {
    let s = setup(store, &kept, n, big).await;
    kept.clear(s.import).await;
    let app = App::one_off(store.clone()).with_clock(FixedClock(now()));
    let staff = admin();
    let data = match s.generated {
        Some(d) => format!("generated in {:.0} s", d.as_secs_f64()),
        None => "kept from an earlier run".to_owned(),
    };

    // The analysis of the big activity, and the naive recount it must agree with.
    let _ = app.analysis(Some(&staff), s.big, None).await.unwrap();
    let (times, analysis) = timed(15, || app.analysis(Some(&staff), s.big, None)).await;
    let analysis = analysis.unwrap();
    assert_eq!(analysis.respondents, big as u64);
    let (naive_times, naive) = timed(1, || naive_counts(&kept, s.big, None)).await;
    let (_, per) = &naive[""];
    for q in analysis.questions.iter() {
        assert_eq!(q.answered, Some(per.get(&q.key).copied().unwrap_or(0)), "{}", q.key);
    }
    println!(
        "| {label}: analysis of one activity of {big} responses (20 questions: 5 choice, 5 scale, 2 ranking, a grid of 5, 7 free text), {n} responses and {} answer rows in the store: p50 / p95 | {} / {} | p50 < 300 ms | naive (every answer row of the activity loaded and counted in the application) {} ({:.1}x the analysis); same answered counts; data {data} |",
        s.rows,
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 95.0)),
        ms(percentile(&naive_times, 50.0)),
        percentile(&naive_times, 50.0).as_secs_f64() / percentile(&times, 50.0).as_secs_f64().max(1e-9),
    );

    // Cross-tabulated by sex.
    let (times, crossed) = timed(9, || app.analysis(Some(&staff), s.big, Some("sex"))).await;
    let crossed = crossed.unwrap();
    let (naive_times, naive) = timed(1, || naive_counts(&kept, s.big, Some("sex"))).await;
    let female = &naive["female"].1;
    let breakdown = crossed
        .questions
        .iter()
        .find(|q| q.key == SCALES[0])
        .and_then(|q| q.breakdown.as_ref())
        .and_then(|b| b.iter().find(|g| g.group == "female"))
        .and_then(|g| g.answered);
    assert_eq!(breakdown, female.get(SCALES[0]).copied());
    println!(
        "| {label}: cross-tabulation of that analysis by sex ({} groups) | p50 {} / p95 {} | < 500 ms | naive (answer rows and each response's category loaded, counted per group in the application) {} ({:.1}x) |",
        crossed.groups.as_ref().map_or(0, Vec::len),
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 95.0)),
        ms(percentile(&naive_times, 50.0)),
        percentile(&naive_times, 50.0).as_secs_f64() / percentile(&times, 50.0).as_secs_f64().max(1e-9),
    );

    // Cross-tabulated by area (the county's eight districts, elsewhere, not answered).
    let (times, crossed) = timed(9, || app.analysis(Some(&staff), s.big, Some("area"))).await;
    let crossed = crossed.unwrap();
    let (naive_times, naive) = timed(1, || naive_counts(&kept, s.big, Some("area"))).await;
    let district = "E07000991";
    let breakdown = crossed
        .questions
        .iter()
        .find(|q| q.key == SCALES[0])
        .and_then(|q| q.breakdown.as_ref())
        .and_then(|b| b.iter().find(|g| g.group == district))
        .and_then(|g| g.answered);
    assert_eq!(breakdown, naive[district].1.get(SCALES[0]).copied());
    println!(
        "| {label}: cross-tabulation of that analysis by area ({} groups: districts, elsewhere, not answered) | p50 {} / p95 {} | < 500 ms | naive (answer rows and each response's area loaded, counted per group in the application) {} ({:.1}x) |",
        crossed.groups.as_ref().map_or(0, Vec::len),
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 95.0)),
        ms(percentile(&naive_times, 50.0)),
        percentile(&naive_times, 50.0).as_secs_f64() / percentile(&times, 50.0).as_secs_f64().max(1e-9),
    );

    // Theme suggestions for the first free-text question through the application (reading the
    // uncoded answers and the coding progress from the store).
    let (times, list) = timed(5, || app.theme_suggestions(&staff, s.big, Some(TEXTS[0]))).await;
    let list = list.unwrap();
    assert_eq!(list.progress.total, (big / FIRST_TEXT_EVERY) as u64);
    println!(
        "| {label}: theme suggestions (GET .../themes/suggestions) for a free-text question with {} answers | p50 {} / max {} | < 5 s | {} suggestions covering {} answers |",
        list.progress.total,
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 100.0)),
        list.suggestions.len(),
        list.suggestions.iter().map(|s| s.responses.len()).sum::<usize>(),
    );

    // Import of a survey export with 20 mapped questions, through the application.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    let mapping = write_export(&path, import_rows);
    let t = Instant::now();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let read = t.elapsed();
    let mut checked_at = None;
    let (imported, skipped) = app
        .import_responses(
            &staff,
            s.import,
            &mapping,
            &header,
            &rows,
            ImportMode::AllOrNothing,
            |_| checked_at = Some(Instant::now()),
        )
        .await
        .unwrap();
    let total = t.elapsed();
    assert!(skipped.is_empty());
    assert_eq!(imported, import_rows);
    let checked = checked_at.unwrap().duration_since(t) - read;
    let after = app.analysis(Some(&staff), s.import, None).await.unwrap();
    assert_eq!(after.respondents, import_rows as u64);
    assert_eq!(answered(&after, GRID.0), import_rows as u64);
    assert_eq!(kept.response_ids(s.import).await.len(), import_rows);
    kept.clear(s.import).await;
    println!(
        "| {label}: import of a {import_rows}-row survey export (CSV, 20 mapped questions in 35 columns with value maps, 5 monitoring columns), all or nothing | {:.1} s | < 30 s | read {:.1} s, checked {:.1} s, stored in one transaction {:.1} s, into the store above |",
        total.as_secs_f64(),
        read.as_secs_f64(),
        checked.as_secs_f64(),
        (total - read - checked).as_secs_f64(),
    );
}

/// Words of an answer for the naive clustering: lower-case alphanumeric runs of 3+ letters.
fn words(text: &str) -> Vec<String> {
    let mut w: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3)
        .map(str::to_lowercase)
        .collect();
    w.sort();
    w.dedup();
    w
}

/// The naive way: the cosine similarity of every pair of answers' word sets; then, answers
/// with the most neighbours (similarity >= `threshold`) first, each answer not yet grouped
/// starts a group of its neighbours not yet grouped. Returns the groups of at least `min`.
fn naive_clusters(texts: &[&str], threshold: f64, min: usize) -> usize {
    let sets: Vec<Vec<String>> = texts.iter().map(|t| words(t)).collect();
    let mut neighbours: Vec<Vec<u32>> = vec![Vec::new(); sets.len()];
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            let (a, b) = (&sets[i], &sets[j]);
            if a.is_empty() || b.is_empty() {
                continue;
            }
            let (mut x, mut y, mut common) = (0, 0, 0usize);
            while x < a.len() && y < b.len() {
                match a[x].cmp(&b[y]) {
                    std::cmp::Ordering::Less => x += 1,
                    std::cmp::Ordering::Greater => y += 1,
                    std::cmp::Ordering::Equal => {
                        common += 1;
                        x += 1;
                        y += 1;
                    }
                }
            }
            if common as f64 / ((a.len() * b.len()) as f64).sqrt() >= threshold {
                neighbours[i].push(j as u32);
                neighbours[j].push(i as u32);
            }
        }
    }
    let mut order: Vec<usize> = (0..sets.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(neighbours[i].len()));
    let mut grouped = vec![false; sets.len()];
    let mut groups = 0;
    for i in order {
        if grouped[i] {
            continue;
        }
        grouped[i] = true;
        let mut size = 1;
        for &j in &neighbours[i] {
            if !grouped[j as usize] {
                grouped[j as usize] = true;
                size += 1;
            }
        }
        if size >= min {
            groups += 1;
        }
    }
    groups
}

/// Theme suggestions in memory (release, one core) against the naive all-pairs clustering on a
/// sample of the same answers, its time scaled by the number of pairs.
fn suggestions(answers: usize) {
    let mut rng = Rng::new(2016);
    let texts: Vec<String> = (0..answers).map(|_| answer_text(&mut rng)).collect();
    let ids: Vec<Uuid> = (0..answers).map(|i| Uuid::from_u64_pair(16, i as u64)).collect();
    let input: Vec<(Uuid, &str)> = ids.iter().copied().zip(texts.iter().map(String::as_str)).collect();
    let none = BTreeSet::new();
    let mut times = Vec::new();
    let mut found = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        found = suggest_themes(&input, &none, &none);
        times.push(t.elapsed());
    }
    times.sort();
    let sample = answers.min(5000);
    let refs: Vec<&str> = texts[..sample].iter().map(String::as_str).collect();
    let t = Instant::now();
    let groups = naive_clusters(&refs, 0.5, (sample / 100).max(2));
    let naive = t.elapsed();
    let pairs = |n: usize| (n * n.saturating_sub(1) / 2) as f64;
    let scaled = naive.as_secs_f64() * pairs(answers) / pairs(sample).max(1.0);
    let sampled = if sample < answers {
        format!(
            "on the first {sample} answers ({:.1} million pairs) {:.1} s, {groups} groups; scaled to {answers} answers ({:.0} million pairs) about {:.0} s, {:.0}x the suggestions",
            pairs(sample) / 1e6,
            naive.as_secs_f64(),
            pairs(answers) / 1e6,
            scaled,
            scaled / percentile(&times, 50.0).as_secs_f64().max(1e-9)
        )
    } else {
        format!(
            "{:.1} s, {groups} groups, {:.0}x the suggestions",
            naive.as_secs_f64(),
            scaled / percentile(&times, 50.0).as_secs_f64().max(1e-9)
        )
    };
    println!(
        "| Theme suggestions over {answers} free-text answers in memory (`suggest_themes`, one core): p50 / max | {} / {} | < 5 s | {} suggestions covering {} answers; naive all-pairs clustering (cosine of word sets >= 0.5; answers with most neighbours first take their neighbours; groups of 1% or more) {sampled} |",
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 100.0)),
        found.len(),
        found.iter().map(|s| s.responses.len()).sum::<usize>(),
    );
}

/// Where generated stores are kept between runs.
fn data_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("CONSULT_BENCH_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| "target".into())
                .join("bench-data")
        });
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn run(n: usize, big: usize, import_rows: usize, answers: usize, pg: Option<&str>) {
    assert!(big <= n, "--big must not exceed --responses");
    let name = format!("analysis_v{DATA_VERSION}_{n}_{big}");
    let path = data_dir().join(format!("{name}.db"));
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    measure("SQLite", &store, Kept::Sqlite(pool), n, big, import_rows).await;
    store.close().await;
    if let Some(url) = pg {
        let schema = format!("bench_{name}");
        let admin = sqlx::PgPool::connect(url).await.unwrap();
        admin
            .execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
            .await
            .unwrap();
        admin.close().await;
        let with_schema = testing::postgres_url_with_schema(url, &schema);
        let store = Store::connect(&with_schema).await.unwrap();
        let pool = sqlx::PgPool::connect(&with_schema).await.unwrap();
        measure("PostgreSQL", &store, Kept::Pg(pool), n, big, import_rows).await;
        store.close().await;
    }
    suggestions(answers);
}

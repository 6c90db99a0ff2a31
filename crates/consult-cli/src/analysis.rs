//! `consult analysis ID`: the analysis per question of an activity's answers.

use crate::{Format, Result, parse_id, print_json, print_rows};
use clap::Args;
use consult_app::App;
use consult_core::{Actor, Analysis, OptionCount, QuestionAnalysis, RankCount, StatementAnalysis, ValueCount};

/// `consult analysis ID [--format table|json|csv]`.
#[derive(Debug, Args)]
pub(crate) struct AnalysisArgs {
    /// The activity's id.
    id: String,
    /// Output format (json: the API's shape; table and csv: one row per option, point, ranked
    /// option or statement).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Break every question down by this monitoring characteristic (`age_band`, `sex`, ...).
    #[arg(long)]
    by: Option<String>,
}

fn num(x: Option<f64>) -> String {
    x.map(|x| x.to_string()).unwrap_or_default()
}

/// A count, empty when hidden.
fn count(x: Option<u64>) -> String {
    x.map(|x| x.to_string()).unwrap_or_default()
}

/// The parts of a question's analysis, for the whole activity or one group.
struct Parts<'a> {
    answered: Option<u64>,
    options: Option<&'a Vec<OptionCount>>,
    mean: Option<f64>,
    median: Option<f64>,
    distribution: Option<&'a Vec<ValueCount>>,
    ranking: Option<&'a Vec<RankCount>>,
    statements: Option<&'a Vec<StatementAnalysis>>,
}

/// One row per part of a question (for one group): question, type, group, answered, item,
/// count, share, mean, median.
fn part_rows(out: &mut Vec<Vec<String>>, q: &QuestionAnalysis, group: &str, p: Parts<'_>) {
    let head = [
        q.key.clone(),
        q.kind.as_str().to_owned(),
        group.to_owned(),
        count(p.answered),
    ];
    let row = |item: &str, count: String, share: String, mean: String, median: String| {
        let mut r = head.to_vec();
        r.extend([item.to_owned(), count, share, mean, median]);
        r
    };
    let before = out.len();
    for o in p.options.into_iter().flatten() {
        out.push(row(&o.key, count(o.count), num(o.share), String::new(), String::new()));
    }
    if p.mean.is_some() || p.distribution.is_some() {
        out.push(row("", String::new(), String::new(), num(p.mean), num(p.median)));
        for d in p.distribution.into_iter().flatten() {
            out.push(row(
                &d.value.to_string(),
                count(d.count),
                String::new(),
                String::new(),
                String::new(),
            ));
        }
    }
    for r in p.ranking.into_iter().flatten() {
        // For a ranking, `count` is the first choices and `mean` the average rank.
        out.push(row(
            &r.key,
            count(r.first),
            String::new(),
            num(r.mean_rank),
            String::new(),
        ));
    }
    for s in p.statements.into_iter().flatten() {
        out.push(row(
            &s.key,
            count(s.answered),
            String::new(),
            num(s.mean),
            num(s.median),
        ));
    }
    if out.len() == before {
        out.push(row("", String::new(), String::new(), String::new(), String::new()));
    }
}

/// One row per part of each question, for the whole activity (group `all`) and, with a
/// breakdown, for each group.
fn rows(a: &Analysis) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for q in &a.questions {
        let whole = Parts {
            answered: q.answered,
            options: q.options.as_ref(),
            mean: q.mean,
            median: q.median,
            distribution: q.distribution.as_ref(),
            ranking: q.ranking.as_ref(),
            statements: q.statements.as_ref(),
        };
        part_rows(&mut out, q, "all", whole);
        for g in q.breakdown.iter().flatten() {
            let parts = Parts {
                answered: g.answered,
                options: g.options.as_ref(),
                mean: g.mean,
                median: g.median,
                distribution: g.distribution.as_ref(),
                ranking: g.ranking.as_ref(),
                statements: g.statements.as_ref(),
            };
            part_rows(&mut out, q, &g.group, parts);
        }
    }
    out
}

/// Runs `consult analysis`.
pub(crate) async fn analysis(app: &App, args: AnalysisArgs, actor: &Actor) -> Result<()> {
    let id = parse_id(&args.id)?;
    let a = app.analysis(Some(actor), id, args.by.as_deref()).await?;
    match args.format {
        Format::Json => print_json(&a),
        f => {
            eprintln!("consult: {} respondents", a.respondents);
            print_rows(
                f,
                &[
                    "question", "type", "group", "answered", "item", "count", "share", "mean", "median",
                ],
                &rows(&a),
            )
        }
    }
}

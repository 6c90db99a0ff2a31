//! `consult analysis ID`: the analysis per question of an activity's answers.

use crate::{Format, Result, parse_id, print_json, print_rows};
use clap::Args;
use consult_app::App;
use consult_core::{Actor, Analysis};

/// `consult analysis ID [--format table|json|csv]`.
#[derive(Debug, Args)]
pub(crate) struct AnalysisArgs {
    /// The activity's id.
    id: String,
    /// Output format (json: the API's shape; table and csv: one row per option, point, ranked
    /// option or statement).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

fn num(x: Option<f64>) -> String {
    x.map(|x| x.to_string()).unwrap_or_default()
}

/// One row per part of each question: question, type, answered, item, count, share, mean,
/// median.
fn rows(a: &Analysis) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for q in &a.questions {
        let head = [q.key.clone(), q.kind.as_str().to_owned(), q.answered.to_string()];
        let row = |item: &str, count: String, share: String, mean: String, median: String| {
            let mut r = head.to_vec();
            r.extend([item.to_owned(), count, share, mean, median]);
            r
        };
        let before = out.len();
        for o in q.options.iter().flatten() {
            out.push(row(
                &o.key,
                o.count.to_string(),
                o.share.to_string(),
                String::new(),
                String::new(),
            ));
        }
        if q.mean.is_some() || q.distribution.is_some() {
            out.push(row("", String::new(), String::new(), num(q.mean), num(q.median)));
            for d in q.distribution.iter().flatten() {
                out.push(row(
                    &d.value.to_string(),
                    d.count.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                ));
            }
        }
        for r in q.ranking.iter().flatten() {
            // For a ranking, `count` is the first choices and `mean` the average rank.
            out.push(row(
                &r.key,
                r.first.to_string(),
                String::new(),
                num(r.mean_rank),
                String::new(),
            ));
        }
        for s in q.statements.iter().flatten() {
            out.push(row(
                &s.key,
                s.answered.to_string(),
                String::new(),
                num(s.mean),
                num(s.median),
            ));
        }
        if out.len() == before {
            out.push(row("", String::new(), String::new(), String::new(), String::new()));
        }
    }
    out
}

/// Runs `consult analysis`.
pub(crate) async fn analysis(app: &App, args: AnalysisArgs, actor: &Actor) -> Result<()> {
    let id = parse_id(&args.id)?;
    let a = app.analysis(actor, id).await?;
    match args.format {
        Format::Json => print_json(&a),
        f => {
            eprintln!("consult: {} respondents", a.respondents);
            print_rows(
                f,
                &[
                    "question", "type", "answered", "item", "count", "share", "mean", "median",
                ],
                &rows(&a),
            )
        }
    }
}

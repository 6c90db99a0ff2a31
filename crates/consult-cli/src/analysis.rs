//! `consult analysis ID`: the analysis per question of an activity's answers.

use crate::{Format, Result, parse_id, print_json, print_rows};
use clap::Args;
use consult_app::App;
use consult_app::analysis_render::{ANALYSIS_COLUMNS, analysis_rows};
use consult_core::Actor;

/// `consult analysis ID [--format table|json|csv]`.
#[derive(Debug, Args)]
pub(crate) struct AnalysisArgs {
    /// The activity's id.
    id: String,
    /// Output format (json: the API's shape; table and csv: the API's CSV, one row per
    /// question and per option, point, ranked option, statement or theme).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Break every question down by this monitoring characteristic (`age_band`, `sex`, ...).
    #[arg(long)]
    by: Option<String>,
}

/// Runs `consult analysis`.
pub(crate) async fn analysis(app: &App, args: AnalysisArgs, actor: &Actor) -> Result<()> {
    let id = parse_id(&args.id)?;
    let a = app.analysis(Some(actor), id, args.by.as_deref()).await?;
    match args.format {
        Format::Json => print_json(&a),
        f => {
            eprintln!("consult: {} respondents", a.respondents);
            print_rows(f, &ANALYSIS_COLUMNS, &analysis_rows(&a))
        }
    }
}

//! `consult overlap`: activities across the partnership that overlap one, registered or not.

use crate::{CliError, Format, Result, parse_id, print_json, print_rows};
use clap::Args;
use consult_app::App;
use consult_core::{Actor, Dismissal, OverlapFinding};
use std::path::PathBuf;

/// Arguments of `consult overlap`.
#[derive(Debug, Args)]
pub(crate) struct OverlapArgs {
    /// A registered activity's id.
    #[arg(conflicts_with = "file", required_unless_present = "file")]
    id: Option<String>,
    /// A plan file (TOML or JSON) to check against the register before registering it.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub(crate) async fn overlap(app: &App, args: OverlapArgs, actor: &Actor) -> Result<()> {
    let reviewed: Vec<(OverlapFinding, Option<Dismissal>)> = match (&args.id, &args.file) {
        (Some(id), _) => app
            .overlaps(actor, parse_id(id)?)
            .await?
            .into_iter()
            .map(|r| (r.finding, r.dismissal))
            .collect(),
        (None, Some(path)) => {
            let input = crate::checklist::read_plan(path)?;
            app.check_overlap(actor, input)
                .await?
                .into_iter()
                .map(|f| (f, None))
                .collect()
        }
        (None, None) => return Err(CliError::Input("give an id or --file".into())),
    };
    if args.format == Format::Json {
        let items: Vec<serde_json::Value> = reviewed
            .iter()
            .map(|(f, d)| {
                let mut v = serde_json::to_value(f).unwrap_or_default();
                v["dismissal"] = serde_json::to_value(d).unwrap_or_default();
                v
            })
            .collect();
        return print_json(&items);
    }
    let rows: Vec<Vec<String>> = reviewed
        .iter()
        .map(|(f, d)| {
            vec![
                format!("{:.2}", f.score),
                format!("{:.2}", f.subject),
                format!("{:.2}", f.audience),
                format!("{:.2}", f.time),
                serde_json::to_value(f.suggestion)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                f.organisation.to_string(),
                f.title.clone(),
                d.as_ref()
                    .map(|d| format!("dismissed: {}", d.reason))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    print_rows(
        args.format,
        &[
            "score",
            "subject",
            "audience",
            "time",
            "suggestion",
            "organisation",
            "title",
            "dismissed",
        ],
        &rows,
    )
}

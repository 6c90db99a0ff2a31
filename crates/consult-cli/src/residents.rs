//! Targeted invitations from the residents' register, fatigue findings, and the deletion of
//! registrations never verified.

use crate::{Format, Result, parse_id, print_json, print_rows};
use clap::Args;
use consult_app::App;
use consult_core::Actor;

/// Arguments of `consult invite`.
#[derive(Debug, Args)]
pub(crate) struct InviteArgs {
    /// Consultation id.
    id: String,
    /// Show the plan without recording any contact.
    #[arg(long)]
    dry_run: bool,
}

/// Arguments of `consult fatigue`.
#[derive(Debug, Args)]
pub(crate) struct FatigueArgs {
    /// Consultation id.
    id: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// `consult residents ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ResidentsCommand {
    /// Delete registrations left unverified for longer than the given days (the server does
    /// this hourly); prints how many were deleted.
    Purge {
        /// Days an unverified registration waits for its code.
        #[arg(long, env = "CONSULT_UNVERIFIED_DAYS", default_value_t = consult_app::DEFAULT_UNVERIFIED_DAYS,
            value_parser = clap::value_parser!(u32).range(1..=365))]
        unverified_days: u32,
    },
}

/// `consult residents purge [--unverified-days N]`.
pub(crate) async fn residents(app: &App, cmd: ResidentsCommand, actor: &Actor) -> Result<()> {
    match cmd {
        ResidentsCommand::Purge { unverified_days } => {
            let app = app.clone().with_unverified_days(unverified_days);
            let deleted = app.purge_unverified(actor).await?;
            print_json(&serde_json::json!({ "deleted": deleted, "unverified_days": unverified_days }))
        }
    }
}

/// `consult invite ID [--dry-run]`: counts, never people.
pub(crate) async fn invite(app: &App, args: InviteArgs, actor: &Actor) -> Result<()> {
    let invitations = app.invite(actor, parse_id(&args.id)?, args.dry_run).await?;
    print_json(&invitations.view(!args.dry_run))
}

/// `consult fatigue ID`.
pub(crate) async fn fatigue(app: &App, args: FatigueArgs, actor: &Actor) -> Result<()> {
    let findings = app.fatigue(actor, parse_id(&args.id)?).await?;
    if args.format == Format::Json {
        return print_json(&findings);
    }
    let rows: Vec<Vec<String>> = findings
        .iter()
        .map(|f| {
            vec![
                format!("{:?}", f.kind).to_lowercase(),
                f.rule.clone(),
                f.count.to_string(),
                f.detail.clone(),
            ]
        })
        .collect();
    print_rows(args.format, &["kind", "rule", "count", "detail"], &rows)
}

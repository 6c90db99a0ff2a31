//! After the event: "you said, we did", debriefs, the external evaluation sample, remarks, and
//! the annual review and quarterly updates.

use crate::{CliError, Format, Result, parse_id, print_json, print_rows};
use clap::{Args, Subcommand};
use consult_app::{App, ReviewScope};
use consult_core::{Actor, DebriefInput, FeedbackInput, Period};
use std::path::PathBuf;

/// Formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    Json,
    Csv,
    Html,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// The annual review of a year (T 6.5, O action 6): activities by level, service, method and
    /// area, you said / we did, what was not done and why, measures of success, who responded.
    Annual {
        /// The year.
        #[arg(long)]
        year: i32,
        /// One organisation (slug).
        #[arg(long)]
        organisation: Option<String>,
        /// A ward, division or other area (GSS code).
        #[arg(long)]
        area: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: ReportFormat,
    },
    /// The quarterly update for councillors (O action 25): the same review for a quarter,
    /// usually for a ward or division (--area).
    Quarterly {
        /// The year.
        #[arg(long)]
        year: i32,
        /// The quarter, 1 to 4.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4))]
        quarter: u32,
        /// One organisation (slug).
        #[arg(long)]
        organisation: Option<String>,
        /// A ward, division or other area (GSS code).
        #[arg(long)]
        area: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: ReportFormat,
    },
}

/// Arguments of `consult debrief`.
#[derive(Debug, Args)]
pub(crate) struct DebriefArgs {
    /// Consultation id.
    id: String,
    /// JSON file.
    #[arg(long)]
    file: PathBuf,
}

/// Arguments of `consult evaluation-sample`.
#[derive(Debug, Args)]
pub(crate) struct SampleArgs {
    /// The year.
    #[arg(long)]
    year: i32,
    /// Sample size.
    #[arg(long)]
    size: usize,
}

/// Arguments of `consult remarks`.
#[derive(Debug, Args)]
pub(crate) struct RemarksArgs {
    /// Consultation id.
    id: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// Arguments of `consult feedback`.
#[derive(Debug, Args)]
pub(crate) struct FeedbackArgs {
    /// Consultation id.
    id: String,
    /// JSON file.
    #[arg(long)]
    file: PathBuf,
    /// Publish it now.
    #[arg(long)]
    publish: bool,
}

/// `consult report annual|quarterly`.
pub(crate) async fn report(app: &App, cmd: ReportCommand) -> Result<()> {
    let (period, organisation, area, format) = match cmd {
        ReportCommand::Annual {
            year,
            organisation,
            area,
            format,
        } => (Period::year(year), organisation, area, format),
        ReportCommand::Quarterly {
            year,
            quarter,
            organisation,
            area,
            format,
        } => (Period::quarter(year, quarter), organisation, area, format),
    };
    let period = period.ok_or_else(|| CliError::Input("no such year or quarter".into()))?;
    let area = area
        .map(|a| consult_core::AreaCode::parse(&a).map_err(CliError::Input))
        .transpose()?;
    let scope = ReviewScope { organisation, area };
    let review = app.engagement_review(period, &scope).await?;
    match format {
        ReportFormat::Json => print_json(&review),
        ReportFormat::Csv => {
            let bytes = consult_app::render::review_csv(&review).map_err(|e| CliError::Failed(e.to_string()))?;
            print!("{}", String::from_utf8_lossy(&bytes));
            Ok(())
        }
        ReportFormat::Html => {
            println!("{}", consult_app::render::review_html(&review));
            Ok(())
        }
    }
}

/// `consult debrief ID --file F`.
pub(crate) async fn debrief(app: &App, args: DebriefArgs, actor: &Actor) -> Result<()> {
    let id = parse_id(&args.id)?;
    let input: DebriefInput = crate::json_file(&args.file)?;
    app.debrief(actor, id, input).await?;
    eprintln!("consult: debrief recorded for {id}");
    Ok(())
}

/// `consult evaluation-sample --year Y --size N`.
pub(crate) async fn sample(app: &App, args: SampleArgs, actor: &Actor) -> Result<()> {
    if args.size == 0 {
        return Err(CliError::Input("--size must be at least 1".into()));
    }
    let size = u32::try_from(args.size).map_err(|_| CliError::Input("--size is too large".into()))?;
    for e in app.draw_external_sample(actor, Some(args.year), Some(size)).await? {
        println!("{}\t{}", e.consultation_id, e.title);
    }
    Ok(())
}

/// `consult remarks ID`.
pub(crate) async fn remarks(app: &App, args: RemarksArgs, actor: &Actor) -> Result<()> {
    let remarks = app.remarks(actor, parse_id(&args.id)?).await?;
    if args.format == Format::Json {
        return print_json(&remarks);
    }
    let rows: Vec<Vec<String>> = remarks
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.kind.as_str().into(),
                r.status.as_str().into(),
                r.received_at.date_naive().to_string(),
                r.body.clone(),
            ]
        })
        .collect();
    print_rows(args.format, &["id", "kind", "status", "received", "body"], &rows)
}

/// `consult feedback ID --file F [--publish]`.
pub(crate) async fn feedback(app: &App, args: FeedbackArgs, actor: &Actor) -> Result<()> {
    let id = parse_id(&args.id)?;
    let mut input: FeedbackInput = crate::json_file(&args.file)?;
    input.publish |= args.publish;
    let (updated, _) = app.record_feedback(actor, id, &input).await?;
    eprintln!(
        "consult: feedback saved; {} is {}",
        updated.id,
        updated.status_on(app.today())
    );
    Ok(())
}

//! `consult`: run the register's server and administer it from the command line.
//!
//! Every command is one use case of [`consult_app::App`]; this file reads the command line and
//! dispatches to the module of its group. Exit codes: 0 success, 1 the operation failed, 2 bad
//! usage or input (one line on stderr).
#![forbid(unsafe_code)]

mod analysis;
mod checklist;
mod csv_register;
mod outbox;
mod output;
mod overlap;
mod plans;
mod questionnaire;
mod register;
mod residents;
mod responses;
mod results;
mod serve;
mod themes;
mod users;

use clap::{Parser, Subcommand};
use consult_app::{App, AppError};
use consult_core::{Actor, ConsultationId, Role};
use consult_store::{Store, StoreError};
use std::path::Path;
use std::process::ExitCode;

pub(crate) use output::{Format, FormatArg, print_json, print_rows};

#[derive(Debug, Parser)]
#[command(
    name = "consult",
    version,
    about = "The register of consultation and engagement activity"
)]
struct Cli {
    /// Database URL: sqlite://PATH (created if absent) or postgres://...
    #[arg(
        long,
        global = true,
        env = "CONSULT_DATABASE_URL",
        default_value = "sqlite://consult.db"
    )]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// Create or upgrade the database schema.
    Migrate,
    /// Move a whole deployment from SQLite to a new PostgreSQL database (stop the server first):
    /// every table in one transaction, then each table's rows counted and checksummed on both
    /// sides.
    Copy(serve::CopyArgs),
    /// Bearer tokens.
    #[command(subcommand)]
    Token(register::TokenCommand),
    /// Staff accounts: roles, organisations, services and wards (councillors get a weekly
    /// digest, coordinators alerts).
    #[command(subcommand)]
    User(users::UserCommand),
    /// Organisations (councils and partner bodies).
    #[command(subcommand)]
    Org(register::OrgCommand),
    /// Areas by ONS GSS code.
    #[command(subcommand)]
    Area(register::AreaCommand),
    /// Activities in the register.
    #[command(subcommand)]
    Consultation(register::ConsultationCommand),
    /// Export data.
    #[command(subcommand)]
    Export(register::ExportCommand),
    /// Import data.
    #[command(subcommand)]
    Import(register::ImportCommand),
    /// The principles checklist of a registered activity (by id), or of a plan file offline
    /// (--file plan.toml or plan.json; no database needed). Exits 1 when a blocking check fails.
    Check(checklist::CheckArgs),
    /// Frameworks of principles.
    #[command(subcommand)]
    Framework(checklist::FrameworkCommand),
    /// Reports: the annual review.
    #[command(subcommand)]
    Report(results::ReportCommand),
    /// Consultation plans: service plans, the recurring programme, the council-wide plan.
    #[command(subcommand)]
    Plan(plans::PlanCommand),
    /// Record an activity's debrief from a JSON file (what_worked, what_did_not,
    /// learning_points, tags, audience_size) once it has closed.
    Debrief(results::DebriefArgs),
    /// Draw the year's sample of closed activities for external evaluation (reproducible).
    EvaluationSample(results::SampleArgs),
    /// Comments, compliments and complaints about how an activity was run (with contacts:
    /// for staff only).
    Remarks(results::RemarksArgs),
    /// Record an activity's "you said, we did" feedback from a JSON file (`items`: theme,
    /// you_said, and we_did or we_did_not with reason; `summary`); --publish publishes it once
    /// the activity has closed, moving it to results_published.
    Feedback(results::FeedbackArgs),
    /// Invite matching residents from the residents' register to an approved or open activity,
    /// leaving out anyone the fatigue rules protect. Prints counts, never names.
    Invite(residents::InviteArgs),
    /// Send the messages the outbox holds (verification codes, invitations, ...) through the
    /// channels given, then keep sending as more are queued (--once: what is due now, then stop).
    /// `consult serve` does the same when given a channel.
    Deliver(outbox::DeliverArgs),
    /// The outbox: messages queued, sent, failed (list), a failed one queued again (retry),
    /// old ones deleted (purge).
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// Fatigue findings for an activity: people asked too often, audiences with too much at once.
    Fatigue(residents::FatigueArgs),
    /// The residents' register: delete registrations never verified.
    #[command(subcommand)]
    Residents(residents::ResidentsCommand),
    /// Population baselines for equality monitoring.
    #[command(subcommand)]
    Baseline(responses::BaselineCommand),
    /// Monitoring schemes: the default (Census 2021) and organisations' own bands and merged
    /// categories.
    #[command(subcommand)]
    Scheme(responses::SchemeCommand),
    /// Responses.
    #[command(subcommand)]
    Responses(responses::ResponsesCommand),
    /// An activity's questionnaire: set it from a JSON or TOML file, or show it.
    #[command(subcommand)]
    Questionnaire(questionnaire::QuestionnaireCommand),
    /// The analysis per question of an activity's answers: counts, shares and intervals for
    /// choices, means and medians for scales and numbers, average ranks, grids per statement.
    Analysis(analysis::AnalysisArgs),
    /// Coding free-text answers: the codeframe (list, add, edit, delete), codes, and theme
    /// suggestions (suggest, accept, reject).
    Themes(themes::ThemesArgs),
    /// Activities across the partnership that overlap a registered activity (by id) or a plan
    /// file (--file plan.toml or plan.json).
    Overlap(overlap::OverlapArgs),
}

/// A failure, with the exit code it gives.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad usage or input: exit 2.
    #[error("{0}")]
    Input(String),
    /// The operation failed: exit 1.
    #[error("{0}")]
    Failed(String),
}

impl From<AppError> for CliError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(v) => Self::Input(format!("invalid input: {v}")),
            e if e.is_callers() => Self::Input(e.to_string()),
            other => Self::Failed(other.to_string()),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnsupportedUrl(_) | StoreError::Conflict(_) | StoreError::NotFound(_) => {
                Self::Input(e.to_string())
            }
            other => Self::Failed(other.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

pub(crate) type Result<T> = std::result::Result<T, CliError>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("consult: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = e.to_string().replace('\n', "; ");
            eprintln!("consult: {line}");
            ExitCode::from(match e {
                CliError::Input(_) => 2,
                CliError::Failed(_) => 1,
            })
        }
    }
}

/// Who the CLI acts as: an administrator named after the shell user, in the audit log.
pub(crate) fn cli_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor {
        name: format!("cli:{user}"),
        role: Role::Admin,
        organisation: None,
        staff: None,
    }
}

async fn run(cli: Cli) -> Result<()> {
    // Commands that need no database, or open their own.
    match &cli.command {
        Command::Serve(args) => return serve::serve(&cli.database, args).await,
        Command::Copy(args) => return serve::copy(args).await,
        Command::Check(args) if args.file.is_some() => return checklist::check_file(args),
        _ => {}
    }
    let store = Store::connect(&cli.database).await?;
    let app = App::one_off(store);
    let result = command(&app, cli.command).await;
    app.close().await;
    result
}

/// Runs one command against the database.
async fn command(app: &App, command: Command) -> Result<()> {
    let actor = cli_actor();
    match command {
        Command::Serve(_) | Command::Copy(_) => Ok(()),
        Command::Migrate => {
            eprintln!("consult: database is up to date");
            Ok(())
        }
        Command::Token(cmd) => register::token(app, cmd, &actor).await,
        Command::User(cmd) => users::user(app, cmd, &actor).await,
        Command::Org(cmd) => register::org(app, cmd, &actor).await,
        Command::Area(cmd) => register::area(app, cmd, &actor).await,
        Command::Consultation(cmd) => register::consultation(app, cmd, &actor).await,
        Command::Export(cmd) => register::export(app, cmd, &actor).await,
        Command::Import(cmd) => register::import(app, cmd, &actor).await,
        Command::Check(args) => checklist::check_stored(app, &args, &actor).await,
        Command::Framework(cmd) => checklist::framework(app, cmd, &actor).await,
        Command::Report(cmd) => results::report(app, cmd).await,
        Command::Plan(cmd) => plans::plan(app, cmd, &actor).await,
        Command::Debrief(args) => results::debrief(app, args, &actor).await,
        Command::EvaluationSample(args) => results::sample(app, args, &actor).await,
        Command::Remarks(args) => results::remarks(app, args, &actor).await,
        Command::Feedback(args) => results::feedback(app, args, &actor).await,
        Command::Invite(args) => residents::invite(app, args, &actor).await,
        Command::Fatigue(args) => residents::fatigue(app, args, &actor).await,
        Command::Deliver(args) => outbox::deliver(app, args).await,
        Command::Outbox(cmd) => outbox::outbox(app, cmd, &actor).await,
        Command::Residents(cmd) => residents::residents(app, cmd, &actor).await,
        Command::Baseline(cmd) => responses::baseline(app, cmd, &actor).await,
        Command::Scheme(cmd) => responses::scheme(app, cmd, &actor).await,
        Command::Responses(cmd) => responses::responses(app, cmd, &actor).await,
        Command::Questionnaire(cmd) => questionnaire::questionnaire(app, cmd, &actor).await,
        Command::Overlap(args) => overlap::overlap(app, args, &actor).await,
        Command::Analysis(args) => analysis::analysis(app, args, &actor).await,
        Command::Themes(args) => themes::themes(app, args, &actor).await,
    }
}

/// An activity's id as given on the command line.
pub(crate) fn parse_id(id: &str) -> Result<ConsultationId> {
    id.parse()
        .map_err(|_| CliError::Input(format!("`{id}` is not a consultation id (a UUID)")))
}

/// A file's text; a file that cannot be read is bad input naming it.
pub(crate) fn read_text(file: &Path) -> Result<String> {
    std::fs::read_to_string(file).map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))
}

/// Reads JSON from text (a file's, named in errors), naming the field at fault as the API does.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str, file: &Path) -> Result<T> {
    consult_app::json::read(text.as_bytes()).map_err(|e| match e {
        consult_app::json::JsonError::Malformed(m) => CliError::Input(format!("{}: {m}", file.display())),
        consult_app::json::JsonError::Invalid(v) => {
            let detail = match v.errors() {
                [one] => format!("{}: {}", one.field, one.message),
                many => format!("{} fields are invalid", many.len()),
            };
            CliError::Input(format!("{}: {detail}", file.display()))
        }
    })
}

/// Reads a JSON request body from a file; bad JSON is a usage error naming the file.
pub(crate) fn json_file<T: serde::de::DeserializeOwned>(file: &Path) -> Result<T> {
    parse_json(&read_text(file)?, file)
}

//! `consult`: run the register's server and administer it from the command line.
//!
//! Exit codes: 0 success, 1 the operation failed, 2 bad usage or input.
#![forbid(unsafe_code)]

mod checklist;
mod csv_register;

use chrono::{NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use consult_core::{
    Actor, Area, AreaHierarchy, AreaInput, Consultation, ConsultationId, ConsultationInput, ConsultationPlan,
    InvolvementLevel, Organisation, OrganisationId, OrganisationInput, Role, Status, StatusChange, TransitionContext,
    TransitionRequest, plan_transition,
};
use consult_store::{ConsultationFilter, NewToken, Order, Reader, Store, StoreError};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use uuid::Uuid;

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
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CONSULT_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Load example data if the database is empty.
        #[arg(long)]
        demo: bool,
        /// Behind a reverse proxy: take client addresses from X-Forwarded-For.
        #[arg(long, env = "CONSULT_TRUST_PROXY")]
        trust_proxy: bool,
        /// Anonymous writes allowed per client address per minute (0: no limit).
        #[arg(long, env = "CONSULT_ANONYMOUS_WRITES_PER_MINUTE", default_value_t = 30)]
        anonymous_writes_per_minute: u32,
        /// Milliseconds an anonymous read (the public register, forward plan, library, hub pages)
        /// is answered from this instance's cache (0: never). Writes through the instance empty it.
        #[arg(long, env = "CONSULT_PUBLIC_CACHE_MS", default_value_t = 1000)]
        public_cache_ms: u64,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Move a whole deployment from SQLite to a new PostgreSQL database (stop the server first):
    /// every table in one transaction, then each table's rows counted and checksummed on both
    /// sides.
    Copy {
        /// The SQLite database, `sqlite://PATH`.
        #[arg(long)]
        from: String,
        /// The PostgreSQL database, `postgres://...` (created and migrated if new; it must hold
        /// no data yet).
        #[arg(long)]
        to: String,
    },
    /// Bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Organisations (councils and partner bodies).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Areas by ONS GSS code.
    #[command(subcommand)]
    Area(AreaCommand),
    /// Activities in the register.
    #[command(subcommand)]
    Consultation(ConsultationCommand),
    /// Export data.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Import data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// The principles checklist of a registered activity (by id), or of a plan file offline
    /// (--file plan.toml or plan.json; no database needed). Exits 1 when a blocking check fails.
    Check(checklist::CheckArgs),
    /// Frameworks of principles.
    #[command(subcommand)]
    Framework(checklist::FrameworkCommand),
    /// Reports: the annual review.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Consultation plans: service plans, the recurring programme, the council-wide plan.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Record an activity's debrief from a JSON file (what_worked, what_did_not,
    /// learning_points, tags, audience_size) once it has closed.
    Debrief {
        /// Consultation id.
        id: String,
        /// JSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Draw the year's sample of closed activities for external evaluation (reproducible).
    EvaluationSample {
        /// The year.
        #[arg(long)]
        year: i32,
        /// Sample size.
        #[arg(long)]
        size: usize,
    },
    /// Comments, compliments and complaints about how an activity was run (with contacts:
    /// for staff only).
    Remarks {
        /// Consultation id.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Record an activity's "you said, we did" feedback from a JSON file (`items`: theme,
    /// you_said, and we_did or we_did_not with reason; `summary`); --publish publishes it once
    /// the activity has closed, moving it to results_published.
    Feedback {
        /// Consultation id.
        id: String,
        /// JSON file.
        #[arg(long)]
        file: PathBuf,
        /// Publish it now.
        #[arg(long)]
        publish: bool,
    },
    /// Invite matching residents from the residents' register to an approved or open activity,
    /// leaving out anyone the fatigue rules protect. Prints counts, never names.
    Invite {
        /// Consultation id.
        id: String,
        /// Show the plan without recording any contact.
        #[arg(long)]
        dry_run: bool,
    },
    /// Fatigue findings for an activity: people asked too often, audiences with too much at once.
    Fatigue {
        /// Consultation id.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Population baselines for equality monitoring.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Monitoring schemes: the default (Census 2021) and organisations' own bands and merged
    /// categories.
    #[command(subcommand)]
    Scheme(SchemeCommand),
    /// Responses.
    #[command(subcommand)]
    Responses(ResponsesCommand),
    /// Activities across the partnership that overlap a registered activity (by id) or a plan
    /// file (--file plan.toml or plan.json).
    Overlap {
        /// A registered activity's id.
        #[arg(conflicts_with = "file", required_unless_present = "file")]
        id: Option<String>,
        /// A plan file (TOML or JSON) to check against the register before registering it.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make a token and print it, alone, on stdout.
    Create {
        /// admin, coordinator or officer.
        #[arg(long)]
        role: String,
        /// Organisation slug (required for officers).
        #[arg(long)]
        organisation: Option<String>,
        /// Holder's name, shown in the audit log.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Add an organisation.
    Add {
        /// URL name, e.g. tamworth.
        #[arg(long)]
        slug: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// council or partner.
        #[arg(long, default_value = "council")]
        kind: String,
        /// A service within it (repeat for more).
        #[arg(long = "service")]
        services: Vec<String>,
    },
    /// List organisations.
    List(FormatArg),
    /// Show or set the frameworks an organisation has adopted and its pre-election periods.
    Checklist(checklist::OrgChecklistArgs),
}

#[derive(Debug, Subcommand)]
enum AreaCommand {
    /// Add an area.
    Add {
        /// GSS code, e.g. E07000199.
        #[arg(long)]
        code: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// GSS code of the containing area.
        #[arg(long)]
        parent: Option<String>,
    },
    /// List areas.
    List(FormatArg),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

/// Formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    Json,
    Csv,
    Html,
}

#[derive(Debug, Subcommand)]
enum PlanCommand {
    /// The council-wide plan of a year: service plans and the programme against what was
    /// registered, with the six-monthly review state.
    Show {
        /// Organisation slug.
        slug: String,
        /// Year.
        year: i32,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Save a service's plan for a year from a JSON file (`entries`, `agreed`).
    Service {
        /// Organisation slug.
        slug: String,
        /// Year.
        year: i32,
        /// Service.
        service: String,
        /// JSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Replace the recurring programme from a JSON file (`items`).
    Programme {
        /// Organisation slug.
        slug: String,
        /// JSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Record a six-monthly review of the council-wide plan (held today).
    Review {
        /// Organisation slug.
        slug: String,
        /// Year.
        year: i32,
        /// 1: mid-year; 2: year end.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=2))]
        half: u32,
        /// What the review found and decided.
        #[arg(long)]
        notes: String,
    },
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
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

#[derive(Debug, Args)]
struct FormatArg {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Status today (comma separated for several).
    #[arg(long)]
    status: Option<String>,
    /// Involvement level.
    #[arg(long)]
    level: Option<String>,
    /// Owner organisation slug.
    #[arg(long)]
    organisation: Option<String>,
    /// GSS area code (with containing and contained areas).
    #[arg(long)]
    area: Option<String>,
    /// Stakeholder group slug.
    #[arg(long)]
    group: Option<String>,
    /// Topic.
    #[arg(long)]
    topic: Option<String>,
    /// Owning service (any case).
    #[arg(long)]
    service: Option<String>,
    /// Text in title, summary or topics.
    #[arg(long)]
    q: Option<String>,
    /// Open on or after (YYYY-MM-DD).
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Open on or before (YYYY-MM-DD).
    #[arg(long)]
    to: Option<NaiveDate>,
    /// Only activities whose feedback is overdue (closed, results not published, past due).
    #[arg(long)]
    feedback_overdue: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Debug, Subcommand)]
enum ConsultationCommand {
    /// List the register (everything, as a coordinator sees it).
    List(ListArgs),
    /// Show one activity as JSON.
    Show {
        /// Consultation id.
        id: String,
    },
    /// Register a draft from a JSON file (the API's consultation body; `-` for stdin).
    Create {
        /// JSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Answer a check that needs a person's evidence (or justify a shorter duration).
    Attest {
        /// Consultation id.
        id: String,
        /// Check id, `framework/check`.
        #[arg(long)]
        check: String,
        /// yes or no.
        #[arg(long)]
        answer: String,
        /// Evidence (required with yes).
        #[arg(long)]
        evidence: Option<String>,
    },
    /// Move an activity to another status.
    Transition {
        /// Consultation id.
        id: String,
        /// Target status.
        #[arg(long)]
        to: String,
        /// Reason (required to reject, close early or withdraw).
        #[arg(long)]
        reason: Option<String>,
        /// Justification for approving despite failing checks.
        #[arg(long = "override")]
        override_justification: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ExportFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// The whole register.
    Register {
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Write to a file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum SchemeCommand {
    /// List every scheme and version.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print one scheme as JSON: `key@version`, or `key` for the newest version.
    Show {
        /// Scheme id.
        id: String,
    },
    /// Add an organisation's own scheme (or a new version of it) from a JSON file: key, name,
    /// source and characteristics, each category saying which Census 2021 categories it covers.
    Add {
        /// JSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Ask an organisation's future respondents a scheme (`census2021` returns to the default).
    Adopt {
        /// Organisation slug.
        slug: String,
        /// Scheme id: `key@version`, or `key` for the newest version.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum ResponsesCommand {
    /// Import a survey tool's CSV export into an activity (all rows or none, unless
    /// --skip-invalid), with a progress bar.
    Import {
        /// Consultation id.
        id: String,
        /// The CSV export.
        file: PathBuf,
        /// JSON column mapping: `{ "comments": "column", "channel": "online",
        /// "columns": { "sex": "column", ... } }`.
        #[arg(long)]
        mapping: PathBuf,
        /// Store the valid rows and report the others by line.
        #[arg(long)]
        skip_invalid: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BaselineCommand {
    /// Import an ONS/Nomis Census 2021 bulk CSV (TS007A, TS008, TS021, TS030 or TS038), all
    /// areas in one transaction.
    Import {
        /// The CSV file, e.g. census2021-ts021-ltla.csv.
        file: PathBuf,
        /// Only these areas (GSS codes; repeat). Default: every area of the file in the register.
        #[arg(long = "area")]
        areas: Vec<String>,
        /// Source to record.
        #[arg(long, default_value = "ONS Census 2021 (Nomis), Open Government Licence v3")]
        source: String,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Activities from CSV (the columns of `export register`); all rows or none.
    Register {
        /// CSV file.
        file: PathBuf,
    },
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

/// A fresh overlap index for one command (the CLI runs once; the server keeps its cache).
pub(crate) fn overlap_cache() -> consult_store::overlap::OverlapCache {
    consult_store::overlap::OverlapCache::new(consult_core::OverlapConfig::default())
}

pub(crate) fn cli_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor {
        name: format!("cli:{user}"),
        role: Role::Admin,
        organisation: None,
    }
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Serve {
        bind,
        demo,
        trust_proxy,
        anonymous_writes_per_minute,
        public_cache_ms,
    } = &cli.command
    {
        let limits = consult_api::Limits {
            trust_forwarded_for: *trust_proxy,
            anonymous_writes_per_minute: *anonymous_writes_per_minute,
            public_cache: std::time::Duration::from_millis(*public_cache_ms),
            ..consult_api::Limits::default()
        };
        return serve(&cli.database, bind, *demo, limits).await;
    }
    if let Command::Check(args) = &cli.command {
        if args.file.is_some() {
            return checklist::check_file(args);
        }
    }
    if let Command::Copy { from, to } = &cli.command {
        return copy(from, to).await;
    }
    let store = Store::connect(&cli.database).await?;
    let result = command(&store, cli.command).await;
    store.close().await;
    result
}

/// `consult copy --from sqlite://... --to postgres://...`.
async fn copy(from: &str, to: &str) -> Result<()> {
    if !from.starts_with("sqlite:") || !(to.starts_with("postgres:") || to.starts_with("postgresql:")) {
        return Err(CliError::Input(
            "copy moves a deployment from --from sqlite://PATH to --to postgres://...".into(),
        ));
    }
    if from
        .strip_prefix("sqlite://")
        .is_some_and(|path| !std::path::Path::new(path).exists())
    {
        return Err(CliError::Input(format!("there is no SQLite database at {from}")));
    }
    let source = Store::connect(from).await?;
    let target = Store::connect(to).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    let result = consult_store::copy::copy_deployment(&source, &target, |table, rows| {
        bar.set_message(format!("{table}: {rows} rows"));
        bar.tick();
    })
    .await;
    bar.finish_and_clear();
    source.close().await;
    target.close().await;
    let tables = result?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<32} {:>10}  checksum", "table", "rows")?;
    for t in &tables {
        writeln!(out, "{:<32} {:>10}  {}", t.table, t.rows, t.checksum)?;
    }
    let rows: u64 = tables.iter().map(|t| t.rows).sum();
    eprintln!(
        "consult: copied {} tables, {rows} rows, from {} to {}; counts and checksums agree",
        tables.len(),
        redact(from),
        redact(to)
    );
    Ok(())
}

async fn serve(database: &str, bind: &str, demo: bool, limits: consult_api::Limits) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours for a terminal only: logs written to files and journals stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let store = Store::connect(database).await?;
    if demo {
        let now = Utc::now();
        if consult_store::demo::load_if_empty(&store, now.date_naive(), now).await? {
            tracing::info!("loaded the demo data");
        }
    }
    let state = consult_api::AppState::new(store.clone()).with_limits(limits);
    let indexed = state.overlap.sync(&store).await?;
    tracing::info!(activities = indexed, "overlap index built");
    let residents = state.residents.sync(&store).await?;
    tracing::info!(residents, "residents' audience index built");
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| CliError::Input(format!("cannot listen on {bind}: {e}")))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = %redact(database), "consult listening on http://{addr}");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    consult_api::serve(listener, state, shutdown).await?;
    store.close().await;
    Ok(())
}

/// The URL without a password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}:***{}", &url[..s + 3 + c], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

pub(crate) fn invalid(e: consult_core::ValidationErrors) -> CliError {
    CliError::Input(format!("invalid input: {e}"))
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let s = serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))?;
    println!("{s}");
    Ok(())
}

/// Prints rows as an aligned table, CSV or JSON objects keyed by the headers.
pub(crate) fn print_rows(format: Format, headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            let items: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    headers
                        .iter()
                        .zip(r)
                        .map(|(h, v)| ((*h).to_owned(), serde_json::Value::String(v.clone())))
                        .collect()
                })
                .collect();
            drop(out);
            print_json(&items)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(headers).map_err(|e| CliError::Failed(e.to_string()))?;
            for r in rows {
                w.write_record(r.iter().map(|c| csv_register::neutralise(c)))
                    .map_err(|e| CliError::Failed(e.to_string()))?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
            for r in rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count().min(60));
                }
            }
            let line = |cells: Vec<String>| -> String {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| {
                        let c: String = c.chars().take(60).collect();
                        format!("{c:<w$}")
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
            };
            writeln!(out, "{}", line(headers.iter().map(|h| h.to_uppercase()).collect()))?;
            for r in rows {
                writeln!(out, "{}", line(r.clone()))?;
            }
        }
    }
    Ok(())
}

async fn command(store: &Store, command: Command) -> Result<()> {
    let actor = cli_actor();
    let now = Utc::now();
    let today = now.date_naive();
    match command {
        // Handled before a database is opened.
        Command::Serve { .. } | Command::Copy { .. } => Ok(()),
        Command::Migrate => {
            eprintln!("consult: database is up to date");
            Ok(())
        }
        Command::Token(TokenCommand::Create {
            role,
            organisation,
            name,
        }) => {
            let role: Role = role.parse().map_err(CliError::Input)?;
            let org = match organisation {
                Some(slug) => Some(
                    store
                        .get_organisation(&slug)
                        .await?
                        .ok_or_else(|| CliError::Input(format!("unknown organisation `{slug}`")))?,
                ),
                None if role == Role::Officer => {
                    return Err(CliError::Input("an officer token needs --organisation".into()));
                }
                None => None,
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(CliError::Input("--name must not be empty".into()));
            }
            let issued = store
                .create_token(
                    &NewToken {
                        name: name.to_owned(),
                        role,
                        organisation: org.map(|o| o.id),
                    },
                    &actor,
                    now,
                )
                .await?;
            println!("{}", issued.secret);
            Ok(())
        }
        Command::Org(OrgCommand::Add {
            slug,
            name,
            kind,
            services,
        }) => {
            let org = Organisation::parse(
                OrganisationId(Uuid::now_v7()),
                OrganisationInput {
                    slug: Some(slug),
                    name: Some(name),
                    kind: Some(kind),
                    services,
                },
            )
            .map_err(invalid)?;
            store.create_organisation(&org, &actor, now).await?;
            eprintln!("consult: added organisation {}", org.slug);
            Ok(())
        }
        Command::Org(OrgCommand::List(f)) => {
            let rows: Vec<Vec<String>> = store
                .list_organisations()
                .await?
                .into_iter()
                .map(|o| {
                    vec![
                        o.slug.to_string(),
                        o.kind.as_str().into(),
                        o.name,
                        o.services.join("; "),
                    ]
                })
                .collect();
            print_rows(f.format, &["slug", "kind", "name", "services"], &rows)
        }
        Command::Area(AreaCommand::Add { code, name, parent }) => {
            let known = AreaHierarchy::new(store.list_areas().await?);
            let area = Area::parse(
                AreaInput {
                    code: Some(code),
                    name: Some(name),
                    parent,
                },
                &known,
            )
            .map_err(invalid)?;
            store.create_area(&area, &actor, now).await?;
            eprintln!("consult: added area {}", area.code);
            Ok(())
        }
        Command::Area(AreaCommand::List(f)) => {
            let rows: Vec<Vec<String>> = store
                .list_areas()
                .await?
                .into_iter()
                .map(|a| {
                    vec![
                        a.code.to_string(),
                        a.name,
                        a.parent.map(|p| p.to_string()).unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(f.format, &["code", "name", "parent"], &rows)
        }
        Command::Consultation(ConsultationCommand::List(args)) => list(store, args, today).await,
        Command::Consultation(ConsultationCommand::Show { id }) => {
            let c = find(store, &id).await?;
            let orgs = store.list_organisations().await?;
            let count = store.response_counts(&[c.id]).await?.get(&c.id).copied().unwrap_or(0);
            let view = consult_api::views::ConsultationView::new(
                &c,
                orgs.iter().find(|o| o.id == c.organisation_id),
                count,
                today,
            );
            print_json(&view)
        }
        Command::Consultation(ConsultationCommand::Create { file }) => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?
            };
            let input: ConsultationInput = consult_api::extract::parse_json(text.as_bytes())
                .map_err(|e| CliError::Input(format!("{}: {}", file.display(), e.problem().detail)))?;
            let snapshot = store.register_snapshot().await?;
            let plan = ConsultationPlan::parse(input, snapshot.context()).map_err(invalid)?;
            let org = snapshot
                .organisations
                .iter()
                .find(|o| o.slug == *plan.organisation())
                .ok_or_else(|| CliError::Input("unknown organisation".into()))?;
            let c = Consultation::new_draft(ConsultationId(Uuid::now_v7()), org.id, plan, now);
            store.insert_consultation(&c, &actor).await?;
            println!("{}", c.id);
            Ok(())
        }
        Command::Consultation(ConsultationCommand::Transition {
            id,
            to,
            reason,
            override_justification,
        }) => {
            let c = find(store, &id).await?;
            let approving = to == Status::Approved.as_str();
            let request = TransitionRequest {
                to: Some(to),
                reason,
                override_justification,
            };
            let assessment = if approving {
                Some(overlap_cache().assess(store, &c, today).await?)
            } else {
                None
            };
            let debriefed = store
                .evaluations(&[c.id])
                .await?
                .get(&c.id)
                .is_some_and(|e| e.0.is_some());
            if request.to.as_deref() == Some(Status::ResultsPublished.as_str()) {
                if let Some(feedback) = store.feedback(&[c.id]).await?.remove(&c.id) {
                    let updated = publish_feedback(store, &c, &actor, feedback, true, today, now).await?;
                    eprintln!("consult: {} is {}", updated.id, updated.status_on(today));
                    return Ok(());
                }
            }
            let ctx = TransitionContext {
                today,
                now,
                assessment: assessment.as_ref(),
                debriefed,
            };
            let changes = plan_transition(&c, &request, &actor, &ctx).map_err(|e| match e {
                consult_core::TransitionError::Invalid(v) => invalid(v),
                other => CliError::Input(other.to_string()),
            })?;
            let approval = assessment.map(|assessment| consult_core::Approval {
                at: now,
                by: actor.name.clone(),
                override_justification: changes.last().and_then(|c| c.override_justification.clone()),
                assessment,
            });
            let updated = store
                .record_transition(c.id, c.version, &changes, approval.as_ref(), &actor)
                .await?;
            eprintln!("consult: {} is now {}", updated.id, updated.status_on(today));
            Ok(())
        }
        Command::Export(ExportCommand::Register { format, output }) => {
            let items = all_consultations(store, today).await?;
            let orgs = store.list_organisations().await?;
            let mut buf = Vec::new();
            match format {
                ExportFormat::Csv => {
                    csv_register::write(&mut buf, &items, &orgs, today).map_err(|e| CliError::Failed(e.to_string()))?
                }
                ExportFormat::Json => {
                    let ids: Vec<ConsultationId> = items.iter().map(|c| c.id).collect();
                    let counts = store.response_counts(&ids).await?;
                    let views: Vec<_> = items
                        .iter()
                        .map(|c| {
                            consult_api::views::ConsultationView::new(
                                c,
                                orgs.iter().find(|o| o.id == c.organisation_id),
                                counts.get(&c.id).copied().unwrap_or(0),
                                today,
                            )
                        })
                        .collect();
                    serde_json::to_writer_pretty(&mut buf, &serde_json::json!({ "items": views }))
                        .map_err(|e| CliError::Failed(e.to_string()))?;
                    buf.push(b'\n');
                }
            }
            match output {
                Some(path) => std::fs::write(&path, buf)?,
                None => std::io::stdout().write_all(&buf)?,
            }
            Ok(())
        }
        Command::Import(ImportCommand::Register { file }) => import(store, &file, &actor, now).await,
        Command::Check(args) => checklist::check_stored(store, &args, today).await,
        Command::Framework(cmd) => checklist::framework(store, cmd, &actor, now).await,
        Command::Scheme(cmd) => scheme(store, cmd, &actor, now).await,
        Command::Plan(cmd) => plan(store, cmd, &actor, today, now).await,
        Command::Report(cmd) => {
            let (period, organisation, area, format) = match cmd {
                ReportCommand::Annual {
                    year,
                    organisation,
                    area,
                    format,
                } => (consult_core::Period::year(year), organisation, area, format),
                ReportCommand::Quarterly {
                    year,
                    quarter,
                    organisation,
                    area,
                    format,
                } => (consult_core::Period::quarter(year, quarter), organisation, area, format),
            };
            let period = period.ok_or_else(|| CliError::Input("no such year or quarter".into()))?;
            if let Some(slug) = &organisation {
                if store.get_organisation(slug).await?.is_none() {
                    return Err(CliError::Input(format!("no organisation `{slug}`")));
                }
            }
            let area = area
                .map(|a| consult_core::AreaCode::parse(&a).map_err(CliError::Input))
                .transpose()?;
            let scope = consult_store::review::ReviewScope { organisation, area };
            let review = consult_store::review::review(store, period, &scope, today).await?;
            match format {
                ReportFormat::Json => print_json(&review),
                ReportFormat::Csv => {
                    let bytes = consult_api::review_csv(&review).map_err(|e| CliError::Failed(e.to_string()))?;
                    print!("{}", String::from_utf8_lossy(&bytes));
                    Ok(())
                }
                ReportFormat::Html => {
                    println!("{}", consult_api::review_html(&review));
                    Ok(())
                }
            }
        }
        Command::Debrief { id, file } => {
            let c = find(store, &id).await?;
            if !consult_core::may_debrief(&c, today) {
                return Err(CliError::Input(format!(
                    "an activity is debriefed after it closes; this one is {}",
                    c.status_on(today)
                )));
            }
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
            let input: consult_core::DebriefInput = consult_api::extract::parse_json(text.as_bytes())
                .map_err(|e| CliError::Input(format!("{}: {}", file.display(), e.problem().detail)))?;
            let debrief = consult_core::Debrief::parse(input, &actor, now).map_err(invalid)?;
            store.save_debrief(c.id, &debrief, &actor).await?;
            eprintln!("consult: debrief recorded for {}", c.id);
            Ok(())
        }
        Command::EvaluationSample { year, size } => {
            if size == 0 {
                return Err(CliError::Input("--size must be at least 1".into()));
            }
            let chosen = consult_store::review::draw_external_sample(store, year, size, &actor, today, now).await?;
            for c in &chosen {
                println!("{}\t{}", c.id, c.plan.title());
            }
            Ok(())
        }
        Command::Remarks { id, format } => {
            let c = find(store, &id).await?;
            let remarks = store.remarks(c.id).await?;
            if format == Format::Json {
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
            print_rows(format, &["id", "kind", "status", "received", "body"], &rows)
        }
        Command::Feedback { id, file, publish } => {
            let c = find(store, &id).await?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
            let mut input: consult_core::FeedbackInput = consult_api::extract::parse_json(text.as_bytes())
                .map_err(|e| CliError::Input(format!("{}: {}", file.display(), e.problem().detail)))?;
            input.publish |= publish;
            let previous = store.feedback(&[c.id]).await?.remove(&c.id);
            let feedback = consult_core::Feedback::parse(&input, previous.as_ref(), &actor, now).map_err(invalid)?;
            let updated = publish_feedback(store, &c, &actor, feedback, input.publish, today, now).await?;
            eprintln!(
                "consult: feedback saved; {} is {}",
                updated.id,
                updated.status_on(today)
            );
            Ok(())
        }
        Command::Invite { id, dry_run } => {
            let c = find(store, &id).await?;
            let plan = consult_store::invitations::plan(store, None, &c, today).await?;
            if !dry_run {
                let status = c.status_on(today);
                if !matches!(status, Status::Approved | Status::Open) {
                    return Err(CliError::Input(format!(
                        "invitations can be sent for approved or open activities; this one is {status}"
                    )));
                }
                store.record_invitations(c.id, &plan.invited, &actor, now).await?;
            }
            let summary = serde_json::json!({
                "invited": plan.invited.len(),
                "by_channel": plan.by_channel.iter().map(|(k, v)| (k.as_str(), v)).collect::<std::collections::BTreeMap<_, _>>(),
                "excluded": plan.excluded.iter().map(|(k, v)| (k.as_str(), v)).collect::<std::collections::BTreeMap<_, _>>(),
                "recorded": !dry_run,
            });
            print_json(&summary)
        }
        Command::Fatigue { id, format } => {
            let c = find(store, &id).await?;
            let findings = consult_store::invitations::fatigue(store, None, &c, today).await?;
            if format == Format::Json {
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
            print_rows(format, &["kind", "rule", "count", "detail"], &rows)
        }
        Command::Responses(ResponsesCommand::Import {
            id,
            file,
            mapping,
            skip_invalid,
        }) => {
            let c = find(store, &id).await?;
            let status = c.status_on(today);
            if !matches!(status, Status::Open | Status::Closed) {
                return Err(CliError::Input(format!(
                    "responses can be imported while open or closed; this activity is {status}"
                )));
            }
            let mapping: consult_core::ColumnMapping = {
                let text = std::fs::read_to_string(&mapping)
                    .map_err(|e| CliError::Input(format!("cannot read {}: {e}", mapping.display())))?;
                consult_api::extract::parse_json(text.as_bytes())
                    .map_err(|e| CliError::Input(format!("{}: {}", mapping.display(), e.problem().detail)))?
            };
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_path(&file)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
            let header: Vec<String> = reader
                .headers()
                .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?
                .iter()
                .map(str::to_owned)
                .collect();
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let bar = indicatif::ProgressBar::new(size);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {bar:40} {bytes}/{total_bytes} {eta}") {
                bar.set_style(style);
            }
            bar.set_message("reading");
            let mut rows: Vec<Vec<String>> = Vec::new();
            for record in reader.records() {
                let record = record.map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
                if let Some(p) = record.position() {
                    bar.set_position(p.byte());
                }
                rows.push(record.iter().map(str::to_owned).collect());
            }
            bar.set_message("checking");
            let scheme = store.organisation_scheme(c.organisation_id).await?;
            let mode = if skip_invalid {
                consult_core::ImportMode::GoodRows
            } else {
                consult_core::ImportMode::AllOrNothing
            };
            let (responses, skipped) = consult_core::import_responses(
                &scheme,
                &mapping,
                &header,
                &rows,
                c.id,
                &actor.name,
                now,
                mode,
                Uuid::now_v7,
            )
            .map_err(|e| CliError::Input(format!("nothing imported: {e}")))?;
            bar.set_message("storing");
            if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                // No terminal for the bar: say so in the log of a long import.
                eprintln!(
                    "consult: checked; storing {} responses in one transaction",
                    responses.len()
                );
            }
            store.insert_responses(&responses).await?;
            bar.finish_and_clear();
            if skipped.is_empty() {
                eprintln!("consult: imported {} responses", responses.len());
            } else {
                eprintln!("consult: imported {} responses; skipped: {skipped}", responses.len());
            }
            Ok(())
        }
        Command::Baseline(BaselineCommand::Import { file, areas, source }) => {
            let mut reader = csv::Reader::from_path(&file)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
            let header: Vec<String> = reader
                .headers()
                .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?
                .iter()
                .map(str::to_owned)
                .collect();
            let rows: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
            let parsed = consult_core::nomis_baselines(&header, &rows, &areas)
                .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
            let known = AreaHierarchy::new(store.list_areas().await?);
            let mut baselines = Vec::new();
            for (code, (name, counts)) in parsed {
                let area = consult_core::AreaCode::parse(&code).map_err(CliError::Input)?;
                if !known.contains(&area) {
                    if areas.is_empty() {
                        continue;
                    }
                    return Err(CliError::Input(format!(
                        "area {area} is not in the register; add it first"
                    )));
                }
                baselines.push(consult_store::Baseline {
                    area,
                    name,
                    source: source.clone(),
                    counts,
                });
            }
            for wanted in &areas {
                if !baselines.iter().any(|b| b.area.as_str().eq_ignore_ascii_case(wanted)) {
                    return Err(CliError::Input(format!("area {wanted} is not in {}", file.display())));
                }
            }
            if baselines.is_empty() {
                return Err(CliError::Input(format!(
                    "no area of {} is in the register",
                    file.display()
                )));
            }
            store.put_baselines(&baselines, &actor, now).await?;
            eprintln!("consult: imported baselines for {} area(s)", baselines.len());
            Ok(())
        }
        Command::Overlap { id, file, format } => overlap(store, id.as_deref(), file.as_deref(), format, today).await,
        Command::Org(OrgCommand::Checklist(args)) => checklist::org_checklist(store, args, &actor, now).await,
        Command::Consultation(ConsultationCommand::Attest {
            id,
            check,
            answer,
            evidence,
        }) => checklist::attest(store, &id, check, answer, evidence, &actor, now, today).await,
    }
}

async fn overlap(
    store: &Store,
    id: Option<&str>,
    file: Option<&std::path::Path>,
    format: Format,
    today: NaiveDate,
) -> Result<()> {
    let cache = overlap_cache();
    let reviewed: Vec<(consult_core::OverlapFinding, Option<consult_core::Dismissal>)> = match (id, file) {
        (Some(id), _) => {
            let c = find(store, id).await?;
            cache
                .review(store, &c, today)
                .await?
                .into_iter()
                .map(|r| (r.finding, r.dismissal))
                .collect()
        }
        (None, Some(path)) => {
            let input = checklist::read_plan(path)?;
            let snapshot = store.register_snapshot().await?;
            let plan = ConsultationPlan::parse(input, snapshot.context()).map_err(invalid)?;
            let subject = consult_core::OverlapSubject::from_plan(ConsultationId(Uuid::nil()), &plan, Status::Draft);
            cache
                .query(store, &subject, today)
                .await?
                .into_iter()
                .map(|f| (f, None))
                .collect()
        }
        (None, None) => return Err(CliError::Input("give an id or --file".into())),
    };
    if format == Format::Json {
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
        format,
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

pub(crate) async fn find(store: &Store, id: &str) -> Result<Consultation> {
    let parsed: ConsultationId = id
        .parse()
        .map_err(|_| CliError::Input(format!("`{id}` is not a consultation id (a UUID)")))?;
    store
        .get_consultation(parsed)
        .await?
        .ok_or_else(|| CliError::Input(format!("no consultation {id}")))
}

async fn all_consultations(store: &Store, today: NaiveDate) -> Result<Vec<Consultation>> {
    collect(store, &ConsultationFilter::default(), today).await
}

async fn collect(store: &Store, filter: &ConsultationFilter, today: NaiveDate) -> Result<Vec<Consultation>> {
    Ok(store.list_all_consultations(filter, &Reader::Everything, today).await?)
}

async fn list(store: &Store, args: ListArgs, today: NaiveDate) -> Result<()> {
    let mut statuses = Vec::new();
    for s in args
        .status
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        statuses.push(s.parse::<Status>().map_err(CliError::Input)?);
    }
    let level = args
        .level
        .map(|l| {
            l.parse::<InvolvementLevel>()
                .map_err(|e| CliError::Input(e.to_string()))
        })
        .transpose()?;
    let areas = match args.area {
        None => vec![],
        Some(a) => {
            let code = consult_core::AreaCode::parse(&a).map_err(CliError::Input)?;
            let h = AreaHierarchy::new(store.list_areas().await?);
            if !h.contains(&code) {
                return Err(CliError::Input(format!("unknown area {code}")));
            }
            h.related(&code).into_iter().collect()
        }
    };
    let filter = ConsultationFilter {
        statuses,
        level,
        organisation: args.organisation,
        areas,
        group: args.group,
        topic: args.topic,
        service: args.service,
        text: args.q,
        from: args.from,
        to: args.to,
        feedback_overdue: args.feedback_overdue,
        order: Order::ByRegistration,
    };
    let items = collect(store, &filter, today).await?;
    let orgs = store.list_organisations().await?;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.status_on(today).to_string(),
                c.plan.level().to_string(),
                c.plan.opens_on().to_string(),
                c.plan.closes_on().to_string(),
                orgs.iter()
                    .find(|o| o.id == c.organisation_id)
                    .map_or_else(String::new, |o| o.slug.to_string()),
                c.plan.title().to_owned(),
            ]
        })
        .collect();
    print_rows(
        args.format,
        &[
            "id",
            "status",
            "level",
            "opens_on",
            "closes_on",
            "organisation",
            "title",
        ],
        &rows,
    )
}

async fn import(store: &Store, file: &std::path::Path, actor: &Actor, now: chrono::DateTime<Utc>) -> Result<()> {
    let f = std::fs::File::open(file).map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let rows = csv_register::read(f).map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
    let snapshot = store.register_snapshot().await?;
    let mut problems = Vec::new();
    let mut items = Vec::new();
    for row in rows {
        let id = match row.id.as_deref().map(Uuid::parse_str) {
            None => Uuid::now_v7(),
            Some(Ok(id)) => id,
            Some(Err(_)) => {
                problems.push(format!("line {}: id is not a UUID", row.line));
                continue;
            }
        };
        let status = match row.status.as_deref().map(str::parse::<Status>) {
            None => Status::Draft,
            // Opening and closing follow the dates: store what a person recorded.
            Some(Ok(Status::Open)) => Status::Approved,
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                problems.push(format!("line {}: status: {e}", row.line));
                continue;
            }
        };
        match ConsultationPlan::parse(row.input, snapshot.context()) {
            Ok(plan) => {
                let org_id = snapshot
                    .organisations
                    .iter()
                    .find(|o| o.slug == *plan.organisation())
                    .map(|o| o.id);
                let Some(org_id) = org_id else { continue };
                let history = if status == Status::Draft {
                    vec![]
                } else {
                    vec![StatusChange {
                        from: Status::Draft,
                        to: status,
                        at: now,
                        by: actor.name.clone(),
                        reason: Some(format!("imported from {}", file.display())),
                        override_justification: None,
                    }]
                };
                items.push(Consultation {
                    id: ConsultationId(id),
                    organisation_id: org_id,
                    plan,
                    recorded_status: status,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                    status_history: history,
                    approval: None,
                });
            }
            Err(e) => problems.push(format!("line {}: {e}", row.line)),
        }
    }
    if !problems.is_empty() {
        return Err(CliError::Input(format!(
            "nothing imported; {} row(s) are invalid: {}",
            problems.len(),
            problems.join("; ")
        )));
    }
    store.import_consultations(&items, actor).await.map_err(|e| match e {
        StoreError::Conflict(m) => CliError::Input(format!(
            "nothing imported: {m} (an id in the file is already registered)"
        )),
        other => other.into(),
    })?;
    eprintln!("consult: imported {} activities", items.len());
    Ok(())
}

/// `consult scheme ...`.
async fn scheme(store: &Store, cmd: SchemeCommand, actor: &Actor, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let named = |id: &str| format!("no monitoring scheme `{id}`; `consult scheme list` shows them");
    match cmd {
        SchemeCommand::List { format } => {
            let rows: Vec<Vec<String>> = store
                .monitoring_schemes()
                .await?
                .iter()
                .map(|s| {
                    vec![
                        s.id(),
                        s.characteristics.len().to_string(),
                        s.characteristics
                            .iter()
                            .map(|c| c.categories.len())
                            .sum::<usize>()
                            .to_string(),
                        s.name.clone(),
                    ]
                })
                .collect();
            print_rows(format, &["id", "characteristics", "categories", "name"], &rows)
        }
        SchemeCommand::Show { id } => print_json(
            &store
                .monitoring_scheme(&id)
                .await?
                .ok_or_else(|| CliError::Input(named(&id)))?,
        ),
        SchemeCommand::Add { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
            let input: consult_core::SchemeInput = consult_api::extract::parse_json(text.as_bytes())
                .map_err(|e| CliError::Input(format!("{}: {}", file.display(), e.problem().detail)))?;
            let base = consult_core::MonitoringScheme::census2021().map_err(CliError::Failed)?;
            let parsed = consult_core::MonitoringScheme::parse_own(input, &base, 0).map_err(invalid)?;
            let stored = store.add_monitoring_scheme(&parsed, actor, now).await?;
            eprintln!("consult: stored monitoring scheme {}", stored.id());
            Ok(())
        }
        SchemeCommand::Adopt { slug, id } => {
            let org = store
                .get_organisation(&slug)
                .await?
                .ok_or_else(|| CliError::Input(format!("no organisation `{slug}`")))?;
            let scheme = store
                .monitoring_scheme(&id)
                .await?
                .ok_or_else(|| CliError::Input(named(&id)))?;
            store.set_organisation_scheme(org.id, &scheme, actor, now).await?;
            eprintln!("consult: {slug} now asks {}", scheme.id());
            Ok(())
        }
    }
}

/// Saves feedback, publishing it when asked (or when the results are already published: a
/// correction), as the API does.
async fn publish_feedback(
    store: &Store,
    c: &Consultation,
    actor: &Actor,
    mut feedback: consult_core::Feedback,
    publish: bool,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Consultation> {
    let status = c.status_on(today);
    if !matches!(
        status,
        Status::Open | Status::Closed | Status::ResultsPublished | Status::Evaluated
    ) {
        return Err(CliError::Input(format!(
            "feedback is recorded once an activity has opened; this one is {status}"
        )));
    }
    let changes = if publish || matches!(status, Status::ResultsPublished | Status::Evaluated) {
        let changes = consult_core::plan_publication(c, &feedback, actor, today, now).map_err(|e| match e {
            consult_core::TransitionError::Invalid(v) => invalid(v),
            other => CliError::Input(other.to_string()),
        })?;
        feedback.published_on.get_or_insert(today);
        changes
    } else {
        Vec::new()
    };
    Ok(store.save_feedback(c.id, c.version, &feedback, &changes, actor).await?)
}

/// Reads a JSON request body from a file; bad JSON is a usage error naming the file.
fn json_file<T: serde::de::DeserializeOwned>(file: &std::path::Path) -> Result<T> {
    let text =
        std::fs::read_to_string(file).map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    consult_api::extract::parse_json(text.as_bytes())
        .map_err(|e| CliError::Input(format!("{}: {}", file.display(), e.problem().detail)))
}

/// `consult plan ...`.
async fn plan(
    store: &Store,
    cmd: PlanCommand,
    actor: &Actor,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let org = |slug: String| async move {
        store
            .get_organisation(&slug)
            .await?
            .ok_or_else(|| CliError::Input(format!("no organisation `{slug}`")))
    };
    match cmd {
        PlanCommand::Show { slug, year, format } => {
            let org = org(slug).await?;
            let plan = consult_store::plans::council_plan(store, &org, year, &consult_store::Reader::Everything, today)
                .await?;
            if format == Format::Json {
                return print_json(&plan);
            }
            let rows: Vec<Vec<String>> = plan
                .lines
                .iter()
                .map(|l| {
                    vec![
                        l.month.map(|m| m.to_string()).unwrap_or_default(),
                        l.service.clone(),
                        l.title.clone(),
                        l.level.as_str().into(),
                        l.source.clone(),
                        l.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(
                format,
                &["month", "service", "title", "level", "source", "status"],
                &rows,
            )?;
            if let Some(due) = plan.next_review_due {
                eprintln!(
                    "consult: next six-monthly review due {due}{}",
                    if plan.review_overdue { " (overdue)" } else { "" }
                );
            }
            Ok(())
        }
        PlanCommand::Service {
            slug,
            year,
            service,
            file,
        } => {
            let org = org(slug).await?;
            if !org.services.iter().any(|s| s == &service) {
                return Err(CliError::Input(format!("{} has no service `{service}`", org.slug)));
            }
            let input: consult_core::ServicePlanInput = json_file(&file)?;
            let plan = consult_core::ServicePlan::parse(org.slug.as_str(), &service, year, &input, &actor.name, now)
                .map_err(invalid)?;
            store.save_service_plan(org.id, &plan, actor).await?;
            eprintln!(
                "consult: {} {service} plan for {year}: {} entries",
                org.slug,
                plan.entries.len()
            );
            Ok(())
        }
        PlanCommand::Programme { slug, file } => {
            let org = org(slug).await?;
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Body {
                #[serde(default)]
                items: Vec<consult_core::ProgrammeItemInput>,
            }
            let body: Body = json_file(&file)?;
            let items = consult_core::ProgrammeItem::parse_all(&body.items).map_err(invalid)?;
            if let Some(item) = items.iter().find(|i| !org.services.contains(&i.service)) {
                return Err(CliError::Input(format!(
                    "{} has no service `{}`",
                    org.slug, item.service
                )));
            }
            store.save_programme(org.id, &items, actor, now).await?;
            eprintln!("consult: {} programme: {} items", org.slug, items.len());
            Ok(())
        }
        PlanCommand::Review {
            slug,
            year,
            half,
            notes,
        } => {
            let org = org(slug).await?;
            if notes.trim().is_empty() {
                return Err(CliError::Input("--notes: say what the review found and decided".into()));
            }
            let review = consult_core::PlanReview {
                half,
                reviewed_on: today,
                by: actor.name.clone(),
                notes: notes.trim().to_owned(),
            };
            store.record_plan_review(org.id, year, &review, actor, now).await?;
            eprintln!("consult: review {half} of the {year} plan recorded");
            Ok(())
        }
    }
}

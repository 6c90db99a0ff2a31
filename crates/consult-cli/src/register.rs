//! The register's commands: tokens, organisations, areas, activities, and the register's
//! export and import.

use crate::{CliError, Format, FormatArg, Result, csv_register, parse_id, print_json, print_rows};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use consult_app::{App, AppError, ConsultationFilter, ImportedActivity, Order, TokenRequest};
use consult_core::{
    Actor, AreaCode, AreaInput, ConsultationInput, InvolvementLevel, OrganisationInput, Status, TransitionRequest,
};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
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
        /// Days until it expires: 1 to 3650.
        #[arg(long, default_value_t = consult_app::TOKEN_DAYS)]
        expires_in_days: i64,
    },
    /// List tokens: holder, role, organisation, issued, last used, expires, revoked (never a
    /// secret).
    List(FormatArg),
    /// Revoke a token: it is refused from now on, by every server.
    Revoke {
        /// Token id (from `token list`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum OrgCommand {
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
    Checklist(crate::checklist::OrgChecklistArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AreaCommand {
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

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
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
pub(crate) enum ConsultationCommand {
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
pub(crate) enum ExportFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
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
pub(crate) enum ImportCommand {
    /// Activities from CSV (the columns of `export register`); all rows or none.
    Register {
        /// CSV file.
        file: PathBuf,
    },
}

/// `consult token ...`.
pub(crate) async fn token(app: &App, cmd: TokenCommand, actor: &Actor) -> Result<()> {
    match cmd {
        TokenCommand::Create {
            role,
            organisation,
            name,
            expires_in_days,
        } => {
            if role == "officer" && organisation.is_none() {
                return Err(CliError::Input("an officer token needs --organisation".into()));
            }
            let request = TokenRequest {
                name: Some(name),
                role: Some(role),
                organisation,
                expires_in_days: Some(expires_in_days),
            };
            let (issued, _) = app.issue_token(actor, request).await.map_err(|e| match e {
                AppError::Invalid(v) => CliError::Input(format!(
                    "invalid input: {}",
                    v.to_string().replace("expires_in_days", "--expires-in-days")
                )),
                other => other.into(),
            })?;
            println!("{}", issued.secret);
            Ok(())
        }
        TokenCommand::List(f) => {
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default()
            };
            let rows: Vec<Vec<String>> = app
                .list_tokens(actor)
                .await?
                .into_iter()
                .map(|t| {
                    vec![
                        t.info.id.to_string(),
                        t.info.name,
                        t.info.role.as_str().into(),
                        t.organisation_slug.unwrap_or_default(),
                        time(Some(t.created_at)),
                        time(t.last_used_at),
                        time(t.expires_at),
                        time(t.revoked_at),
                    ]
                })
                .collect();
            print_rows(
                f.format,
                &[
                    "id",
                    "name",
                    "role",
                    "organisation",
                    "created",
                    "last_used",
                    "expires",
                    "revoked",
                ],
                &rows,
            )
        }
        TokenCommand::Revoke { id } => {
            let id = uuid::Uuid::parse_str(id.trim())
                .map_err(|_| CliError::Input(format!("`{id}` is not a token id (a UUID from `consult token list`)")))?;
            let t = app.revoke_token(actor, id).await?;
            eprintln!("consult: revoked token {} ({})", t.info.id, t.info.name);
            Ok(())
        }
    }
}

/// `consult org ...`.
pub(crate) async fn org(app: &App, cmd: OrgCommand, actor: &Actor) -> Result<()> {
    match cmd {
        OrgCommand::Add {
            slug,
            name,
            kind,
            services,
        } => {
            let input = OrganisationInput {
                slug: Some(slug),
                name: Some(name),
                kind: Some(kind),
                services,
            };
            let org = app.create_organisation(actor, input).await?;
            eprintln!("consult: added organisation {}", org.slug);
            Ok(())
        }
        OrgCommand::List(f) => {
            let rows: Vec<Vec<String>> = app
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
        OrgCommand::Checklist(args) => crate::checklist::org_checklist(app, args, actor).await,
    }
}

/// `consult area ...`.
pub(crate) async fn area(app: &App, cmd: AreaCommand, actor: &Actor) -> Result<()> {
    match cmd {
        AreaCommand::Add { code, name, parent } => {
            let input = AreaInput {
                code: Some(code),
                name: Some(name),
                parent,
            };
            let area = app.create_area(actor, input).await?;
            eprintln!("consult: added area {}", area.code);
            Ok(())
        }
        AreaCommand::List(f) => {
            let rows: Vec<Vec<String>> = app
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
    }
}

/// `consult consultation ...`.
pub(crate) async fn consultation(app: &App, cmd: ConsultationCommand, actor: &Actor) -> Result<()> {
    match cmd {
        ConsultationCommand::List(args) => list(app, args, actor).await,
        ConsultationCommand::Show { id } => {
            let c = app.readable_consultation(Some(actor), parse_id(&id)?).await?;
            print_json(&app.register_entry(c).await?.view(app.today()))
        }
        ConsultationCommand::Create { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                crate::read_text(&file)?
            };
            let input: ConsultationInput = crate::parse_json(&text, &file)?;
            let c = app.create_consultation(actor, input).await?;
            println!("{}", c.id);
            Ok(())
        }
        ConsultationCommand::Attest {
            id,
            check,
            answer,
            evidence,
        } => crate::checklist::attest(app, &id, check, answer, evidence, actor).await,
        ConsultationCommand::Transition {
            id,
            to,
            reason,
            override_justification,
        } => {
            let id = parse_id(&id)?;
            let request = TransitionRequest {
                to: Some(to.parse::<Status>().map_err(CliError::Input)?),
                reason,
                override_justification,
            };
            let updated = app.transition(actor, id, &request).await?;
            eprintln!("consult: {} is now {}", updated.id, updated.status_on(app.today()));
            Ok(())
        }
    }
}

async fn list(app: &App, args: ListArgs, actor: &Actor) -> Result<()> {
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
            let code = AreaCode::parse(&a).map_err(CliError::Input)?;
            let h = app.area_hierarchy().await?;
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
    let today = app.today();
    let items = app.list_all_consultations(Some(actor), &filter).await?;
    let orgs = app.list_organisations().await?;
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

/// `consult export register`.
pub(crate) async fn export(app: &App, cmd: ExportCommand, actor: &Actor) -> Result<()> {
    let ExportCommand::Register { format, output } = cmd;
    let today = app.today();
    let items = app
        .list_all_consultations(Some(actor), &ConsultationFilter::default())
        .await?;
    let mut buf = Vec::new();
    match format {
        ExportFormat::Csv => {
            let orgs = app.list_organisations().await?;
            csv_register::write(&mut buf, &items, &orgs, today).map_err(|e| CliError::Failed(e.to_string()))?;
        }
        ExportFormat::Json => {
            let views: Vec<_> = app
                .register_entries(items)
                .await?
                .iter()
                .map(|e| e.view(today))
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

/// `consult import register FILE.csv`: all rows or none.
pub(crate) async fn import(app: &App, cmd: ImportCommand, actor: &Actor) -> Result<()> {
    let ImportCommand::Register { file } = cmd;
    let f = std::fs::File::open(&file).map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let rows = csv_register::read(f).map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
    let rows = rows
        .into_iter()
        .map(|r| ImportedActivity {
            line: r.line,
            id: r.id,
            status: r.status,
            input: r.input,
        })
        .collect();
    match app.import_register(actor, rows, &file.display().to_string()).await {
        Ok(n) => {
            eprintln!("consult: imported {n} activities");
            Ok(())
        }
        Err(AppError::Invalid(problems)) => {
            let lines: Vec<String> = problems
                .errors()
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            Err(CliError::Input(format!(
                "nothing imported; {} row(s) are invalid: {}",
                lines.len(),
                lines.join("; ")
            )))
        }
        Err(AppError::Conflict(m)) => Err(CliError::Input(format!(
            "nothing imported: {m} (an id in the file is already registered)"
        ))),
        Err(other) => Err(other.into()),
    }
}

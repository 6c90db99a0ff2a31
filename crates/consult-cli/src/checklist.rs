//! `consult check`, `consult framework`, `consult org checklist` and `consult consultation attest`.

use crate::{CliError, Format, Result, parse_id, print_json, print_rows};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use consult_app::{App, ChecklistRequest};
use consult_core::{
    Actor, Assessment, AttestationInput, ConsultationInput, ElectionPeriod, Framework, FrameworkCatalogue, Outcome,
};
use std::path::{Path, PathBuf};

/// Arguments of `consult check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// A registered activity's id.
    #[arg(conflicts_with = "file", required_unless_present = "file")]
    id: Option<String>,
    /// A plan file (TOML or JSON, the fields of the consultation body) checked offline.
    #[arg(long)]
    pub(crate) file: Option<PathBuf>,
    /// With --file: a framework to apply (repeat; default: gunning and code_2008).
    #[arg(long = "framework", requires = "file")]
    frameworks: Vec<String>,
    /// With --file: a pre-election period, `START..END` (dates YYYY-MM-DD; repeat).
    #[arg(long = "pre-election", requires = "file")]
    pre_election: Vec<String>,
    /// With --file: the date to assess on (default today).
    #[arg(long, requires = "file")]
    today: Option<NaiveDate>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// `consult framework ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum FrameworkCommand {
    /// List every framework and version.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print one framework as JSON (the newest version unless --version).
    Show {
        /// Framework key.
        key: String,
        /// Version.
        #[arg(long)]
        version: Option<u32>,
    },
    /// Add your own framework (or a new version of it) from a JSON file.
    Add {
        /// JSON file with key, name, source and principles.
        #[arg(long)]
        file: PathBuf,
    },
}

/// Arguments of `consult org checklist`.
#[derive(Debug, Args)]
pub(crate) struct OrgChecklistArgs {
    /// Organisation slug.
    slug: String,
    /// Frameworks to adopt, comma separated (replaces the current choice).
    #[arg(long, value_delimiter = ',')]
    frameworks: Vec<String>,
    /// A pre-election period `NAME=START..END` (repeat; replaces the current periods).
    #[arg(long = "pre-election")]
    pre_election: Vec<String>,
    /// Remove every pre-election period.
    #[arg(long, conflicts_with = "pre_election")]
    clear_pre_election: bool,
}

fn parse_period(name: &str, range: &str) -> Result<ElectionPeriod> {
    let bad = || CliError::Input(format!("`{range}` is not a period START..END with dates YYYY-MM-DD"));
    let (s, e) = range.split_once("..").ok_or_else(bad)?;
    let date = |v: &str| consult_core::parse_date(v).map_err(|m| CliError::Input(format!("`{range}`: {m}")));
    let (starts_on, ends_on) = (date(s)?, date(e)?);
    if ends_on < starts_on {
        return Err(CliError::Input(format!("`{range}` ends before it starts")));
    }
    Ok(ElectionPeriod {
        name: name.to_owned(),
        starts_on,
        ends_on,
    })
}

pub(crate) fn read_plan(path: &Path) -> Result<ConsultationInput> {
    let text = crate::read_text(path)?;
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        crate::parse_json(&text, path)
    } else {
        toml::from_str(&text).map_err(|e| CliError::Input(format!("{}: {}", path.display(), e.message())))
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Warn => "warn",
        Outcome::Fail => "FAIL",
        Outcome::Unanswered => "unanswered",
    }
}

/// Prints an assessment; a blocking failure is exit 1.
fn report(a: &Assessment, format: Format) -> Result<()> {
    match format {
        Format::Json => print_json(a)?,
        other => {
            let rows: Vec<Vec<String>> = a
                .checks
                .iter()
                .map(|c| {
                    vec![
                        outcome_name(c.outcome).to_owned(),
                        serde_json::to_value(c.severity)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        c.id.clone(),
                        c.reason.clone(),
                    ]
                })
                .collect();
            print_rows(other, &["outcome", "severity", "check", "reason"], &rows)?;
            if other == Format::Table {
                let fw: Vec<String> = a
                    .frameworks
                    .iter()
                    .map(|f| format!("{} v{}", f.key, f.version))
                    .collect();
                println!(
                    "\nframeworks: {}; ready: {}; approvable: {}",
                    fw.join(", "),
                    if a.ready { "yes" } else { "no" },
                    if a.approvable { "yes" } else { "no" }
                );
            }
        }
    }
    if a.approvable {
        Ok(())
    } else {
        let ids: Vec<&str> = a.blocking_failures().iter().map(|c| c.id.as_str()).collect();
        Err(CliError::Failed(format!("blocking checks fail: {}", ids.join(", "))))
    }
}

/// `consult check --file plan.toml`: no database, no server.
pub(crate) fn check_file(args: &CheckArgs) -> Result<()> {
    let Some(path) = &args.file else {
        return Err(CliError::Input("give an id or --file".into()));
    };
    let input = read_plan(path)?;
    let periods = args
        .pre_election
        .iter()
        .map(|p| parse_period("the configured election", p))
        .collect::<Result<Vec<_>>>()?;
    let today = args.today.unwrap_or_else(|| Utc::now().date_naive());
    let assessment = consult_app::assess_plan(input, &args.frameworks, &periods, today)?;
    report(&assessment, args.format)
}

/// `consult check ID`.
pub(crate) async fn check_stored(app: &App, args: &CheckArgs, actor: &Actor) -> Result<()> {
    let id = args
        .id
        .as_deref()
        .ok_or_else(|| CliError::Input("give an id or --file".into()))?;
    report(&app.assessment(actor, parse_id(id)?).await?, args.format)
}

/// `consult framework ...`.
pub(crate) async fn framework(app: &App, cmd: FrameworkCommand, actor: &Actor) -> Result<()> {
    let catalogue = app.frameworks().await?;
    match cmd {
        FrameworkCommand::List { format } => {
            let rows: Vec<Vec<String>> = catalogue
                .all()
                .iter()
                .map(|f| {
                    let checks: usize = f.principles.iter().map(|p| p.checks.len()).sum();
                    vec![
                        f.key.clone(),
                        f.version.to_string(),
                        if FrameworkCatalogue::is_builtin(&f.key) {
                            "built in"
                        } else {
                            "custom"
                        }
                        .into(),
                        f.principles.len().to_string(),
                        checks.to_string(),
                        f.name.clone(),
                    ]
                })
                .collect();
            print_rows(
                format,
                &["key", "version", "origin", "principles", "checks", "name"],
                &rows,
            )
        }
        FrameworkCommand::Show { key, version } => {
            let f = match version {
                Some(v) => catalogue.version(&key, v),
                None => catalogue.get(&key),
            };
            print_json(&f.ok_or_else(|| CliError::Input(format!("no framework `{key}`")))?)
        }
        FrameworkCommand::Add { file } => {
            let f: Framework = crate::json_file(&file)?;
            let stored = app.add_framework(actor, f).await?;
            println!("{} v{}", stored.key, stored.version);
            Ok(())
        }
    }
}

/// `consult org checklist SLUG [...]`.
pub(crate) async fn org_checklist(app: &App, args: OrgChecklistArgs, actor: &Actor) -> Result<()> {
    let settings = app.checklist(&args.slug).await?;
    let changing = !args.frameworks.is_empty() || !args.pre_election.is_empty() || args.clear_pre_election;
    if !changing {
        return print_json(&settings);
    }
    let frameworks = if args.frameworks.is_empty() {
        settings.frameworks
    } else {
        args.frameworks
            .iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect()
    };
    let periods = if args.clear_pre_election {
        Vec::new()
    } else if args.pre_election.is_empty() {
        settings.election_periods
    } else {
        args.pre_election
            .iter()
            .map(|p| {
                let (name, range) = p
                    .split_once('=')
                    .ok_or_else(|| CliError::Input(format!("`{p}` is not NAME=START..END")))?;
                parse_period(name.trim(), range)
            })
            .collect::<Result<Vec<_>>>()?
    };
    let request = ChecklistRequest {
        frameworks,
        election_periods: periods
            .into_iter()
            .map(|p| (Some(p.name), Some(p.starts_on.to_string()), Some(p.ends_on.to_string())))
            .collect(),
    };
    print_json(&app.set_checklist(actor, &args.slug, request).await?)
}

/// `consult consultation attest ID --check C --answer yes|no [--evidence E]`.
pub(crate) async fn attest(
    app: &App,
    id: &str,
    check: String,
    answer: String,
    evidence: Option<String>,
    actor: &Actor,
) -> Result<()> {
    let answers = vec![AttestationInput {
        check: Some(check),
        answer: Some(answer),
        evidence,
    }];
    let assessment = app.attest(actor, parse_id(id)?, answers).await?;
    report(&assessment, Format::Table).or(Ok(()))
}

//! `consult plan`: service plans, the recurring programme, the council-wide plan and its
//! six-monthly reviews.

use crate::{CliError, Format, Result, print_json, print_rows};
use clap::Subcommand;
use consult_app::App;
use consult_core::{Actor, ProgrammeItemInput, ServicePlanInput};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum PlanCommand {
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

/// `consult plan ...`.
pub(crate) async fn plan(app: &App, cmd: PlanCommand, actor: &Actor) -> Result<()> {
    match cmd {
        PlanCommand::Show { slug, year, format } => {
            let plan = app.council_plan(Some(actor), &slug, year).await?;
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
            let input: ServicePlanInput = crate::json_file(&file)?;
            let plan = app.save_service_plan(actor, &slug, year, &service, &input).await?;
            eprintln!(
                "consult: {slug} {service} plan for {year}: {} entries",
                plan.entries.len()
            );
            Ok(())
        }
        PlanCommand::Programme { slug, file } => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Body {
                #[serde(default)]
                items: Vec<ProgrammeItemInput>,
            }
            let body: Body = crate::json_file(&file)?;
            let items = app.save_programme(actor, &slug, &body.items).await?;
            eprintln!("consult: {slug} programme: {} items", items.len());
            Ok(())
        }
        PlanCommand::Review {
            slug,
            year,
            half,
            notes,
        } => {
            if notes.trim().is_empty() {
                return Err(CliError::Input("--notes: say what the review found and decided".into()));
            }
            app.review_plan(actor, &slug, year, Some(half), Some(&notes)).await?;
            eprintln!("consult: review {half} of the {year} plan recorded");
            Ok(())
        }
    }
}

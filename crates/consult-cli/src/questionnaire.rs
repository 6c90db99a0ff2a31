//! `consult questionnaire set|show`: an activity's questionnaire from a JSON or TOML file.

use crate::output::print_json;
use crate::{CliError, Result};
use clap::Subcommand;
use consult_app::App;
use consult_core::{Actor, QuestionnaireInput};
use std::path::{Path, PathBuf};

/// `consult questionnaire ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum QuestionnaireCommand {
    /// Set an activity's questionnaire from a file (Q.json, or Q.toml with `[[sections]]` and
    /// `[[sections.questions]]`): any change until it opens, then only wording corrections.
    Set {
        /// The activity's id.
        id: String,
        /// The questionnaire (`.json`, else TOML).
        #[arg(long)]
        file: PathBuf,
    },
    /// Print an activity's current questionnaire as JSON, with its version.
    Show {
        /// The activity's id.
        id: String,
    },
    /// The library of standard questions (ask one in a questionnaire file with
    /// `{ "standard": NAME }`) and the monitoring questions asked beside every questionnaire.
    Standard {
        /// Show this organisation's monitoring questions (default: the default scheme).
        #[arg(long)]
        organisation: Option<String>,
        /// Print everything as JSON (default: a table of the standard questions).
        #[arg(long)]
        json: bool,
    },
}

/// Reads a questionnaire file: JSON by its extension, else TOML.
fn read_file(path: &Path) -> Result<QuestionnaireInput> {
    let text = crate::read_text(path)?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        crate::parse_json(&text, path)
    } else {
        toml::from_str(&text).map_err(|e| CliError::Input(format!("{}: {}", path.display(), e.message())))
    }
}

/// Runs a `consult questionnaire` command.
pub(crate) async fn questionnaire(app: &App, cmd: QuestionnaireCommand, actor: &Actor) -> Result<()> {
    match cmd {
        QuestionnaireCommand::Standard { organisation, json } => {
            let library = app.standard_library(organisation.as_deref()).await?;
            if json {
                return crate::output::print_json(&library);
            }
            for q in &library.questions {
                println!(
                    "{:<14} {:<16} {}",
                    q.standard,
                    q.question.kind.as_deref().unwrap_or_default(),
                    q.question.text.as_deref().unwrap_or_default()
                );
            }
            let keys: Vec<&str> = library
                .monitoring
                .characteristics
                .iter()
                .map(|c| c.key.as_str())
                .collect();
            eprintln!(
                "monitoring questions ({}), asked beside every questionnaire: {}",
                library.monitoring.name,
                keys.join(", ")
            );
            Ok(())
        }
        QuestionnaireCommand::Set { id, file } => {
            let id = crate::parse_id(&id)?;
            let input = read_file(&file)?;
            let stored = app.set_questionnaire(actor, id, input).await?;
            eprintln!(
                "consult: questionnaire saved as version {} ({} questions)",
                stored.version,
                stored.questions().count()
            );
            Ok(())
        }
        QuestionnaireCommand::Show { id } => {
            let id = crate::parse_id(&id)?;
            let q = app.questionnaire(Some(actor), id).await?;
            print_json(&q.to_input())
        }
    }
}

//! `consult themes ID ...`: an activity's codeframe, coding free-text answers, and theme
//! suggestions (accept, rename, reject).

use crate::{CliError, Format, Result, parse_id, print_json, print_rows};
use clap::{Args, Subcommand};
use consult_app::App;
use consult_core::{Actor, CodeInput, SuggestionDecision, ThemeInput, ThemePatch};

/// `consult themes ID <command>`.
#[derive(Debug, Args)]
pub(crate) struct ThemesArgs {
    /// The activity's id.
    id: String,
    #[command(subcommand)]
    command: ThemesCommand,
}

/// What to do with the codeframe.
#[derive(Debug, Subcommand)]
pub(crate) enum ThemesCommand {
    /// List the codeframe, with coding progress per free-text question on stderr.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Add a theme.
    Add {
        /// Its key (lowercase letters, digits, `_`, `-`).
        key: String,
        /// Its label.
        #[arg(long)]
        label: String,
        /// What it covers.
        #[arg(long)]
        description: Option<String>,
        /// A top-level theme to nest it under.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Change a theme's label, description or parent.
    Edit {
        /// Its key.
        key: String,
        /// A new label.
        #[arg(long)]
        label: Option<String>,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
        /// A new parent.
        #[arg(long, conflicts_with = "top_level")]
        parent: Option<String>,
        /// Make it a top-level theme.
        #[arg(long)]
        top_level: bool,
    },
    /// Delete a theme (refused while answers use it, unless --move-to recodes them).
    Delete {
        /// Its key.
        key: String,
        /// Recode its answers with this theme first.
        #[arg(long)]
        move_to: Option<String>,
    },
    /// Suggest themes for the uncoded answers of a free-text question.
    Suggest {
        /// The question's key.
        #[arg(long)]
        question: String,
        /// Output format (json: the API's shape, with every response id).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Accept a suggestion, optionally renamed: creates the theme and codes its answers.
    Accept {
        /// The question's key.
        #[arg(long)]
        question: String,
        /// The suggestion's id.
        #[arg(long)]
        suggestion: String,
        /// Another key for the theme (an existing theme's key adds the answers to it).
        #[arg(long)]
        key: Option<String>,
        /// Another label.
        #[arg(long)]
        label: Option<String>,
    },
    /// Reject a suggestion: it is not offered again for the question.
    Reject {
        /// The question's key.
        #[arg(long)]
        question: String,
        /// The suggestion's id.
        #[arg(long)]
        suggestion: String,
    },
    /// Code one response's answer to a free-text question (no --theme: remove the coding).
    Code {
        /// The response's id.
        response: String,
        /// The question's key.
        #[arg(long)]
        question: String,
        /// A theme's key (repeat for several).
        #[arg(long = "theme")]
        themes: Vec<String>,
        /// The analyst's note.
        #[arg(long)]
        note: Option<String>,
    },
}

/// Runs a `consult themes` command.
pub(crate) async fn themes(app: &App, args: ThemesArgs, actor: &Actor) -> Result<()> {
    let id = parse_id(&args.id)?;
    match args.command {
        ThemesCommand::List { format } => {
            let themes = app.themes(actor, id).await?;
            for p in app.coding_progress(actor, id).await? {
                eprintln!("consult: {}: {} of {} answers coded", p.question, p.coded, p.total);
            }
            if format == Format::Json {
                return print_json(&themes);
            }
            let rows: Vec<Vec<String>> = themes
                .iter()
                .map(|t| {
                    vec![
                        t.key.clone(),
                        t.label.clone(),
                        t.parent.clone().unwrap_or_default(),
                        t.description.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(format, &["key", "label", "parent", "description"], &rows)
        }
        ThemesCommand::Add {
            key,
            label,
            description,
            parent,
        } => {
            let input = ThemeInput {
                key: Some(key),
                label: Some(label),
                description,
                parent,
            };
            let t = app.create_theme(actor, id, &input).await?;
            eprintln!("consult: theme `{}` added", t.key);
            Ok(())
        }
        ThemesCommand::Edit {
            key,
            label,
            description,
            parent,
            top_level,
        } => {
            let patch = ThemePatch {
                label: label.map(Some),
                description: description.map(Some),
                parent: if top_level { Some(None) } else { parent.map(Some) },
            };
            let t = app.update_theme(actor, id, &key, &patch).await?;
            eprintln!("consult: theme `{}` changed", t.key);
            Ok(())
        }
        ThemesCommand::Delete { key, move_to } => {
            let recoded = app.delete_theme(actor, id, &key, move_to.as_deref()).await?;
            eprintln!("consult: theme `{key}` deleted ({recoded} answer(s) recoded)");
            Ok(())
        }
        ThemesCommand::Suggest { question, format } => {
            let list = app.theme_suggestions(actor, id, Some(&question)).await?;
            eprintln!(
                "consult: {}: {} of {} answers coded",
                list.progress.question, list.progress.coded, list.progress.total
            );
            if format == Format::Json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .suggestions
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.key.clone(),
                        s.label.clone(),
                        s.count.to_string(),
                        s.terms.join(" "),
                    ]
                })
                .collect();
            print_rows(format, &["suggestion", "key", "label", "answers", "terms"], &rows)
        }
        ThemesCommand::Accept {
            question,
            suggestion,
            key,
            label,
        } => {
            let decision = SuggestionDecision {
                question: Some(question),
                suggestion: Some(suggestion),
                key,
                label,
            };
            let a = app.accept_suggestion(actor, id, &decision).await?;
            eprintln!(
                "consult: {} answer(s) coded with `{}`{}",
                a.coded,
                a.theme.key,
                if a.created { " (new theme)" } else { "" }
            );
            Ok(())
        }
        ThemesCommand::Reject { question, suggestion } => {
            let decision = SuggestionDecision {
                question: Some(question),
                suggestion: Some(suggestion),
                key: None,
                label: None,
            };
            app.reject_suggestion(actor, id, &decision).await?;
            eprintln!("consult: suggestion rejected");
            Ok(())
        }
        ThemesCommand::Code {
            response,
            question,
            themes,
            note,
        } => {
            let response = response
                .parse()
                .map_err(|_| CliError::Input(format!("`{response}` is not a response id (a UUID)")))?;
            let input = CodeInput {
                question: Some(question),
                themes,
                note,
            };
            let codes = app.code_answer(actor, id, response, &input).await?;
            print_json(&codes)
        }
    }
}

//! `consult user add|list|show|set|disable|enable`: staff accounts; `consult outbox briefings`
//! lives with the outbox.

use crate::Result;
use crate::output::{FormatArg, print_json, print_rows};
use consult_app::{App, UserPatch, UserView};
use consult_core::{Actor, StaffUserInput};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum UserCommand {
    /// Add a staff account; prints it.
    Add {
        /// Their work e-mail address (their digest and alerts go there).
        #[arg(long)]
        email: String,
        /// Their name.
        #[arg(long)]
        name: String,
        /// admin, coordinator, organisation_coordinator, service_lead, officer, councillor or viewer.
        #[arg(long)]
        role: String,
        /// Their organisation's slug (organisation coordinators, service leads, officers, viewers).
        #[arg(long)]
        organisation: Option<String>,
        /// Their service, one of the organisation's (service leads).
        #[arg(long)]
        service: Option<String>,
        /// A ward or division they represent, by area code (councillors; repeat for more).
        #[arg(long = "ward", value_name = "CODE")]
        wards: Vec<String>,
        /// A kind of message not to send them (digest, alert; repeat for more).
        #[arg(long = "stop", value_name = "KIND")]
        stopped: Vec<String>,
    },
    /// Every staff account, by name.
    List {
        #[command(flatten)]
        format: FormatArg,
    },
    /// One account (by id or e-mail address), as JSON.
    Show {
        /// The account's id or e-mail address.
        user: String,
    },
    /// Change an account (by id or e-mail address): only the options given change.
    Set {
        /// The account's id or e-mail address.
        user: String,
        /// New e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New role.
        #[arg(long)]
        role: Option<String>,
        /// New organisation slug ("" for none).
        #[arg(long)]
        organisation: Option<String>,
        /// New service ("" for none).
        #[arg(long)]
        service: Option<String>,
        /// The wards, replacing the list (repeat for more).
        #[arg(long = "ward", value_name = "CODE")]
        wards: Option<Vec<String>>,
        /// Kinds of message not to send them, replacing the list (`--stop ""` for none).
        #[arg(long = "stop", value_name = "KIND")]
        stopped: Option<Vec<String>>,
    },
    /// Disable an account: nothing more is sent to it, and what waits is cancelled.
    Disable {
        /// The account's id or e-mail address.
        user: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The account's id or e-mail address.
        user: String,
    },
    /// Set a local account's password for the staff workspace, read from standard input (its
    /// first line), so it is in no shell history or process list; signs the account out
    /// everywhere. Admins set up a second factor at their next sign-in.
    Password {
        /// The account's id or e-mail address.
        user: String,
        /// Also remove the account's second factor (a lost device): it sets up a new one at
        /// its next sign-in if it is an admin's.
        #[arg(long)]
        reset_second_factor: bool,
    },
}

fn print_user(u: &UserView) -> Result<()> {
    print_json(u)
}

/// `consult user ...`.
pub(crate) async fn user(app: &App, cmd: UserCommand, actor: &Actor) -> Result<()> {
    let patch_of = |disabled| UserPatch {
        disabled: Some(disabled),
        ..UserPatch::default()
    };
    match cmd {
        UserCommand::Add {
            email,
            name,
            role,
            organisation,
            service,
            wards,
            stopped,
        } => {
            let input = StaffUserInput {
                email: Some(email),
                name: Some(name),
                role: Some(role),
                organisation,
                service,
                wards,
                stopped_messages: stopped,
            };
            let u = app.create_user(actor, &input).await?;
            eprintln!("added {} ({})", u.email, u.role.as_str());
            print_user(&u)
        }
        UserCommand::List { format } => {
            let users = app.users(actor).await?;
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    vec![
                        u.id.to_string(),
                        u.name.clone(),
                        u.email.clone(),
                        u.role.as_str().to_owned(),
                        u.organisation.clone().unwrap_or_default(),
                        u.service.clone().unwrap_or_default(),
                        u.wards.join(" "),
                        u.stopped_messages
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        if u.disabled { "disabled" } else { "active" }.to_owned(),
                    ]
                })
                .collect();
            print_rows(
                format.format,
                &[
                    "id",
                    "name",
                    "email",
                    "role",
                    "organisation",
                    "service",
                    "wards",
                    "stopped",
                    "state",
                ],
                &rows,
            )
        }
        UserCommand::Show { user } => {
            let id = app.user_id(actor, &user).await?;
            print_user(&app.user(actor, id).await?)
        }
        UserCommand::Set {
            user,
            email,
            name,
            role,
            organisation,
            service,
            wards,
            stopped,
        } => {
            let id = app.user_id(actor, &user).await?;
            let patch = UserPatch {
                email,
                name,
                role,
                organisation,
                service,
                wards,
                stopped_messages: stopped.map(|s| s.into_iter().filter(|k| !k.trim().is_empty()).collect()),
                disabled: None,
            };
            print_user(&app.update_user(actor, id, &patch).await?)
        }
        UserCommand::Disable { user } => {
            let id = app.user_id(actor, &user).await?;
            let u = app.update_user(actor, id, &patch_of(true)).await?;
            eprintln!(
                "disabled {}: signed out everywhere, nothing more is sent to it",
                u.email
            );
            Ok(())
        }
        UserCommand::Enable { user } => {
            let id = app.user_id(actor, &user).await?;
            let u = app.update_user(actor, id, &patch_of(false)).await?;
            eprintln!("enabled {}", u.email);
            Ok(())
        }
        UserCommand::Password {
            user,
            reset_second_factor,
        } => {
            let id = app.user_id(actor, &user).await?;
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            app.set_password(actor, id, password, reset_second_factor).await?;
            eprintln!("password set; the account is signed out everywhere");
            Ok(())
        }
    }
}

/// `--on`: a date.
pub(crate) fn date_arg(s: &str) -> std::result::Result<chrono::NaiveDate, String> {
    consult_core::parse_date(s)
}

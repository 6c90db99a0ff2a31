//! `consult deliver` (a delivery worker on its own), the delivery options `consult serve`
//! shares with it, and `consult outbox list|retry|purge`.

use crate::{CliError, Format, FormatArg, Result, print_json, print_rows};
use clap::{Args, Subcommand};
use consult_app::delivery::{Deliverer, DeliverySettings, Transport};
use consult_app::{App, OutboxFilter, PageRequest};
use consult_core::{Actor, DeliveryStatus, MessageKind};
use std::sync::Arc;

/// The channels messages are delivered through (all optional: with none, messages stay queued).
#[derive(Debug, Clone, Args)]
pub(crate) struct DeliveryArgs {
    /// E-mail relay: smtp://[user:pass@]host[:port] (plain: a relay on this machine or
    /// network), smtp://...?tls=required (STARTTLS, port 587 by default) or smtps://... (TLS,
    /// port 465 by default). Without it, e-mails stay queued.
    #[arg(long, env = "CONSULT_SMTP_URL", value_name = "URL")]
    smtp_url: Option<String>,
    /// The sender of e-mails, e.g. "Tamworth Borough Council <consult@tamworth.gov.uk>".
    #[arg(long, env = "CONSULT_MAIL_FROM", default_value = "consult <consult@localhost>")]
    mail_from: String,
    /// Connections kept open to the e-mail relay (messages sent at once).
    #[arg(long, env = "CONSULT_SMTP_CONNECTIONS", default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(1..=64))]
    smtp_connections: u32,
    /// Tries of a message before it is given up (backoff from a minute, doubling, at most 12
    /// hours apart).
    #[arg(long, env = "CONSULT_DELIVERY_ATTEMPTS", default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=50))]
    delivery_attempts: u32,
}

impl DeliveryArgs {
    /// The configured transports (none when no channel is configured).
    fn transports(&self) -> Result<Vec<Arc<dyn Transport>>> {
        let mut out: Vec<Arc<dyn Transport>> = Vec::new();
        if let Some(url) = &self.smtp_url {
            let smtp = consult_delivery::SmtpChannel::new(&consult_delivery::SmtpSettings {
                url: url.clone(),
                from: self.mail_from.clone(),
                connections: self.smtp_connections,
            })
            .map_err(|e| CliError::Input(e.to_string()))?;
            out.push(Arc::new(smtp));
        }
        Ok(out)
    }

    /// A deliverer for `app`, or `None` when no channel is configured.
    pub(crate) fn deliverer(&self, app: &App) -> Result<Option<Deliverer>> {
        let transports = self.transports()?;
        if transports.is_empty() {
            return Ok(None);
        }
        let settings = DeliverySettings {
            retry: consult_core::RetryPolicy {
                max_attempts: self.delivery_attempts,
                ..consult_core::RetryPolicy::default()
            },
            ..DeliverySettings::default()
        };
        Ok(Some(Deliverer::new(app.clone(), transports, settings)))
    }
}

/// Arguments of `consult deliver`.
#[derive(Debug, Args)]
pub(crate) struct DeliverArgs {
    #[command(flatten)]
    delivery: DeliveryArgs,
    /// The address the public reaches the hub at, for the links in messages.
    #[arg(long, env = "CONSULT_PUBLIC_URL", value_parser = crate::serve::public_url)]
    public_url: Option<String>,
    /// Send what is due now, then stop (else run until interrupted).
    #[arg(long)]
    once: bool,
}

/// `consult deliver [--once]`.
pub(crate) async fn deliver(app: &App, args: DeliverArgs) -> Result<()> {
    let app = match &args.public_url {
        Some(url) => app.clone().with_public_url(url),
        None => app.clone(),
    };
    let Some(deliverer) = args.delivery.deliverer(&app)? else {
        return Err(CliError::Input(
            "no channel is configured: give --smtp-url (messages stay queued until one is)".into(),
        ));
    };
    if args.once {
        let round = deliverer.drain().await?;
        return print_json(&serde_json::json!({
            "sent": round.sent,
            "retrying": round.retrying,
            "failed": round.failed,
        }));
    }
    crate::serve::init_logging();
    tracing::info!(channels = ?deliverer.channels(), "delivering messages until interrupted");
    deliverer
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    Ok(())
}

/// `consult outbox ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum OutboxCommand {
    /// Messages, newest first (recipients masked), after a count by channel and status.
    List {
        /// Only messages in this status (queued, sending, sent, failed, cancelled, suppressed).
        #[arg(long, value_parser = status_arg)]
        status: Option<DeliveryStatus>,
        /// Only messages of this kind (verification, invitation, ...).
        #[arg(long, value_parser = kind_arg)]
        kind: Option<MessageKind>,
        /// Only messages about this activity.
        #[arg(long)]
        consultation: Option<String>,
        /// At most this many messages.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Queue a failed message again.
    Retry {
        /// The message's id.
        id: String,
    },
    /// Delete sent, failed, cancelled and suppressed messages older than some days.
    Purge {
        /// Days a final message is kept.
        #[arg(long, default_value_t = 90)]
        older_than_days: u32,
    },
}

fn status_arg(s: &str) -> std::result::Result<DeliveryStatus, String> {
    DeliveryStatus::parse(s).ok_or_else(|| {
        let all: Vec<_> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("one of {}", all.join(", "))
    })
}

fn kind_arg(s: &str) -> std::result::Result<MessageKind, String> {
    MessageKind::parse(s).ok_or_else(|| {
        let all: Vec<_> = MessageKind::ALL.iter().map(|s| s.as_str()).collect();
        format!("one of {}", all.join(", "))
    })
}

/// `consult outbox list|retry|purge`.
pub(crate) async fn outbox(app: &App, cmd: OutboxCommand, actor: &Actor) -> Result<()> {
    match cmd {
        OutboxCommand::List {
            status,
            kind,
            consultation,
            limit,
            format,
        } => {
            let filter = OutboxFilter {
                status,
                kind,
                channel: None,
                consultation: consultation.as_deref().map(crate::parse_id).transpose()?,
            };
            let page = app.outbox(actor, &filter, &PageRequest { limit, cursor: None }).await?;
            let counts = app.outbox_counts(actor).await?;
            if format.format == Format::Json {
                return print_json(&serde_json::json!({
                    "counts": counts.counts.iter().map(|((c, s), n)| serde_json::json!({
                        "channel": c.as_str(), "status": s.as_str(), "count": n
                    })).collect::<Vec<_>>(),
                    "items": page.items,
                }));
            }
            let waiting: u64 = counts
                .counts
                .iter()
                .filter(|((_, s), _)| *s == DeliveryStatus::Queued)
                .map(|(_, n)| n)
                .sum();
            for ((channel, status), n) in &counts.counts {
                eprintln!("{:<6} {:<10} {n}", channel.as_str(), status.as_str());
            }
            if waiting > 0 {
                let since = counts
                    .oldest_waiting
                    .map(|t| format!(", the oldest due since {}", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default();
                eprintln!(
                    "{waiting} messages wait to be sent{since}: `consult serve` or `consult deliver` sends them \
                     through the channels given (--smtp-url for e-mail); without one they stay queued"
                );
            }
            let rows: Vec<Vec<String>> = page
                .items
                .iter()
                .map(|m| {
                    vec![
                        m.id.to_string(),
                        m.kind.as_str().into(),
                        m.channel.as_str().into(),
                        m.status.as_str().into(),
                        m.attempts.to_string(),
                        m.recipient.clone().unwrap_or_default(),
                        m.created_at.format("%Y-%m-%d %H:%M").to_string(),
                        m.last_error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(
                format.format,
                &[
                    "id",
                    "kind",
                    "channel",
                    "status",
                    "tries",
                    "recipient",
                    "queued",
                    "last error",
                ],
                &rows,
            )
        }
        OutboxCommand::Retry { id } => {
            let id = id
                .parse()
                .map_err(|_| CliError::Input(format!("`{id}` is not a message id (a UUID)")))?;
            print_json(&app.retry_message(actor, id).await?)
        }
        OutboxCommand::Purge { older_than_days } => {
            let deleted = app.purge_outbox(actor, older_than_days).await?;
            print_json(&serde_json::json!({ "deleted": deleted, "older_than_days": older_than_days }))
        }
    }
}

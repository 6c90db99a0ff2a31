//! `consult deliver` (a delivery worker on its own), the delivery options `consult serve`
//! shares with it, and `consult outbox list|retry|letters|printed|purge`.

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
    /// A GOV.UK Notify API key (name-<service id>-<secret>, from Notify's API integration
    /// page): e-mails, text messages and (with --notify-channels) letters go through Notify.
    #[arg(long, env = "CONSULT_NOTIFY_API_KEY", value_name = "KEY", hide_env_values = true)]
    notify_api_key: Option<String>,
    /// GOV.UK Notify's address (a stand-in's in tests).
    #[arg(long, env = "CONSULT_NOTIFY_URL", default_value = consult_delivery::notify::NOTIFY_URL)]
    notify_url: String,
    /// The Notify template of a message kind on a channel, as kind[:channel]=template-id (the
    /// channel email unless given: invitation=ID, invitation:sms=ID, invitation:post=ID); once
    /// per kind and channel. Kinds: verification, invitation, results_notice, reply, digest,
    /// alert.
    #[arg(long = "notify-template", env = "CONSULT_NOTIFY_TEMPLATES", value_delimiter = ',',
        value_name = "KIND[:CHANNEL]=ID", value_parser = template_arg)]
    notify_templates: Vec<TemplateArg>,
    /// What Notify sends: any of email, sms, post (e-mail goes through --smtp-url instead when
    /// both are given; letters sent by Notify are printed and posted by Notify).
    #[arg(long, env = "CONSULT_NOTIFY_CHANNELS", value_delimiter = ',', default_value = "email,sms",
        value_parser = notify_channel_arg)]
    notify_channels: Vec<consult_core::ContactChannel>,
    /// Requests to Notify in flight at once.
    #[arg(long, env = "CONSULT_NOTIFY_CONNECTIONS", default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=64))]
    notify_connections: u32,
    /// The bearer token set on Notify's callbacks page: delivery receipts and complaints
    /// posted to /api/v1/outbox/reports/notify with it suppress bounced addresses.
    #[arg(
        long,
        env = "CONSULT_NOTIFY_CALLBACK_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub(crate) notify_callback_token: Option<String>,
    /// Seconds a worker's claim on a message lasts: if the worker dies, another sends the
    /// message after this long (longer than any one send can take).
    #[arg(long, env = "CONSULT_DELIVERY_LEASE_SECONDS", default_value_t = 120,
        value_parser = clap::value_parser!(u64).range(1..=86_400))]
    delivery_lease_seconds: u64,
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
        if let Some(key) = &self.notify_api_key {
            let notify = consult_delivery::NotifyChannel::new(&consult_delivery::NotifySettings {
                api_key: key.clone(),
                url: self.notify_url.clone(),
                templates: self.notify_templates.iter().copied().collect(),
                channels: self.notify_channels.clone(),
                connections: self.notify_connections,
            })
            .map_err(|e| CliError::Input(e.to_string()))?;
            out.push(Arc::new(notify));
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
            lease: std::time::Duration::from_secs(self.delivery_lease_seconds),
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
            "no channel is configured: give --smtp-url or --notify-api-key (messages stay queued until one is)".into(),
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
    /// Write the letters waiting to be printed (residents who chose post) as a mail-merge CSV
    /// and/or a printable PDF, and list them. Nothing is marked: after printing, confirm with
    /// `consult outbox printed --from FILE.csv`.
    Letters {
        /// Write the mail-merge CSV here (a row per letter, the address in lines, every field).
        #[arg(long, value_name = "FILE")]
        csv: Option<std::path::PathBuf>,
        /// Write the letters as a PDF here (A4, the address placed for a DL window envelope).
        #[arg(long, value_name = "FILE")]
        pdf: Option<std::path::PathBuf>,
        /// At most this many letters, oldest first.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5000))]
        limit: u32,
        /// Who a letter is from when its kind names no organisation (a registration code).
        #[arg(long, default_value = "The consultation hub")]
        sender: String,
        /// The address the public reaches the hub at, for the links in letters.
        #[arg(long, env = "CONSULT_PUBLIC_URL", value_parser = crate::serve::public_url)]
        public_url: Option<String>,
    },
    /// Confirm letters printed and posted: they are marked sent and their addresses erased.
    Printed {
        /// The letters' ids.
        ids: Vec<String>,
        /// Take the ids from the `id` column of a letters CSV written by `consult outbox letters`.
        #[arg(long, value_name = "FILE.csv", conflicts_with = "ids")]
        from: Option<std::path::PathBuf>,
    },
    /// Queue the briefings due today (or on --on), as `consult serve` does hourly from 07:00
    /// UTC: each councillor's weekly digest of activities in their wards and each
    /// coordinator's alert (approvals waiting, feedback overdue). Once per account and week or
    /// day: running it again queues nothing more.
    Briefings {
        /// The day to queue for (YYYY-MM-DD; default today).
        #[arg(long, value_parser = crate::users::date_arg)]
        on: Option<chrono::NaiveDate>,
        /// The address the public reaches the hub at, for the links in the briefings.
        #[arg(long, env = "CONSULT_PUBLIC_URL", value_parser = crate::serve::public_url)]
        public_url: Option<String>,
    },
    /// Delete sent, failed, cancelled and suppressed messages older than some days.
    Purge {
        /// Days a final message is kept.
        #[arg(long, default_value_t = 90)]
        older_than_days: u32,
    },
}

type TemplateArg = ((MessageKind, consult_core::ContactChannel), uuid::Uuid);

fn template_arg(s: &str) -> std::result::Result<TemplateArg, String> {
    let (name, id) = s
        .split_once('=')
        .ok_or("kind[:channel]=template-id, e.g. invitation=<uuid> or invitation:sms=<uuid>")?;
    let (kind, channel) = match name.split_once(':') {
        Some((k, c)) => (kind_arg(k.trim())?, notify_channel_arg(c)?),
        None => (kind_arg(name.trim())?, consult_core::ContactChannel::Email),
    };
    let id = id
        .trim()
        .parse()
        .map_err(|_| format!("`{id}` is not a Notify template id (a UUID)"))?;
    Ok(((kind, channel), id))
}

fn notify_channel_arg(s: &str) -> std::result::Result<consult_core::ContactChannel, String> {
    match consult_core::ContactChannel::parse(s.trim()) {
        Some(c) if c != consult_core::ContactChannel::Phone => Ok(c),
        _ => Err("one of email, sms, post".into()),
    }
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

/// `consult outbox list|retry|letters|printed|purge`.
pub(crate) async fn outbox(app: &App, cmd: OutboxCommand, actor: &Actor) -> Result<()> {
    match cmd {
        OutboxCommand::Briefings { on, public_url } => {
            let app = match public_url {
                Some(url) => app.clone().with_public_url(url),
                None => app.clone(),
            };
            let day = on.unwrap_or_else(|| app.today());
            let q = app.queue_briefings(actor, day).await?;
            eprintln!(
                "queued {} digests and {} alerts for {day}; `consult deliver` or `consult serve` sends them",
                q.digests, q.alerts
            );
            print_json(&q)
        }
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
        OutboxCommand::Letters {
            csv,
            pdf,
            limit,
            sender,
            public_url,
        } => {
            let app = match &public_url {
                Some(url) => app.clone().with_public_url(url),
                None => app.clone(),
            };
            let waiting = app.letters(actor, limit).await?;
            let letters = consult_delivery::letters::render_all(&waiting, app.now(), &sender)
                .map_err(|e| CliError::Failed(e.to_string()))?;
            if let Some(path) = &csv {
                let bytes = consult_delivery::letters::csv(&letters).map_err(|e| CliError::Failed(e.to_string()))?;
                write_file(path, &bytes)?;
            }
            if let Some(path) = &pdf {
                write_file(path, &consult_delivery::letters::pdf(&letters))?;
            }
            eprintln!(
                "{} letters wait to be printed{}",
                letters.len(),
                if letters.is_empty() || csv.is_some() || pdf.is_some() {
                    ""
                } else {
                    ": write them with --csv FILE or --pdf FILE"
                }
            );
            print_json(&serde_json::json!({
                "count": letters.len(),
                "letters": letters.iter().map(|l| serde_json::json!({
                    "id": l.id, "kind": l.kind, "heading": l.heading,
                })).collect::<Vec<_>>(),
            }))
        }
        OutboxCommand::Printed { ids, from } => {
            let ids: Vec<String> = match &from {
                Some(path) => ids_from_csv(path)?,
                None => ids,
            };
            if ids.is_empty() {
                return Err(CliError::Input(
                    "name the letters printed: their ids, or --from FILE.csv".into(),
                ));
            }
            let ids = ids
                .iter()
                .map(|id| {
                    id.trim()
                        .parse()
                        .map_err(|_| CliError::Input(format!("`{id}` is not a letter id (a UUID)")))
                })
                .collect::<Result<Vec<uuid::Uuid>>>()?;
            let printed = app.letters_printed(actor, &ids).await?;
            print_json(&serde_json::json!({ "printed": printed, "named": ids.len() }))
        }
        OutboxCommand::Purge { older_than_days } => {
            let deleted = app.purge_outbox(actor, older_than_days).await?;
            print_json(&serde_json::json!({ "deleted": deleted, "older_than_days": older_than_days }))
        }
    }
}

/// Writes a file whole (replacing it), saying which file failed.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
}

/// The `id` column of a letters CSV.
fn ids_from_csv(path: &std::path::Path) -> Result<Vec<String>> {
    let bad = |e: &dyn std::fmt::Display| CliError::Input(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(&e))?;
    let column = reader
        .headers()
        .map_err(|e| bad(&e))?
        .iter()
        .position(|h| h == "id")
        .ok_or_else(|| bad(&"has no `id` column (write it with `consult outbox letters --csv`)"))?;
    let mut ids = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(&e))?;
        match record.get(column) {
            Some(id) if !id.trim().is_empty() => ids.push(id.to_owned()),
            _ => return Err(bad(&format!("line {} has no id", line + 2))),
        }
    }
    Ok(ids)
}

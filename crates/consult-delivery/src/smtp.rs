//! E-mail over SMTP with `lettre`: a pool of connections to one relay, plain text and HTML in
//! one multipart message, RFC 8058 one-click unsubscribe headers, and the SMTP reply sorted
//! into the outcomes the outbox records.

use crate::DeliveryError;
use crate::email::render;
use consult_app::delivery::{Outgoing, SendFuture, Transport};
use consult_core::{ContactChannel, SendOutcome};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How to reach the relay and who the mail is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// `smtp://[user:pass@]host[:port]` (plain, for a relay on the same machine or network),
    /// `smtp://...?tls=required` (STARTTLS, port 587 by default) or `smtps://...` (TLS from the
    /// start, port 465 by default).
    pub url: String,
    /// The sender, e.g. `Tamworth Borough Council <consult@tamworth.gov.uk>`.
    pub from: String,
    /// Connections kept open to the relay (and messages sent at once).
    pub connections: u32,
}

/// E-mail over SMTP.
#[derive(Debug, Clone)]
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    connections: u32,
    /// The domain of the sender's address: message ids are `<id@domain>`.
    domain: String,
}

impl SmtpChannel {
    /// A channel to the relay `settings.url` names. Nothing is connected until the first
    /// message goes.
    pub fn new(settings: &SmtpSettings) -> Result<Self, DeliveryError> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| DeliveryError::Config(format!("--mail-from `{}`: {e}", settings.from)))?;
        let connections = settings.connections.clamp(1, 64);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| DeliveryError::Config(format!("--smtp-url: {e}")))?
            .pool_config(PoolConfig::new().max_size(connections))
            .build();
        let domain = from.email.domain().to_owned();
        Ok(Self {
            transport,
            from,
            connections,
            domain,
        })
    }

    /// The e-mail a message becomes: From, To, Subject, a `Message-ID` made from the message's
    /// id (the same on every try, so a receiving system can tell a repeat), both parts, and
    /// for every kind but verification the one-click unsubscribe headers.
    pub fn build(&self, o: &Outgoing) -> Result<Message, SendOutcome> {
        let email = render(o).map_err(|e| SendOutcome::Permanent(e.to_string()))?;
        let to: Mailbox = o
            .message
            .recipient
            .parse()
            .map_err(|e| SendOutcome::Rejected(format!("not an e-mail address: {e}")))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .message_id(Some(format!("<{}@{}>", o.message.id, self.domain)));
        if let Some(url) = &o.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(email.text, email.html))
            .map_err(|e| SendOutcome::Permanent(format!("building the e-mail: {e}")))
    }
}

/// Sorts an SMTP failure: a refused recipient address (550, 551, 553: no such mailbox) is
/// rejected and suppressed; any other 5xx reply is permanent; 4xx replies, timeouts and
/// connection failures are temporary.
fn outcome_of(e: &lettre::transport::smtp::Error) -> SendOutcome {
    let text = e.to_string();
    match e.status().map(u16::from) {
        Some(550 | 551 | 553) => SendOutcome::Rejected(text),
        Some(_) if e.is_permanent() => SendOutcome::Permanent(text),
        _ => SendOutcome::Temporary(text),
    }
}

impl Transport for SmtpChannel {
    fn channels(&self) -> Vec<ContactChannel> {
        vec![ContactChannel::Email]
    }

    fn concurrency(&self) -> usize {
        self.connections as usize
    }

    fn send<'a>(&'a self, o: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            let message = match self.build(o) {
                Ok(m) => m,
                Err(outcome) => return outcome,
            };
            match self.transport.send(message).await {
                Ok(reply) => SendOutcome::Accepted {
                    reference: reply.message().next().map(|l| l.chars().take(200).collect()),
                },
                Err(e) => outcome_of(&e),
            }
        })
    }
}

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
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

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

/// How a relay is reached without TLS from the start: plain, or upgraded with STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartTls {
    /// Never (a relay on the same machine or network).
    Never,
    /// When the relay offers it.
    Opportunistic,
    /// Always: a relay that does not offer it is refused.
    Required,
}

/// A relay reached over plain TCP (then STARTTLS if asked): consult keeps its own connections,
/// with Nagle's algorithm off. lettre 0.11's pool leaves it on and writes a message's end
/// separately, so every message waited for the relay's delayed acknowledgement (40 ms).
struct Relay {
    host: String,
    port: u16,
    starttls: StartTls,
    credentials: Option<Credentials>,
    hello: ClientId,
    /// Open connections not in use.
    idle: std::sync::Mutex<Vec<AsyncSmtpConnection>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials.
        f.debug_struct("Relay")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .finish_non_exhaustive()
    }
}

/// A try that failed before the relay answered (connecting, a connection lost).
fn unreachable(what: &str, e: impl std::fmt::Display) -> SendOutcome {
    SendOutcome::Temporary(format!("{what}: {e}"))
}

impl Relay {
    /// The relay of an `smtp://` URL, or `None` for one lettre must reach itself (`smtps://`).
    fn from_url(url: &str) -> Result<Option<Relay>, DeliveryError> {
        let bad = |why: &str| DeliveryError::Config(format!("--smtp-url: {why}"));
        let Some(rest) = url.strip_prefix("smtp://") else {
            return Ok(None);
        };
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad("the port is not a number"))?)
            }
            _ => (hostport, 0),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let mut starttls = StartTls::Never;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("tls", "required")) => starttls = StartTls::Required,
                Some(("tls", "opportunistic")) => starttls = StartTls::Opportunistic,
                Some(("tls", "none")) => starttls = StartTls::Never,
                _ => return Err(bad(&format!("unknown option `{pair}`"))),
            }
        }
        let port = match (port, starttls) {
            (0, StartTls::Never) => 25,
            (0, _) => 587,
            (p, _) => p,
        };
        let decode = |s: &str| -> Result<String, DeliveryError> {
            let bytes = s.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| bad("bad escape"))?;
                    out.push(u8::from_str_radix(hex, 16).map_err(|_| bad("bad escape"))?);
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).map_err(|_| bad("credentials are not UTF-8"))
        };
        let credentials = match userinfo {
            Some(u) => {
                let (user, pass) = u.split_once(':').unwrap_or((u, ""));
                Some(Credentials::new(decode(user)?, decode(pass)?))
            }
            None => None,
        };
        let hello = ClientId::default();
        Ok(Some(Relay {
            host: host.to_owned(),
            port,
            starttls,
            credentials,
            hello,
            idle: std::sync::Mutex::new(Vec::new()),
        }))
    }

    /// A new connection: TCP with Nagle's algorithm off, the greeting and EHLO, STARTTLS and
    /// authentication as configured.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendOutcome> {
        let tcp = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|e| unreachable("connecting to the relay", e))?
        .map_err(|e| unreachable("connecting to the relay", e))?;
        tcp.set_nodelay(true)
            .map_err(|e| unreachable("connecting to the relay", e))?;
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
            .await
            .map_err(|e| outcome_of(&e))?;
        let upgrade = match self.starttls {
            StartTls::Never => false,
            StartTls::Opportunistic => conn.can_starttls(),
            StartTls::Required => true,
        };
        if upgrade {
            let tls = TlsParameters::new(self.host.clone()).map_err(|e| SendOutcome::Permanent(format!("TLS: {e}")))?;
            conn.starttls(tls, &self.hello).await.map_err(|e| outcome_of(&e))?;
        }
        if let Some(c) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], c)
                .await
                .map_err(|e| outcome_of(&e))?;
        }
        Ok(conn)
    }

    /// Sends one message on an idle connection (or a new one), keeping the connection for the
    /// next when the relay accepted it. A connection found closed is replaced once.
    async fn send(&self, message: &Message) -> SendOutcome {
        let envelope = message.envelope();
        let bytes = message.formatted();
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let (mut conn, reused) = match pooled {
            Some(c) => (c, true),
            None => match self.connect().await {
                Ok(c) => (c, false),
                Err(outcome) => return outcome,
            },
        };
        let mut result = conn.send(envelope, &bytes).await;
        if let (true, Err(e)) = (reused, &result) {
            if e.status().is_none() {
                // The relay closed an idle connection: try once on a new one.
                conn.abort().await;
                conn = match self.connect().await {
                    Ok(c) => c,
                    Err(outcome) => return outcome,
                };
                result = conn.send(envelope, &bytes).await;
            }
        }
        match result {
            Ok(reply) => {
                if !conn.has_broken()
                    && let Ok(mut idle) = self.idle.lock()
                {
                    idle.push(conn);
                }
                SendOutcome::Accepted {
                    reference: reply.message().next().map(|l| l.chars().take(200).collect()),
                }
            }
            Err(e) => {
                // After a refusal the connection's state is the relay's guess: start afresh.
                conn.abort().await;
                outcome_of(&e)
            }
        }
    }
}

/// E-mail over SMTP.
#[derive(Debug, Clone)]
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// consult's own connections for `smtp://` relays (lettre's pool for `smtps://`).
    relay: Option<Arc<Relay>>,
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
        let relay = Relay::from_url(&settings.url)?.map(Arc::new);
        Ok(Self {
            transport,
            relay,
            from,
            connections,
            domain,
        })
    }

    /// The same channel sending through lettre's own connection pool instead of consult's
    /// (as `smtps://` relays always do): what the benchmark compares consult's pool with.
    pub fn with_lettre_pool(mut self) -> Self {
        self.relay = None;
        self
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
            if let Some(relay) = &self.relay {
                return relay.send(&message).await;
            }
            match self.transport.send(message).await {
                Ok(reply) => SendOutcome::Accepted {
                    reference: reply.message().next().map(|l| l.chars().take(200).collect()),
                },
                Err(e) => outcome_of(&e),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(url: &str) -> Relay {
        Relay::from_url(url).unwrap().unwrap()
    }

    #[test]
    fn relays_are_read_from_their_url() {
        let r = relay("smtp://localhost");
        assert_eq!(
            (r.host.as_str(), r.port, r.starttls),
            ("localhost", 25, StartTls::Never)
        );
        assert!(r.credentials.is_none());
        let r = relay("smtp://consult%40council:p%40ss%3Aword@relay.example.gov.uk?tls=required");
        assert_eq!(
            (r.host.as_str(), r.port, r.starttls),
            ("relay.example.gov.uk", 587, StartTls::Required)
        );
        assert_eq!(
            r.credentials,
            Some(Credentials::new("consult@council".into(), "p@ss:word".into()))
        );
        assert!(!format!("{r:?}").contains("word"), "no secret in logs");
        let r = relay("smtp://[::1]:2525/?tls=opportunistic");
        assert_eq!(
            (r.host.as_str(), r.port, r.starttls),
            ("::1", 2525, StartTls::Opportunistic)
        );
        assert!(
            Relay::from_url("smtps://relay.example:465").unwrap().is_none(),
            "lettre's own TLS"
        );
        for bad in ["smtp://relay:port", "smtp://relay?tls=maybe", "smtp://:25"] {
            assert!(Relay::from_url(bad).is_err(), "{bad}");
        }
    }
}

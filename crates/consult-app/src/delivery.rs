//! Delivering the outbox: a [`Deliverer`] claims due messages, sends each through the
//! [`Transport`] of its channel, and records what became of it under the [`RetryPolicy`] of
//! consult-core. A server runs one inside `consult serve`; `consult deliver` runs one on its own.
//! Several may run at once, on one or many machines: a claimed message is claimed by nobody
//! else until its lease runs out.
//!
//! What "sent once" means here: a message is marked sent only after its provider accepted it,
//! and outcomes are recorded in small groups as tries finish. If the process dies after a
//! provider accepted a message and before its outcome was recorded, the message is due again
//! when its lease runs out and goes a second time. So delivery is at least once; the messages
//! that can go twice are those in flight or awaiting their record when the process died, at
//! most [`Deliverer::duplicate_bound`]. A provider's own idempotency narrows this where it
//! has one (each try carries the message's id: the SMTP `Message-ID`, a Notify `reference`).

use crate::App;
use crate::error::AppResult;
use chrono::TimeDelta;
use consult_core::{ContactChannel, MessageKind, RetryPolicy, SendOutcome};
use consult_store::{ClaimedMessage, SettledTry};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A message ready for its channel: the claimed message, its template's fields with the links
/// added, and the one-click unsubscribe address when its kind has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The message as claimed.
    pub message: ClaimedMessage,
    /// Its template's fields: the stored ones, and `activity_url`, `verify_url`,
    /// `unsubscribe_url` where they apply.
    pub fields: BTreeMap<String, String>,
    /// The one-click unsubscribe address (RFC 8058), for every kind but verification.
    pub unsubscribe_url: Option<String>,
}

/// What a [`Transport::send`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = SendOutcome> + Send + 'a>>;

/// One way out: e-mail over SMTP, GOV.UK Notify, ... (implemented outside this crate).
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// The channels it sends.
    fn channels(&self) -> Vec<ContactChannel>;
    /// How many messages it sends at once (its connection pool).
    fn concurrency(&self) -> usize;
    /// Sends one message. Never panics: a failure is an outcome.
    fn send<'a>(&'a self, message: &'a Outgoing) -> SendFuture<'a>;
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Messages claimed.
    pub claimed: u64,
    /// Accepted by their provider.
    pub sent: u64,
    /// To be tried again later.
    pub retrying: u64,
    /// Given up (or rejected).
    pub failed: u64,
}

/// Settings of a [`Deliverer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySettings {
    /// Messages claimed per round.
    pub batch: u32,
    /// How long a claim holds a message before another worker may take it.
    pub lease: Duration,
    /// Outcomes recorded together (a smaller group narrows the duplicates a crash can cause).
    pub settle_every: usize,
    /// How long to wait for new messages when the outbox is empty (a message queued by this
    /// process wakes the worker at once).
    pub idle: Duration,
    /// Tries and backoff.
    pub retry: RetryPolicy,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            batch: 200,
            lease: Duration::from_secs(120),
            settle_every: 20,
            idle: Duration::from_secs(2),
            retry: RetryPolicy::default(),
        }
    }
}

/// Sends what the outbox holds through the configured transports.
#[derive(Debug, Clone)]
pub struct Deliverer {
    app: App,
    transports: BTreeMap<ContactChannel, Arc<dyn Transport>>,
    settings: DeliverySettings,
}

impl Deliverer {
    /// A deliverer for `app`'s outbox sending through `transports` (the first one naming a
    /// channel sends it). Messages on other channels stay queued.
    pub fn new(app: App, transports: Vec<Arc<dyn Transport>>, settings: DeliverySettings) -> Self {
        let mut by_channel = BTreeMap::new();
        for t in transports {
            for c in t.channels() {
                by_channel.entry(c).or_insert_with(|| t.clone());
            }
        }
        Self {
            app,
            transports: by_channel,
            settings,
        }
    }

    /// The channels it sends.
    pub fn channels(&self) -> Vec<ContactChannel> {
        self.transports.keys().copied().collect()
    }

    /// The most messages one crash of this worker can send twice: a round's claims (those in
    /// flight and those whose outcome waits to be recorded are among them).
    pub fn duplicate_bound(&self) -> u64 {
        u64::from(self.settings.batch)
    }

    /// Claims one batch of due messages, sends them, records their outcomes.
    pub async fn round(&self) -> AppResult<Round> {
        let channels = self.channels();
        let now = self.app.now();
        let lease = TimeDelta::from_std(self.settings.lease).unwrap_or(TimeDelta::minutes(2));
        let claimed = self
            .app
            .store
            .claim_messages(&channels, self.settings.batch, now, now + lease)
            .await?;
        let mut round = Round {
            claimed: claimed.len() as u64,
            ..Round::default()
        };
        if claimed.is_empty() {
            return Ok(round);
        }
        let base = self.app.public_url().to_owned();
        let mut outgoing = Vec::with_capacity(claimed.len());
        for message in claimed {
            outgoing.push(self.app.outgoing(message, &base).await?);
        }
        // Each channel's messages at its transport's concurrency, all channels at once.
        let concurrency: usize = self.transports.values().map(|t| t.concurrency().max(1)).sum();
        let mut jobs = outgoing
            .iter()
            .filter_map(|o| Some((o, self.transports.get(&o.message.channel)?.clone())))
            .collect::<Vec<_>>()
            .into_iter();
        let mut tries = futures_util::stream::FuturesUnordered::new();
        for (o, t) in jobs.by_ref().take(concurrency.max(1)) {
            tries.push(send_one(o, t));
        }
        let mut pending: Vec<SettledTry> = Vec::with_capacity(self.settings.settle_every);
        while let Some((o, outcome)) = tries.next().await {
            if let Some((next, t)) = jobs.next() {
                tries.push(send_one(next, t));
            }
            let m = &o.message;
            let settlement = self.settings.retry.settle(m.id, m.attempts, outcome, self.app.now());
            match settlement.status {
                consult_core::DeliveryStatus::Sent => round.sent += 1,
                consult_core::DeliveryStatus::Queued => round.retrying += 1,
                _ => round.failed += 1,
            }
            if let Some(e) = &settlement.error {
                // The message's id and kind only: never its address or its fields.
                tracing::warn!(message = %m.id, kind = m.kind.as_str(), attempts = m.attempts, error = %e, "delivery try failed");
            }
            pending.push(SettledTry {
                id: m.id,
                attempts: m.attempts,
                address: settlement.suppress.then(|| (m.channel, m.recipient.clone())),
                settlement,
            });
            if pending.len() >= self.settings.settle_every {
                self.app.store.settle_messages(&pending, self.app.now()).await?;
                pending.clear();
            }
        }
        if !pending.is_empty() {
            self.app.store.settle_messages(&pending, self.app.now()).await?;
        }
        Ok(round)
    }

    /// Rounds until the outbox has nothing due; returns what they did together.
    pub async fn drain(&self) -> AppResult<Round> {
        let mut total = Round::default();
        loop {
            let r = self.round().await?;
            total.claimed += r.claimed;
            total.sent += r.sent;
            total.retrying += r.retrying;
            total.failed += r.failed;
            if r.claimed == 0 {
                return Ok(total);
            }
        }
    }

    /// Delivers until `stop` resolves: a round whenever messages are due, else waits for one to
    /// be queued by this process or for the idle interval. A failed round (the database away) is
    /// logged and tried again after the idle interval.
    pub async fn run(&self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let busy = match self.round().await {
                Ok(r) => {
                    if r.claimed > 0 {
                        tracing::info!(
                            sent = r.sent,
                            retrying = r.retrying,
                            failed = r.failed,
                            "delivered a round of messages"
                        );
                    }
                    r.claimed > 0
                }
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                () = &mut stop => return,
                () = self.app.outbox_signal.notified() => {}
                () = tokio::time::sleep(self.settings.idle) => {}
            }
        }
    }
}

/// One try: a plain function (not a closure), so the futures of a round have one type.
async fn send_one(o: &Outgoing, t: Arc<dyn Transport>) -> (&Outgoing, SendOutcome) {
    let outcome = t.send(o).await;
    (o, outcome)
}

impl App {
    /// The address the public reaches the hub at, for links in messages (default
    /// `http://localhost:8080`).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The same application linking messages to `url` (`https://consult.example.gov.uk`).
    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Wakes this process's delivery worker: something was queued.
    pub(crate) fn wake_delivery(&self) {
        self.outbox_signal.notify_one();
    }

    /// A claimed message with the links its template takes.
    pub(crate) async fn outgoing(&self, message: ClaimedMessage, base: &str) -> AppResult<Outgoing> {
        let mut fields = message.personalisation.clone();
        if let Some(id) = fields.get("activity_id").cloned() {
            fields.insert("activity_url".into(), format!("{base}/activities/{id}"));
        }
        if message.kind == MessageKind::Verification
            && let Some(code) = fields.get("code").cloned()
        {
            fields.insert("verify_url".into(), format!("{base}/verify-registration?code={code}"));
        }
        for briefing in ["digest", "alert"] {
            if let Some(text) = fields.get_mut(briefing) {
                *text = consult_core::absolute_links(text, base);
            }
        }
        let unsubscribe_url = match (message.kind.can_unsubscribe(), message.resident, message.staff) {
            (true, Some(resident), _) => {
                let token = self.unsubscribe_token(resident).await?;
                Some(format!("{base}/unsubscribe/{resident}/{token}"))
            }
            (true, None, Some(user)) => {
                let kind = message.kind;
                let token = self.staff_unsubscribe_token(user, kind).await?;
                Some(format!("{base}/unsubscribe/staff/{user}/{}/{token}", kind.as_str()))
            }
            _ => None,
        };
        if let Some(u) = &unsubscribe_url {
            fields.insert("unsubscribe_url".into(), u.clone());
        }
        Ok(Outgoing {
            message,
            fields,
            unsubscribe_url,
        })
    }
}

//! The outbox as staff see it: what was queued, sent, retried or given up, by kind, channel
//! and activity, with recipients masked; a failed message retried; final messages purged.
//! Coordinators (and admins) only: the outbox names who was contacted.

use crate::App;
use crate::error::AppResult;
use crate::organisations::{require_admin, require_coordinator};
use chrono::{DateTime, Utc};
use consult_core::{Actor, ContactChannel, DeliveryStatus, MessageKind, ProviderOutcome};
use consult_store::{OutboxCounts, OutboxEntry, OutboxFilter, Page, PageRequest};
use serde::Serialize;
use uuid::Uuid;

/// One message as the API answers it and the CLI prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    /// Its idempotency key: kind, then what it is about and for whom.
    pub key: String,
    /// What it is for.
    pub kind: MessageKind,
    /// How it goes.
    pub channel: ContactChannel,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Tries so far.
    pub attempts: u32,
    /// The activity it is about.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub consultation_id: Option<Uuid>,
    /// The recipient, masked (`j***@example.org`); null once the message is final and the
    /// address erased.
    pub recipient: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it is next tried (queued) or its worker's claim ends (sending).
    pub due_at: DateTime<Utc>,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Why its last try failed.
    pub last_error: Option<String>,
    /// The provider's reference for it.
    pub reference: Option<String>,
}

impl From<OutboxEntry> for MessageView {
    fn from(e: OutboxEntry) -> Self {
        Self {
            id: e.id,
            key: e.key.to_string(),
            kind: e.kind,
            channel: e.channel,
            status: e.status,
            attempts: e.attempts,
            consultation_id: e.consultation.map(|c| c.0),
            recipient: e.recipient,
            created_at: e.created_at,
            due_at: e.due_at,
            sent_at: e.sent_at,
            last_error: e.last_error.map(|t| consult_core::mask_addresses(&t)),
            reference: e.reference,
        }
    }
}

impl App {
    /// Messages in the outbox, newest first, a page at a time (coordinators).
    pub async fn outbox(
        &self,
        actor: &Actor,
        filter: &OutboxFilter,
        page: &PageRequest,
    ) -> AppResult<Page<MessageView>> {
        require_coordinator(actor)?;
        let found = self.store.list_outbox(filter, page).await?;
        Ok(Page {
            items: found.items.into_iter().map(MessageView::from).collect(),
            next: found.next,
        })
    }

    /// How many messages are in each status, by channel (coordinators).
    pub async fn outbox_counts(&self, actor: &Actor) -> AppResult<OutboxCounts> {
        require_coordinator(actor)?;
        Ok(self.store.outbox_counts().await?)
    }

    /// Queues a failed message again, now, its tries counted afresh (coordinators; audited).
    pub async fn retry_message(&self, actor: &Actor, id: Uuid) -> AppResult<MessageView> {
        require_coordinator(actor)?;
        let entry = self.store.retry_message(id, actor, self.now()).await?;
        self.wake_delivery();
        Ok(entry.into())
    }

    /// The letters waiting to be printed, oldest first (at most `limit`), with their fields and
    /// links, for a mail merge or a PDF (coordinators: they carry postal addresses). Printing is
    /// confirmed with [`App::letters_printed`].
    pub async fn letters(&self, actor: &Actor, limit: u32) -> AppResult<Vec<crate::delivery::Outgoing>> {
        require_coordinator(actor)?;
        let base = self.public_url().to_owned();
        let mut out = Vec::new();
        for m in self.store.waiting_letters(limit).await? {
            out.push(self.outgoing(m, &base).await?);
        }
        Ok(out)
    }

    /// Confirms letters printed (and posted): each waiting letter among `ids` is sent and its
    /// address erased (coordinators; audited). Returns how many were marked; ids that are not
    /// waiting letters are left alone (a second confirmation marks nothing).
    pub async fn letters_printed(&self, actor: &Actor, ids: &[Uuid]) -> AppResult<u64> {
        require_coordinator(actor)?;
        if ids.is_empty() {
            return Err(crate::AppError::field("ids", "name at least one letter"));
        }
        Ok(self.store.mark_letters_printed(ids, actor, self.now()).await?)
    }

    /// Deletes sent, failed, cancelled and suppressed messages last changed more than `days`
    /// days ago (admins; audited). Returns how many went.
    pub async fn purge_outbox(&self, actor: &Actor, days: u32) -> AppResult<u64> {
        require_admin(actor)?;
        let now = self.now();
        let before = now - chrono::TimeDelta::days(i64::from(days));
        Ok(self.store.purge_outbox(before, actor, now).await?)
    }
}

/// What a provider reported about a message it accepted: a delivery receipt or a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderReport {
    /// The message, when the report names it (the reference it was sent with).
    pub message: Option<Uuid>,
    /// The channel it went on.
    pub channel: ContactChannel,
    /// The address it went to, as the provider says.
    pub address: Option<String>,
    /// What became of it.
    pub outcome: ProviderOutcome,
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

impl App {
    /// The same application accepting providers' delivery reports that carry `token` (GOV.UK
    /// Notify's callback bearer token). Without one, every report is refused.
    pub fn with_provider_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.provider_token = (!token.is_empty()).then(|| std::sync::Arc::from(token));
        self
    }

    /// Whether `token` is the providers' callback token (`Unauthenticated` if not, or when none
    /// is configured).
    pub fn check_provider_token(&self, token: Option<&str>) -> AppResult<()> {
        match (&self.provider_token, token) {
            (Some(expected), Some(given)) if same_secret(expected, given) => Ok(()),
            _ => Err(crate::AppError::Unauthenticated(
                "a delivery report needs the provider's callback token".into(),
            )),
        }
    }

    /// Records a provider's report on a message, presented with `token`: a message that did
    /// not arrive is marked failed with the reason; a hard bounce or a complaint suppresses
    /// the address (nothing more goes to it). A wrong or missing token is `Unauthenticated`.
    /// Returns whether a message was marked failed.
    pub async fn provider_report(&self, token: Option<&str>, report: &ProviderReport) -> AppResult<bool> {
        self.check_provider_token(token)?;
        Ok(self
            .store
            .record_provider_report(
                report.message,
                report.channel,
                report.address.as_deref(),
                report.outcome,
                self.now(),
            )
            .await?)
    }
}

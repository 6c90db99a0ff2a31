//! The outbox as staff see it: what was queued, sent, retried or given up, by kind, channel
//! and activity, with recipients masked; a failed message retried; final messages purged.
//! Coordinators (and admins) only: the outbox names who was contacted.

use crate::App;
use crate::error::AppResult;
use crate::organisations::{require_admin, require_coordinator};
use chrono::{DateTime, Utc};
use consult_core::{Actor, ContactChannel, DeliveryStatus, MessageKind};
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
            last_error: e.last_error,
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

    /// Deletes sent, failed, cancelled and suppressed messages last changed more than `days`
    /// days ago (admins; audited). Returns how many went.
    pub async fn purge_outbox(&self, actor: &Actor, days: u32) -> AppResult<u64> {
        require_admin(actor)?;
        let now = self.now();
        let before = now - chrono::TimeDelta::days(i64::from(days));
        Ok(self.store.purge_outbox(before, actor, now).await?)
    }
}

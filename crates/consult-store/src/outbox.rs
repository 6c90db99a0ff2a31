//! The outbox (migration 0025): messages queued in the transaction of the decision that causes
//! them, claimed by delivery workers, settled after each try. The rules (keys, states, retries)
//! are consult-core's `outbox` module; this is where they are kept.
//!
//! Claiming makes a message `sending` with `due_at` the end of the worker's lease, in one
//! statement (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several instances share the queue without
//! waiting on each other; SQLite: the one writer). A message whose worker died is due again when
//! its lease has run out; settling checks the try it settles is still the message's latest, so a
//! late worker cannot overwrite a newer try.

use crate::db::{Sql, Tx, query};
use crate::{Backend, Cursor, Page, PageRequest, Store, StoreError};
use chrono::{DateTime, Utc};
use consult_core::{
    Actor, ConsultationId, ContactChannel, DeliveryStatus, MessageKey, MessageKind, NewMessage, ProviderOutcome,
    Settlement, mask_recipient,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// Rows per multi-row INSERT (13 arguments each). Small on purpose: SQLite looks up each
/// argument's placeholder by walking the statement's list of them, so binding costs grow with
/// the square of the arguments in one statement; 80 rows (1,040 arguments) keeps that well under
/// the cost of the insert itself.
const QUEUE_CHUNK: usize = 80;

/// A message claimed for sending: everything a channel needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMessage {
    /// Its id (the provider's idempotency reference where the provider takes one).
    pub id: Uuid,
    /// Its idempotency key.
    pub key: MessageKey,
    /// What it is for.
    pub kind: MessageKind,
    /// How it goes.
    pub channel: ContactChannel,
    /// The activity it is about.
    pub consultation: Option<ConsultationId>,
    /// The resident it is for.
    pub resident: Option<Uuid>,
    /// The staff account it is for.
    pub staff: Option<Uuid>,
    /// The address.
    pub recipient: String,
    /// Its template's fields.
    pub personalisation: BTreeMap<String, String>,
    /// This try's number (1 for the first).
    pub attempts: u32,
}

/// Whose messages to cancel: a resident's or a staff account's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageOwner {
    /// A resident.
    Resident(Uuid),
    /// A staff account.
    Staff(Uuid),
}

/// One message as staff see it: what, how, where it is; the recipient masked.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Its id.
    pub id: Uuid,
    /// Its idempotency key.
    pub key: MessageKey,
    /// What it is for.
    pub kind: MessageKind,
    /// How it goes.
    pub channel: ContactChannel,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Tries so far.
    pub attempts: u32,
    /// The activity it is about.
    pub consultation: Option<ConsultationId>,
    /// The recipient, masked (`j***@example.org`); `None` once the message is final and the
    /// address erased.
    pub recipient: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it is next due (queued), or its lease ends (sending).
    pub due_at: DateTime<Utc>,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Why its last try failed.
    pub last_error: Option<String>,
    /// The provider's reference.
    pub reference: Option<String>,
}

/// Which messages a listing shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxFilter {
    /// Only messages with this status.
    pub status: Option<DeliveryStatus>,
    /// Only messages of this kind.
    pub kind: Option<MessageKind>,
    /// Only messages going by this channel.
    pub channel: Option<ContactChannel>,
    /// Only messages about this activity.
    pub consultation: Option<ConsultationId>,
}

/// How many messages are in each status, by channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// `(channel, status)` to count; absent pairs are zero.
    pub counts: BTreeMap<(ContactChannel, DeliveryStatus), u64>,
    /// The oldest due time among messages waiting to go.
    pub oldest_waiting: Option<DateTime<Utc>>,
}

/// One try settled: which message and try, and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledTry {
    /// The message.
    pub id: Uuid,
    /// The try settled (the claim's `attempts`): a newer claim is left alone.
    pub attempts: u32,
    /// The outcome.
    pub settlement: Settlement,
    /// The channel and address to suppress when the settlement says so.
    pub address: Option<(ContactChannel, String)>,
}

/// The stored form of a suppressed address: SHA-256 of the channel and the address, lower-cased
/// and trimmed (addresses are normalised when registered; this catches the rest).
pub(crate) fn address_hash(channel: ContactChannel, address: &str) -> String {
    let mut h = Sha256::new();
    h.update(channel.as_str().as_bytes());
    h.update(b":");
    h.update(address.trim().to_lowercase().as_bytes());
    hex::encode(h.finalize())
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: Uuid,
    idempotency_key: String,
    kind: String,
    channel: String,
    consultation_id: Option<Uuid>,
    resident_id: Option<Uuid>,
    staff_id: Option<Uuid>,
    recipient: Option<String>,
    personalisation: Option<String>,
    attempts: i32,
}

impl TryFrom<ClaimRow> for ClaimedMessage {
    type Error = StoreError;

    fn try_from(r: ClaimRow) -> Result<Self, StoreError> {
        let personalisation = match &r.personalisation {
            Some(p) => serde_json::from_str(p)
                .map_err(|e| StoreError::Corrupt(format!("outbox: personalisation of {}: {e}", r.id)))?,
            None => BTreeMap::new(),
        };
        Ok(ClaimedMessage {
            id: r.id,
            key: MessageKey::from_stored(r.idempotency_key),
            kind: kind_of(&r.kind)?,
            channel: channel_of(&r.channel)?,
            consultation: r.consultation_id.map(ConsultationId),
            resident: r.resident_id,
            staff: r.staff_id,
            recipient: r.recipient.unwrap_or_default(),
            personalisation,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
        })
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: Uuid,
    idempotency_key: String,
    kind: String,
    channel: String,
    status: String,
    attempts: i32,
    consultation_id: Option<Uuid>,
    recipient: Option<String>,
    created_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    reference: Option<String>,
}

fn kind_of(s: &str) -> Result<MessageKind, StoreError> {
    MessageKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("outbox: unknown kind `{s}`")))
}

fn channel_of(s: &str) -> Result<ContactChannel, StoreError> {
    ContactChannel::parse(s).ok_or_else(|| StoreError::Corrupt(format!("outbox: unknown channel `{s}`")))
}

fn status_of(s: &str) -> Result<DeliveryStatus, StoreError> {
    DeliveryStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("outbox: unknown status `{s}`")))
}

impl EntryRow {
    fn entry(self) -> Result<OutboxEntry, StoreError> {
        let channel = channel_of(&self.channel)?;
        Ok(OutboxEntry {
            id: self.id,
            key: MessageKey::from_stored(self.idempotency_key),
            kind: kind_of(&self.kind)?,
            channel,
            status: status_of(&self.status)?,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            consultation: self.consultation_id.map(ConsultationId),
            recipient: self.recipient.map(|r| mask_recipient(channel, &r)),
            created_at: self.created_at,
            due_at: self.due_at,
            sent_at: self.sent_at,
            last_error: self.last_error,
            reference: self.reference,
        })
    }
}

const ENTRY_COLUMNS: &str = "id, idempotency_key, kind, channel, status, attempts, consultation_id, recipient, \
                             created_at, due_at, sent_at, last_error, reference";

impl Tx {
    /// Queues messages in this transaction, one per idempotency key: a key already in the outbox
    /// (queued, sent or anything else) queues nothing. A message to a suppressed address is
    /// stored as suppressed, never sent. Returns how many were newly queued to be sent.
    pub(crate) async fn queue_messages(
        &mut self,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut queued = 0;
        let mut blocked = Vec::new();
        for chunk in messages.chunks(QUEUE_CHUNK) {
            let hashes: Vec<String> = chunk.iter().map(|m| address_hash(m.channel, &m.recipient)).collect();
            let mut read = Sql::new("SELECT address_hash FROM suppressions WHERE address_hash IN (");
            let list = read.list(hashes.iter().cloned());
            read.push(&list).push(")");
            let suppressed: HashSet<String> = read
                .fetch_all::<(String,)>(&mut *self)
                .await?
                .into_iter()
                .map(|(h,)| h)
                .collect();
            let mut sql = Sql::new(
                "INSERT INTO outbox (id, idempotency_key, kind, channel, consultation_id, resident_id, staff_id, \
                 recipient, personalisation, status, due_at, created_at, updated_at) VALUES ",
            );
            let mut rows = Vec::with_capacity(chunk.len());
            for (m, hash) in chunk.iter().zip(&hashes) {
                let blocked = suppressed.contains(hash);
                let status = if blocked {
                    DeliveryStatus::Suppressed
                } else {
                    DeliveryStatus::Queued
                };
                let personalisation = serde_json::to_string(&m.personalisation)
                    .map_err(|e| StoreError::Corrupt(format!("outbox: personalisation: {e}")))?;
                let values = [
                    sql.arg(Uuid::now_v7()),
                    sql.arg(m.key.as_str()),
                    sql.arg(m.kind.as_str()),
                    sql.arg(m.channel.as_str()),
                    sql.arg(m.consultation.map(|c| c.0)),
                    sql.arg(m.resident),
                    sql.arg(m.staff),
                    // A suppressed message never goes: nothing of its recipient is kept.
                    sql.arg((!blocked).then(|| m.recipient.clone())),
                    sql.arg((!blocked).then_some(personalisation)),
                    sql.arg(status.as_str()),
                    sql.arg(now),
                    sql.arg(now),
                ];
                let updated = sql.arg(now);
                rows.push(format!("({}, {updated})", values.join(", ")));
            }
            sql.push(&rows.join(", "));
            // A key already queued inserts nothing and returns nothing.
            sql.push(" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, status");
            let inserted: Vec<(Uuid, String)> = sql.fetch_all(&mut *self).await?;
            for (id, status) in inserted {
                if status == DeliveryStatus::Queued.as_str() {
                    queued += 1;
                } else {
                    blocked.push(id);
                }
            }
        }
        // An invitation that will never go does not count against the resident's fatigue.
        if !blocked.is_empty() {
            self.count_invitations(&blocked, true, now).await?;
        }
        Ok(queued)
    }

    /// Cancels the messages of `kinds` not yet sent to a resident or a staff account and erases
    /// their addresses (the resident was erased or withdrew consent; the account was disabled,
    /// changed, or its holder stopped those kinds).
    pub(crate) async fn cancel_messages_of(
        &mut self,
        owner: MessageOwner,
        kinds: &[MessageKind],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if kinds.is_empty() {
            return Ok(0);
        }
        let (column, id) = match owner {
            MessageOwner::Resident(id) => ("resident_id", id),
            MessageOwner::Staff(id) => ("staff_id", id),
        };
        let mut sql =
            Sql::new("UPDATE outbox SET status = 'cancelled', recipient = NULL, personalisation = NULL, updated_at = ");
        let at = sql.arg(now);
        let r = sql.arg(id);
        sql.push(&format!(
            "{at} WHERE {column} = {r} AND status IN ('queued', 'sending') AND kind IN ("
        ));
        let list = sql.list(kinds.iter().map(|k| k.as_str()));
        sql.push(&list).push(")");
        sql.execute(&mut *self).await
    }
}

impl Tx {
    /// Suppresses an address on a channel (remembered hashed, with the reason): nothing more
    /// is sent to it, and the messages waiting for it will not go either.
    pub(crate) async fn suppress(
        &mut self,
        channel: ContactChannel,
        address: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO suppressions (address_hash, channel, reason, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (address_hash) DO NOTHING",
        )
        .bind(address_hash(channel, address))
        .bind(channel.as_str())
        .bind(reason)
        .bind(now)
        .execute(&mut *self)
        .await?;
        let waiting: Vec<(Uuid,)> = query(
            "UPDATE outbox SET status = 'suppressed', recipient = NULL, personalisation = NULL, \
             updated_at = $1 WHERE status = 'queued' AND channel = $2 AND LOWER(recipient) = $3 RETURNING id",
        )
        .bind(now)
        .bind(channel.as_str())
        .bind(address.trim().to_lowercase())
        .fetch_all(&mut *self)
        .await?;
        let waiting: Vec<Uuid> = waiting.into_iter().map(|(id,)| id).collect();
        self.count_invitations(&waiting, true, now).await
    }

    /// Forgets a resident in the outbox (they were erased): messages not yet sent are
    /// cancelled, and every message loses its address, its fields and the resident's id.
    pub(crate) async fn forget_messages_of(&mut self, resident: Uuid, now: DateTime<Utc>) -> Result<u64, StoreError> {
        query(
            "UPDATE outbox SET status = CASE WHEN status IN ('queued', 'sending') THEN 'cancelled' ELSE status END, \
             recipient = NULL, personalisation = NULL, resident_id = NULL, updated_at = $2 WHERE resident_id = $1",
        )
        .bind(resident)
        .bind(now)
        .execute(&mut *self)
        .await
    }
}

impl Store {
    /// Queues messages on their own (a decision that writes nothing else), with the same rules
    /// as queueing them inside a decision's transaction: one per idempotency key, none sent to
    /// a suppressed address.
    pub async fn queue_messages(&self, messages: &[NewMessage], now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = tx.queue_messages(messages, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Claims up to `limit` messages due at `now` on `channels`, oldest due first, for a lease
    /// ending at `lease_until`: each becomes `sending`, its try counted. A message claimed here is
    /// claimed by no other worker until the lease runs out.
    pub async fn claim_messages(
        &self,
        channels: &[ContactChannel],
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        if channels.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("UPDATE outbox SET status = 'sending', attempts = attempts + 1, due_at = ");
        let lease = sql.arg(lease_until);
        let updated = sql.arg(now);
        sql.push(&format!(
            "{lease}, updated_at = {updated} WHERE id IN (SELECT id FROM outbox \
             WHERE status IN ('queued', 'sending') AND channel IN ("
        ));
        let list = sql.list(channels.iter().map(|c| c.as_str()));
        let due = sql.arg(now);
        let n = sql.arg(i64::from(limit));
        sql.push(&format!("{list}) AND due_at <= {due} ORDER BY due_at LIMIT {n}"));
        if self.backend() == Backend::Postgres {
            sql.push(" FOR UPDATE SKIP LOCKED");
        }
        sql.push(
            ") RETURNING id, idempotency_key, kind, channel, consultation_id, resident_id, staff_id, recipient, \
             personalisation, attempts",
        );
        let mut tx = self.begin().await?;
        let rows: Vec<ClaimRow> = sql.fetch_all(&mut tx).await?;
        tx.commit().await?;
        let mut out = rows
            .into_iter()
            .map(ClaimedMessage::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|m| m.id);
        Ok(out)
    }

    /// The letters waiting to be printed (queued messages on the post channel), oldest first,
    /// at most `limit`. Nothing is claimed: printing is a person's job, confirmed with
    /// [`Store::mark_letters_printed`].
    pub async fn waiting_letters(&self, limit: u32) -> Result<Vec<ClaimedMessage>, StoreError> {
        let rows: Vec<ClaimRow> = query(
            "SELECT id, idempotency_key, kind, channel, consultation_id, resident_id, staff_id, recipient, \
             personalisation, attempts FROM outbox WHERE channel = 'post' AND status = 'queued' ORDER BY created_at, id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self)
        .await?;
        rows.into_iter().map(ClaimedMessage::try_from).collect()
    }

    /// Marks letters printed, in one transaction (audited with their ids): each waiting letter
    /// among `ids` becomes sent and loses its address and fields. Ids of messages that are not
    /// waiting letters (already printed, cancelled, not letters) are left alone. Returns how many
    /// were marked.
    pub async fn mark_letters_printed(
        &self,
        ids: &[Uuid],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let mut marked = Vec::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new("UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ");
            let at = sql.arg(now);
            sql.push(&format!(
                "{at}, updated_at = {at}, due_at = {at}, recipient = NULL, personalisation = NULL \
                 WHERE channel = 'post' AND status = 'queued' AND id IN ("
            ));
            let list = sql.list(chunk.iter().copied());
            sql.push(&format!("{list}) RETURNING id"));
            let done: Vec<(Uuid,)> = sql.fetch_all(&mut tx).await?;
            marked.extend(done.into_iter().map(|(id,)| id));
        }
        marked.sort_unstable();
        tx.audit(
            actor,
            now,
            "outbox.letters_printed",
            "outbox",
            "post",
            &json!({ "printed": marked.len(), "ids": marked }),
        )
        .await?;
        tx.commit().await?;
        Ok(marked.len() as u64)
    }

    /// Records the outcome of tries, in one transaction: each message's new status; a final
    /// message's address and fields erased; suppressed addresses remembered (hashed). A try that
    /// is no longer the message's latest (its lease ran out and another worker claimed it) is
    /// left alone. Returns how many tries were recorded.
    pub async fn settle_messages(&self, tries: &[SettledTry], now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let mut recorded = 0;
        let mut failed = Vec::new();
        for t in tries {
            let s = &t.settlement;
            let fin = s.status.is_final();
            let mut sql = Sql::new("UPDATE outbox SET status = ");
            let status = sql.arg(s.status.as_str());
            let error = sql.arg(s.error.clone());
            let reference = sql.arg(s.reference.clone());
            let updated = sql.arg(now);
            sql.push(&format!(
                "{status}, last_error = {error}, reference = COALESCE({reference}, reference), updated_at = {updated}"
            ));
            if let Some(at) = s.retry_at {
                let due = sql.arg(at);
                sql.push(&format!(", due_at = {due}"));
            }
            if s.status == DeliveryStatus::Sent {
                let sent = sql.arg(now);
                sql.push(&format!(", sent_at = {sent}"));
            }
            if fin && s.status != DeliveryStatus::Failed {
                // A failed message keeps its address until it is retried or purged.
                sql.push(", recipient = NULL, personalisation = NULL");
            }
            let id = sql.arg(t.id);
            let attempts = sql.arg(i64::from(t.attempts));
            sql.push(&format!(
                " WHERE id = {id} AND status = 'sending' AND attempts = {attempts}"
            ));
            let n = sql.execute(&mut tx).await?;
            recorded += n;
            if n > 0 && s.status == DeliveryStatus::Failed {
                failed.push(t.id);
            }
            if let (true, Some((channel, address))) = (s.suppress, &t.address) {
                let reason = s.error.as_deref().unwrap_or("rejected by the provider");
                tx.suppress(*channel, address, reason, now).await?;
            }
        }
        tx.count_invitations(&failed, true, now).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Records what a provider reported after accepting a message, in one transaction: a
    /// message that did not arrive becomes failed with the reason (when it was sent, or is
    /// still being sent: a report can overtake the worker's own record, which then leaves the
    /// failed message alone), and a
    /// hard bounce or complaint suppresses the address on its channel, with the messages still
    /// waiting for it. `message` is the message's id (the reference it was sent with) when the
    /// report names one. Returns whether a message was marked failed.
    pub async fn record_provider_report(
        &self,
        message: Option<Uuid>,
        channel: ContactChannel,
        address: Option<&str>,
        outcome: ProviderOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let mut failed = false;
        if let (Some(id), Some(reason)) = (message, outcome.failure()) {
            failed = query(
                "UPDATE outbox SET status = 'failed', last_error = $1, updated_at = $2 \
                 WHERE id = $3 AND status IN ('sending', 'sent')",
            )
            .bind(reason)
            .bind(now)
            .bind(id)
            .execute(&mut tx)
            .await?
                > 0;
            if failed {
                tx.count_invitations(&[id], true, now).await?;
            }
        }
        if let (true, Some(address)) = (outcome.suppresses(), address.filter(|a| !a.trim().is_empty())) {
            let reason = outcome.failure().unwrap_or("reported by the provider");
            tx.suppress(channel, address, reason, now).await?;
        }
        tx.commit().await?;
        Ok(failed)
    }

    /// Messages in the order queued (newest first), a page at a time.
    pub async fn list_outbox(
        &self,
        filter: &OutboxFilter,
        page: &PageRequest,
    ) -> Result<Page<OutboxEntry>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE 1 = 1"));
        if let Some(s) = filter.status {
            let a = sql.arg(s.as_str());
            sql.push(&format!(" AND status = {a}"));
        }
        if let Some(k) = filter.kind {
            let a = sql.arg(k.as_str());
            sql.push(&format!(" AND kind = {a}"));
        }
        if let Some(c) = filter.channel {
            let a = sql.arg(c.as_str());
            sql.push(&format!(" AND channel = {a}"));
        }
        if let Some(c) = filter.consultation {
            let a = sql.arg(c.0);
            sql.push(&format!(" AND consultation_id = {a}"));
        }
        if let Some(cursor) = &page.cursor {
            // Ids are UUIDv7: their order is the order queued.
            let a = sql.arg(cursor.id);
            sql.push(&format!(" AND id < {a}"));
        }
        let limit = sql.arg(i64::from(page.limit) + 1);
        sql.push(&format!(" ORDER BY id DESC LIMIT {limit}"));
        let rows: Vec<EntryRow> = sql.fetch_all(self).await?;
        let more = rows.len() > page.limit as usize;
        let mut items = rows
            .into_iter()
            .take(page.limit as usize)
            .map(EntryRow::entry)
            .collect::<Result<Vec<_>, _>>()?;
        items.shrink_to_fit();
        let next = more
            .then(|| {
                items.last().map(|e| Cursor {
                    opens_on: None,
                    id: e.id,
                })
            })
            .flatten();
        Ok(Page { items, next })
    }

    /// One message.
    pub async fn outbox_message(&self, id: Uuid) -> Result<Option<OutboxEntry>, StoreError> {
        let row: Option<EntryRow> = query(format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(self)
            .await?;
        row.map(EntryRow::entry).transpose()
    }

    /// How many messages are in each status, by channel.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        self.counts_where(None).await
    }

    /// How many invitations to one activity are in each status, by channel.
    pub async fn invitation_counts(&self, consultation: ConsultationId) -> Result<OutboxCounts, StoreError> {
        self.counts_where(Some(consultation)).await
    }

    /// Counts by channel and status: every message, or one activity's invitations.
    async fn counts_where(&self, invitations_to: Option<ConsultationId>) -> Result<OutboxCounts, StoreError> {
        let filter = if invitations_to.is_some() {
            " WHERE consultation_id = $1 AND kind = 'invitation'"
        } else {
            ""
        };
        let mut rows = query(format!(
            "SELECT channel, status, COUNT(*) FROM outbox{filter} GROUP BY channel, status"
        ));
        let mut oldest = query(format!(
            "SELECT MIN(due_at) FROM outbox{} status = 'queued' HAVING COUNT(*) > 0",
            if filter.is_empty() {
                " WHERE"
            } else {
                " WHERE consultation_id = $1 AND kind = 'invitation' AND"
            }
        ));
        if let Some(c) = invitations_to {
            rows = rows.bind(c.0);
            oldest = oldest.bind(c.0);
        }
        let rows: Vec<(String, String, i64)> = rows.fetch_all(self).await?;
        let mut counts = BTreeMap::new();
        for (c, s, n) in rows {
            counts.insert((channel_of(&c)?, status_of(&s)?), u64::try_from(n).unwrap_or(0));
        }
        let oldest: Option<(DateTime<Utc>,)> = oldest.fetch_optional(self).await?;
        Ok(OutboxCounts {
            counts,
            oldest_waiting: oldest.map(|(t,)| t),
        })
    }

    /// Queues a failed message again, due at `now`, its tries counted afresh (audited). A
    /// message that is not failed, or whose address was erased, is a conflict.
    pub async fn retry_message(&self, id: Uuid, actor: &Actor, now: DateTime<Utc>) -> Result<OutboxEntry, StoreError> {
        let mut tx = self.begin().await?;
        let row: Option<(String, Option<String>)> = query("SELECT status, recipient FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
        let Some((status, recipient)) = row else {
            return Err(StoreError::NotFound(format!("no message {id} in the outbox")));
        };
        if status != DeliveryStatus::Failed.as_str() {
            return Err(StoreError::Conflict(format!(
                "message {id} is {status}: only a failed message can be retried"
            )));
        }
        if recipient.is_none() {
            return Err(StoreError::Conflict(format!(
                "message {id} no longer has its recipient's address: it cannot be sent again"
            )));
        }
        query(
            "UPDATE outbox SET status = 'queued', attempts = 0, due_at = $1, last_error = NULL, updated_at = $1 \
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut tx)
        .await?;
        tx.count_invitations(&[id], false, now).await?;
        tx.audit(actor, now, "outbox.retry", "message", &id.to_string(), &json!({}))
            .await?;
        tx.commit().await?;
        self.outbox_message(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no message {id} in the outbox")))
    }

    /// Deletes final messages last changed before `before` (audited with the count). Failed
    /// messages go too: their addresses are not kept for ever.
    pub async fn purge_outbox(
        &self,
        before: DateTime<Utc>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = query(
            "DELETE FROM outbox WHERE status IN ('sent', 'failed', 'cancelled', 'suppressed') AND updated_at < $1",
        )
        .bind(before)
        .execute(&mut tx)
        .await?;
        tx.audit(actor, now, "outbox.purge", "outbox", "", &json!({ "deleted": n }))
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}

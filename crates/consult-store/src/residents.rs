//! Residents who asked to be invited: their register (with the change numbers audience indexes
//! catch up from), the contact log, invitation planning under fatigue rules, and the rules.

use crate::db::{Sql, Tx, query};
use crate::outbox::MessageOwner;
use crate::{Store, StoreError, token};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, AreaCode, AudienceEntry, Candidate, ConsultationId, ContactChannel, Exclusion, FatigueRules, InvitationPlan,
    Matching, MessageKey, MessageKind, Organisation, OrganisationId, Resident, Role,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// Residents per chunk when a plan is committed: each chunk is an insert into the contact log,
/// a read and an update of the residents and the outbox's inserts, each one statement taking
/// the chunk's rows as one JSON parameter (`Tx::json_rows`), so the memory a commit holds stays
/// flat however large the plan.
const INVITATION_CHUNK: usize = 10_000;
/// How far back each resident's recent invitation dates are kept: the longest fatigue window
/// an organisation may set.
const RECENT_INVITATION_DAYS: i64 = 3650;

/// Each resident keeps at most this many newest invitation dates (`YYYY-MM-DD,` each): enough
/// for the highest `max_contacts`.
const RECENT_INVITATIONS_TEXT: i64 = FatigueRules::MOST_CONTACTS as i64 * 11 - 1;

/// `AND ...` conditions on `r` (residents) selecting the verified residents `m` matches (the
/// SQL twin of [`Matching::matches`] over the residents an audience index holds: a pending
/// registration is nobody yet); `None` when the activity names neither topics nor groups, so
/// nobody matches.
fn matching_conditions(m: &Matching, sql: &mut Sql) -> Option<String> {
    if m.matches_nobody() {
        return None;
    }
    // Set-based semi-joins on the area, interest and group indexes: the databases hash them
    // (or drive from the smallest) rather than probing per resident.
    let mut out = String::from(" AND r.verified_at IS NOT NULL");
    if !m.areas.is_empty() {
        let l = sql.list(m.areas.iter().map(|a| a.to_string()));
        out.push_str(&format!(
            " AND r.id IN (SELECT resident_id FROM resident_areas WHERE code IN ({l}))"
        ));
    }
    let mut any = Vec::new();
    if !m.topics.is_empty() {
        let l = sql.list(m.topics.iter().map(|t| t.to_lowercase()));
        any.push(format!(
            "r.id IN (SELECT resident_id FROM resident_interests WHERE topic IN ({l}))"
        ));
    }
    if !m.groups.is_empty() {
        let l = sql.list(m.groups.iter().cloned());
        any.push(format!(
            "r.id IN (SELECT resident_id FROM resident_groups WHERE slug IN ({l}))"
        ));
    }
    out.push_str(&format!(" AND ({})", any.join(" OR ")));
    Some(out)
}

/// The matching residents (`id`, `channels`) with the reason each is left out (`reason`, NULL
/// when invited): the SQL twin of [`consult_core::invitation_for`], reading the recent
/// invitation dates kept with each resident newest first at a fixed width, so the `k`-th newest
/// is a substring. A conformance test checks the two agree.
fn invitation_reasons(
    consultation: ConsultationId,
    matching: &Matching,
    rules: &FatigueRules,
    today: NaiveDate,
) -> Option<Sql> {
    let mut sql = Sql::new("");
    let conditions = matching_conditions(matching, &mut sql)?;
    let c = sql.arg(consultation.0);
    let window = sql.arg(rules.window_start(today).format("%Y-%m-%d").to_string());
    let gap = sql.arg(rules.gap_cutoff(today).format("%Y-%m-%d").to_string());
    let kth = (i64::from(rules.max_contacts) - 1) * 11 + 1;
    sql.text = format!(
        "SELECT r.id, r.channels, CASE \
         WHEN r.consent_at IS NULL THEN 'no_consent' \
         WHEN r.channels = '' THEN 'no_channel' \
         WHEN r.id IN (SELECT resident_id FROM contacts WHERE consultation_id = {c} AND kind = 'invitation') THEN 'already_invited' \
         WHEN substr(r.recent_invitations, {kth}, 10) >= {window} THEN 'fatigue_max_contacts' \
         WHEN substr(r.recent_invitations, 1, 10) > {gap} THEN 'fatigue_min_gap' \
         END AS reason FROM residents r WHERE 1 = 1{conditions}"
    );
    Some(sql)
}

/// A resident's recent invitation dates, as kept with them, newest first (`2026-03-02,2026-01-05`). Read for
/// every matching resident of an invitation plan, so parsed by hand rather than by format string.
fn recent_dates(text: &str) -> Result<Vec<NaiveDate>, StoreError> {
    text.split(',')
        .filter(|d| !d.is_empty())
        .map(|d| {
            let b = d.as_bytes();
            let num = |r: std::ops::Range<usize>| -> Option<u32> {
                b.get(r)?
                    .iter()
                    .try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
            };
            (b.len() == 10 && b[4] == b'-' && b[7] == b'-')
                .then(|| NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?))
                .flatten()
                .ok_or_else(|| StoreError::Corrupt(format!("invitation date `{d}`")))
        })
        .collect()
}

fn channels_text(channels: &[ContactChannel]) -> String {
    channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
}

fn channels_from(text: &str) -> Vec<ContactChannel> {
    text.split(',').filter_map(ContactChannel::parse).collect()
}

/// Changes to the residents' register since a change number (see [`crate::Store::audience_changes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceChanges {
    /// Every change up to this number is included: pass it as `after` next time.
    pub upto: i64,
    /// What an audience index keeps of each resident changed.
    pub changed: Vec<AudienceEntry>,
    /// Residents deleted.
    pub removed: Vec<Uuid>,
}

/// One contact-log entry as shown to the resident it concerns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContactRecord {
    /// The activity.
    pub consultation_id: Uuid,
    /// Its title.
    pub title: String,
    /// `invitation` or `response`.
    pub kind: String,
    /// The channel used.
    pub channel: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A resident's own record, without the lists kept beside it.
#[derive(sqlx::FromRow)]
struct ResidentRow {
    email: Option<String>,
    phone: Option<String>,
    postal_address: Option<String>,
    channels: String,
    consent_at: Option<DateTime<Utc>>,
    verified_at: Option<DateTime<Utc>>,
}

/// A pending registration being verified.
#[derive(sqlx::FromRow)]
struct PendingRow {
    id: Uuid,
    email: Option<String>,
    phone: Option<String>,
    postal_address: Option<String>,
    channels: String,
    consent_at: Option<DateTime<Utc>>,
    token_hash: String,
}

/// A registration verified by its code (see [`crate::Store::verify_resident`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The resident: the registration itself, or the verified resident it updated.
    pub id: Uuid,
    /// True when it updated a verified resident who already held its contact.
    pub updated: bool,
}

/// What invitation planning and audience indexes read of a resident.
#[derive(sqlx::FromRow)]
struct AudienceRow {
    id: Uuid,
    channels: String,
    consent_at: Option<DateTime<Utc>>,
    verified_at: Option<DateTime<Utc>>,
    recent_invitations: String,
}

/// One value of a resident's areas, interests or groups.
#[derive(sqlx::FromRow)]
struct SideRow {
    resident_id: Uuid,
    value: String,
}

/// The lists kept beside a resident, as an audience index keeps them.
#[derive(Default)]
struct Lists {
    areas: Vec<AreaCode>,
    interests: Vec<String>,
    groups: Vec<String>,
}

/// A row of an invitation plan: a reason left out with its count, or an invited resident.
#[derive(sqlx::FromRow)]
struct PlanRow {
    reason: Option<String>,
    n: i64,
    id: Option<Uuid>,
    channels: Option<String>,
}

/// One contact-log entry with its activity's title.
#[derive(sqlx::FromRow)]
struct ContactRow {
    consultation_id: Uuid,
    title: String,
    kind: String,
    channel: Option<String>,
    at: DateTime<Utc>,
}

/// An invited resident: recent invitation dates and addresses.
#[derive(sqlx::FromRow)]
struct InvitedRow {
    id: Uuid,
    recent_invitations: String,
    email: Option<String>,
    phone: Option<String>,
    postal_address: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FatigueRow {
    max_contacts: i64,
    window_days: i64,
    min_gap_days: i64,
    max_concurrent: i64,
}

impl Tx {
    /// Invitations that will not reach anyone (their messages, among `messages`, failed or were
    /// suppressed) stop counting against their residents' fatigue: each stays in the contact
    /// log marked undelivered (the plan does not invite the resident again), and the residents'
    /// recent invitation dates are rebuilt from the invitations that count. With `undelivered`
    /// false (a failed invitation retried) they count again. Messages of other kinds are ignored.
    pub(crate) async fn count_invitations(
        &mut self,
        messages: &[Uuid],
        undelivered: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for chunk in messages.chunks(500) {
            let mut read = Sql::new(
                "SELECT resident_id, consultation_id FROM outbox WHERE kind = 'invitation' \
                 AND resident_id IS NOT NULL AND consultation_id IS NOT NULL AND id IN (",
            );
            let list = read.list(chunk.iter().copied());
            read.push(&list).push(")");
            let pairs: Vec<(Uuid, Uuid)> = read.fetch_all(&mut *self).await?;
            if pairs.is_empty() {
                continue;
            }
            for (resident, consultation) in &pairs {
                query(
                    "UPDATE contacts SET undelivered_at = $1 WHERE resident_id = $2 AND consultation_id = $3 \
                     AND kind = 'invitation'",
                )
                .bind(undelivered.then_some(now))
                .bind(*resident)
                .bind(*consultation)
                .execute(&mut *self)
                .await?;
            }
            let change = self.next_resident_change().await?;
            let mut write = Sql::new("");
            let horizon = write.arg(now.date_naive() - chrono::Duration::days(RECENT_INVITATION_DAYS));
            let changed = write.arg(change);
            write.push(&format!(
                "UPDATE residents SET recent_invitations = COALESCE(substr(\
                 (SELECT string_agg(CAST(k.on_date AS TEXT), ',' ORDER BY k.on_date DESC) FROM contacts k \
                  WHERE k.resident_id = residents.id AND k.kind = 'invitation' AND k.undelivered_at IS NULL \
                  AND k.on_date >= {horizon}), 1, {RECENT_INVITATIONS_TEXT}), ''), change_seq = {changed} WHERE id IN ("
            ));
            let list = write.list(pairs.iter().map(|(r, _)| *r));
            write.push(&list).push(")");
            write.execute(&mut *self).await?;
        }
        Ok(())
    }

    /// The next number of the residents' register's change counter, for the rows this
    /// transaction touches. The counter's row lock orders writers: every change numbered
    /// up to the counter's visible value is committed.
    async fn next_resident_change(&mut self) -> Result<i64, StoreError> {
        let (n,): (i64,) = query("UPDATE resident_changes SET n = n + 1 WHERE id = 1 RETURNING n")
            .fetch_one(self)
            .await?;
        Ok(n)
    }
}

/// The actor a resident's own writes are audited as (by record id, with an empty detail).
fn resident_actor() -> Actor {
    Actor {
        name: "resident".into(),
        role: Role::Officer,
        organisation: None,
        staff: None,
    }
}

/// The alphabet of verification codes: Crockford's base 32 (no I, L, O or U to misread).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new verification code: 12 characters of [`CODE_ALPHABET`] (60 random bits), short enough to
/// type from a letter or a text message, long enough that guessing one among every pending code
/// at the rate limit of anonymous writes is hopeless.
fn verification_code() -> Result<String, StoreError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Corrupt(format!("no randomness available: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
        .collect())
}

/// Inserts a resident with its lists, taking the next change number, and audits the
/// registration by id: verified (holding its contacts as keys) when `verified_at` is set, else
/// pending since `now` with `code` (stored as given for delivery and hashed for lookup).
async fn insert_resident(
    tx: &mut Tx,
    r: &Resident,
    token_hash: &str,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let change = tx.next_resident_change().await?;
    let verified = r.verified_at.is_some();
    query(
        "INSERT INTO residents (id, email, phone, postal_address, channels, consent_at, token_hash, created_at, change_seq, \
         verified_at, pending_since, verification_code, verification_hash, email_key, phone_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(r.id)
    .bind(&r.email)
    .bind(&r.phone)
    .bind(&r.postal_address)
    .bind(channels_text(&r.channels))
    .bind(r.consent_at)
    .bind(token_hash)
    .bind(now)
    .bind(change)
    .bind(r.verified_at)
    .bind((!verified).then_some(now))
    // The code itself waits in its message (the outbox), not beside the registration.
    .bind(None::<String>)
    .bind(code.map(token::hash))
    .bind(if verified { r.email.clone() } else { None })
    .bind(if verified { r.phone.clone() } else { None })
    .execute(&mut *tx)
    .await?;
    for (table, column, values) in [
        ("resident_interests", "topic", r.interests.clone()),
        (
            "resident_areas",
            "code",
            r.areas.iter().map(|a| a.to_string()).collect(),
        ),
        ("resident_groups", "slug", r.groups.clone()),
    ] {
        for v in values {
            query(format!("INSERT INTO {table} (resident_id, {column}) VALUES ($1, $2)"))
                .bind(r.id)
                .bind(v)
                .execute(&mut *tx)
                .await?;
        }
    }
    let public = Actor {
        name: "public".into(),
        role: Role::Officer,
        organisation: None,
        staff: None,
    };
    // The audit log names the record, never the person's details.
    tx.audit(
        &public,
        now,
        "resident.register",
        "resident",
        &r.id.to_string(),
        &json!({}),
    )
    .await
}

impl Store {
    /// Stores a resident as given, with a new private management token (returned once, stored
    /// hashed): verified when `verified_at` is set (holding its contacts as keys: a contact
    /// another verified resident holds is a conflict), else pending since `now` without a code.
    /// Registrations go through [`Store::register_resident`]; this is for imports and tests.
    pub async fn create_resident(&self, resident: &Resident, now: DateTime<Utc>) -> Result<String, StoreError> {
        let secret = token::generate("rst")?;
        let mut tx = self.begin().await?;
        insert_resident(&mut tx, resident, &token::hash(&secret), None, now).await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Registers a resident as pending verification: stores them with a new private management
    /// token (returned once, stored hashed) and a new verification code that waits here for
    /// delivery to the contact (see [`Store::verification_code`]); neither is ever logged. The
    /// record is never invited until [`Store::verify_resident`] is given the code.
    pub async fn register_resident(&self, resident: &Resident, now: DateTime<Utc>) -> Result<String, StoreError> {
        let secret = token::generate("rst")?;
        let code = verification_code()?;
        let pending = Resident {
            verified_at: None,
            ..resident.clone()
        };
        let mut tx = self.begin().await?;
        insert_resident(&mut tx, &pending, &token::hash(&secret), Some(&code), now).await?;
        if let Some(message) = pending.verification_message(&code) {
            tx.queue_messages(&[message], now).await?;
        }
        tx.commit().await?;
        Ok(secret)
    }

    /// The verification code waiting in the outbox for delivery to a pending resident's contact
    /// (`None` once sent, once verified, or for nobody). For tests and support; never log it.
    pub async fn verification_code(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = query(
            "SELECT o.personalisation FROM outbox o JOIN residents r ON r.id = o.resident_id \
             WHERE o.idempotency_key = $1 AND r.verified_at IS NULL",
        )
        .bind(consult_core::MessageKey::verification(id).as_str())
        .fetch_optional(self)
        .await?;
        let Some((Some(fields),)) = row else { return Ok(None) };
        let fields: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&fields).map_err(|e| StoreError::Corrupt(format!("outbox: personalisation: {e}")))?;
        Ok(fields.get("code").cloned())
    }

    /// Verifies the pending registration whose code is `code` (normalised, see
    /// [`consult_core::normalise_code`]) if it is pending since after `pending_after`, in one
    /// transaction. When a verified resident already holds its e-mail address or phone number,
    /// the registration updates that resident (contacts, interests, areas, groups, channels,
    /// consent, and the management token, which becomes the registration's) and the pending
    /// record goes; otherwise the record itself becomes verified and holds its contacts.
    /// `None` for a wrong or expired code; a conflict when its contacts belong to two residents.
    pub async fn verify_resident(
        &self,
        code: &str,
        pending_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Verified>, StoreError> {
        let mut tx = self.begin().await?;
        // The counter's row lock first: the pending record and the holders read below cannot
        // change before this commits (two verifications of one code: the second finds nothing).
        // A wrong code rolls back, so the counter does not move.
        let change = tx.next_resident_change().await?;
        let pending: Option<PendingRow> = query(
            "SELECT id, email, phone, postal_address, channels, consent_at, token_hash FROM residents \
             WHERE verification_hash = $1 AND verified_at IS NULL AND pending_since > $2",
        )
        .bind(token::hash(code))
        .bind(pending_after)
        .fetch_optional(&mut tx)
        .await?;
        let Some(p) = pending else { return Ok(None) };
        // The code came back: a copy still waiting to go is not needed any more.
        tx.cancel_messages_of(MessageOwner::Resident(p.id), &[MessageKind::Verification], now)
            .await?;
        let holders: Vec<(Uuid,)> = query(
            "SELECT id FROM residents WHERE verified_at IS NOT NULL AND (email_key = $1 OR phone_key = $2) ORDER BY id",
        )
        .bind(&p.email)
        .bind(&p.phone)
        .fetch_all(&mut tx)
        .await?;
        let resident = match holders.as_slice() {
            [] => {
                query(
                    "UPDATE residents SET verified_at = $2, pending_since = NULL, verification_code = NULL, \
                     verification_hash = NULL, email_key = email, phone_key = phone, change_seq = $3 WHERE id = $1",
                )
                .bind(p.id)
                .bind(now)
                .bind(change)
                .execute(&mut tx)
                .await?;
                tx.audit(
                    &resident_actor(),
                    now,
                    "resident.verify",
                    "resident",
                    &p.id.to_string(),
                    &json!({}),
                )
                .await?;
                Verified {
                    id: p.id,
                    updated: false,
                }
            }
            [(holder,)] => {
                let holder = *holder;
                // The registration's lists replace the holder's; the pending record goes.
                for table in ["resident_interests", "resident_areas", "resident_groups"] {
                    query(format!("DELETE FROM {table} WHERE resident_id = $1"))
                        .bind(holder)
                        .execute(&mut tx)
                        .await?;
                    query(format!("UPDATE {table} SET resident_id = $1 WHERE resident_id = $2"))
                        .bind(holder)
                        .bind(p.id)
                        .execute(&mut tx)
                        .await?;
                }
                query("DELETE FROM residents WHERE id = $1")
                    .bind(p.id)
                    .execute(&mut tx)
                    .await?;
                query("INSERT INTO resident_removals (id, change_seq) VALUES ($1, $2)")
                    .bind(p.id)
                    .bind(change)
                    .execute(&mut tx)
                    .await?;
                query(
                    "UPDATE residents SET email = $2, phone = $3, postal_address = $4, channels = $5, consent_at = $6, \
                     token_hash = $7, email_key = $2, phone_key = $3, change_seq = $8 WHERE id = $1",
                )
                .bind(holder)
                .bind(&p.email)
                .bind(&p.phone)
                .bind(&p.postal_address)
                .bind(&p.channels)
                .bind(p.consent_at)
                .bind(&p.token_hash)
                .bind(change)
                .execute(&mut tx)
                .await?;
                tx.audit(
                    &resident_actor(),
                    now,
                    "resident.update",
                    "resident",
                    &holder.to_string(),
                    &json!({}),
                )
                .await?;
                Verified {
                    id: holder,
                    updated: true,
                }
            }
            _ => {
                return Err(StoreError::Conflict(
                    "this e-mail address and phone number belong to two different registrations: \
                     register each on its own, or delete one of them first"
                        .into(),
                ));
            }
        };
        tx.commit().await?;
        Ok(Some(resident))
    }

    /// Deletes every registration still unverified that has been pending since `pending_before`
    /// or earlier, in one transaction counted as a change to the register (so audience indexes
    /// drop them) and audited as one entry with the count. Returns how many were deleted.
    pub async fn purge_unverified(
        &self,
        pending_before: DateTime<Utc>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        const STALE: &str = "SELECT id FROM residents WHERE verified_at IS NULL AND pending_since <= $1";
        let (n,): (i64,) = query(format!("SELECT COUNT(*) FROM ({STALE}) s"))
            .bind(pending_before)
            .fetch_one(self)
            .await?;
        if n == 0 {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let change = tx.next_resident_change().await?;
        query(format!(
            "UPDATE outbox SET status = CASE WHEN status IN ('queued', 'sending') THEN 'cancelled' ELSE status END, \
             recipient = NULL, personalisation = NULL, resident_id = NULL, updated_at = $2 \
             WHERE resident_id IN ({STALE})"
        ))
        .bind(pending_before)
        .bind(now)
        .execute(&mut tx)
        .await?;
        for table in ["contacts", "resident_interests", "resident_areas", "resident_groups"] {
            query(format!("DELETE FROM {table} WHERE resident_id IN ({STALE})"))
                .bind(pending_before)
                .execute(&mut tx)
                .await?;
        }
        let gone: Vec<(Uuid,)> =
            query("DELETE FROM residents WHERE verified_at IS NULL AND pending_since <= $1 RETURNING id")
                .bind(pending_before)
                .fetch_all(&mut tx)
                .await?;
        for chunk in gone.chunks(400) {
            let mut sql = Sql::new("INSERT INTO resident_removals (id, change_seq) VALUES ");
            let mut rows = Vec::with_capacity(chunk.len());
            for (id,) in chunk {
                let i = sql.arg(*id);
                let c = sql.arg(change);
                rows.push(format!("({i}, {c})"));
            }
            sql.push(&rows.join(", "));
            sql.execute(&mut tx).await?;
        }
        let deleted = gone.len() as u64;
        tx.audit(
            actor,
            now,
            "resident.purge_unverified",
            "resident",
            "unverified",
            &json!({ "deleted": deleted }),
        )
        .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// A resident's own record, given their id and management token; `None` if either is wrong.
    pub async fn resident(&self, id: Uuid, secret: &str) -> Result<Option<Resident>, StoreError> {
        let row: Option<ResidentRow> = query(
            "SELECT email, phone, postal_address, channels, consent_at, verified_at FROM residents WHERE id = $1 AND token_hash = $2",
        )
        .bind(id)
        .bind(token::hash(secret))
        .fetch_optional(self)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let interests = self.resident_list(id, "resident_interests", "topic").await?;
        let areas = self
            .resident_list(id, "resident_areas", "code")
            .await?
            .iter()
            .map(|c| AreaCode::parse(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::Corrupt)?;
        let groups = self.resident_list(id, "resident_groups", "slug").await?;
        Ok(Some(Resident {
            id,
            email: row.email,
            phone: row.phone,
            postal_address: row.postal_address,
            interests,
            areas,
            groups,
            channels: channels_from(&row.channels),
            consent_at: row.consent_at,
            verified_at: row.verified_at,
        }))
    }

    /// One of the lists kept beside a resident (interests, areas, groups), sorted.
    async fn resident_list(&self, id: Uuid, table: &str, column: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = query(format!(
            "SELECT {column} FROM {table} WHERE resident_id = $1 ORDER BY {column}"
        ))
        .bind(id)
        .fetch_all(self)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Every contact-log entry about one resident (for their export).
    pub async fn resident_contacts(&self, id: Uuid) -> Result<Vec<ContactRecord>, StoreError> {
        let rows: Vec<ContactRow> = query(
            "SELECT k.consultation_id, c.title, k.kind, k.channel, k.at FROM contacts k \
             JOIN consultations c ON c.id = k.consultation_id WHERE k.resident_id = $1 ORDER BY k.at, k.id",
        )
        .bind(id)
        .fetch_all(self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ContactRecord {
                consultation_id: r.consultation_id,
                title: r.title,
                kind: r.kind,
                channel: r.channel,
                at: r.at,
            })
            .collect())
    }

    /// Erases a resident and their contact log. Returns whether they existed.
    pub async fn delete_resident(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        tx.forget_messages_of(id, now).await?;
        for table in ["contacts", "resident_interests", "resident_areas", "resident_groups"] {
            query(format!("DELETE FROM {table} WHERE resident_id = $1"))
                .bind(id)
                .execute(&mut tx)
                .await?;
        }
        let done = query("DELETE FROM residents WHERE id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        if done == 1 {
            // Only the id, so audience indexes drop the resident too.
            let change = tx.next_resident_change().await?;
            query("INSERT INTO resident_removals (id, change_seq) VALUES ($1, $2)")
                .bind(id)
                .bind(change)
                .execute(&mut tx)
                .await?;
        }
        let public = Actor {
            name: "resident".into(),
            role: Role::Officer,
            organisation: None,
            staff: None,
        };
        tx.audit(&public, now, "resident.delete", "resident", &id.to_string(), &json!({}))
            .await?;
        tx.commit().await?;
        Ok(done == 1)
    }

    /// Whether a registration with this id exists (pending or verified).
    pub async fn resident_exists(&self, id: Uuid) -> Result<bool, StoreError> {
        let row: Option<(Uuid,)> = query("SELECT id FROM residents WHERE id = $1")
            .bind(id)
            .fetch_optional(self)
            .await?;
        Ok(row.is_some())
    }

    /// Withdraws a resident's consent: no more invitations.
    pub async fn unsubscribe(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let change = tx.next_resident_change().await?;
        query("UPDATE residents SET consent_at = NULL, change_seq = $2 WHERE id = $1")
            .bind(id)
            .bind(change)
            .execute(&mut tx)
            .await?;
        // Invitations not yet sent are withdrawn with the consent.
        tx.cancel_messages_of(MessageOwner::Resident(id), &[MessageKind::Invitation], now)
            .await?;
        let public = Actor {
            name: "resident".into(),
            role: Role::Officer,
            organisation: None,
            staff: None,
        };
        tx.audit(
            &public,
            now,
            "resident.unsubscribe",
            "resident",
            &id.to_string(),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The matching residents of an activity as candidates, with their contact counts since
    /// `window_start`: what [`consult_core::plan_invitations`] reads. Planning itself uses
    /// [`Store::invitation_plan`], which decides in the database; this is its reference.
    pub async fn invitation_candidates(
        &self,
        consultation: ConsultationId,
        matching: &Matching,
        window_start: NaiveDate,
    ) -> Result<Vec<Candidate>, StoreError> {
        let mut sql = Sql::new(
            "SELECT r.id, r.channels, r.consent_at, r.verified_at, r.recent_invitations FROM residents r WHERE 1 = 1",
        );
        let Some(conditions) = matching_conditions(matching, &mut sql) else {
            return Ok(Vec::new());
        };
        sql.push(&conditions);
        let invited = self.invited_to(consultation).await?;
        let rows: Vec<AudienceRow> = sql.fetch_all(self).await?;
        rows.into_iter()
            .map(|r| {
                let (mut n, mut last) = (0u32, None::<NaiveDate>);
                for d in recent_dates(&r.recent_invitations)? {
                    if d >= window_start {
                        n += 1;
                        last = last.max(Some(d));
                    }
                }
                Ok(Candidate {
                    id: r.id,
                    channel: channels_from(&r.channels).first().copied(),
                    consented: r.consent_at.is_some(),
                    contacts_in_window: n,
                    last_contact: last,
                    already_invited: invited.contains(&r.id),
                })
            })
            .collect()
    }

    /// Plans invitations for the matching residents of an activity under `rules` on `today`,
    /// deciding in the database (the SQL twin of [`consult_core::invitation_for`]): only the
    /// invited rows are read, and with `rows = false` only the counts of who is left out.
    pub async fn invitation_plan(
        &self,
        consultation: ConsultationId,
        matching: &Matching,
        rules: &FatigueRules,
        today: NaiveDate,
        rows: bool,
    ) -> Result<InvitationPlan, StoreError> {
        // One pass over the matching residents: counts of who is left out and why, and the
        // invited rows, without sending the left-out residents to the client.
        let mut plan = InvitationPlan::default();
        let Some(mut sql) = invitation_reasons(consultation, matching, rules, today) else {
            return Ok(plan);
        };
        // Rows: (reason, count, NULL, NULL) per reason left out, then with `rows`
        // (NULL, 1, id, channels) per resident invited. Both databases materialise a
        // CTE read twice, so the residents are decided once.
        sql.text = if rows {
            format!(
                "WITH t AS ({}) \
                 SELECT t.reason AS reason, COUNT(*) AS n, NULL AS id, NULL AS channels FROM t WHERE t.reason IS NOT NULL GROUP BY t.reason \
                 UNION ALL SELECT NULL, 1, t.id, t.channels FROM t WHERE t.reason IS NULL",
                sql.text
            )
        } else {
            format!(
                "SELECT t.reason AS reason, COUNT(*) AS n, NULL AS id, NULL AS channels FROM ({}) t WHERE t.reason IS NOT NULL GROUP BY t.reason",
                sql.text
            )
        };
        let found: Vec<PlanRow> = sql.fetch_all(self).await?;
        for PlanRow {
            reason,
            n,
            id,
            channels,
        } in found
        {
            match (reason, id) {
                (Some(reason), _) => {
                    let r = Exclusion::parse(&reason)
                        .ok_or_else(|| StoreError::Corrupt(format!("exclusion `{reason}`")))?;
                    let n = u64::try_from(n).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    plan.excluded.insert(r, n);
                }
                (None, Some(id)) => {
                    let channel = channels_from(channels.as_deref().unwrap_or_default())
                        .first()
                        .copied()
                        .ok_or_else(|| StoreError::Corrupt(format!("resident {id} without a channel")))?;
                    plan.invited.push((id, channel));
                    *plan.by_channel.entry(channel).or_default() += 1;
                }
                (None, None) => {
                    return Err(StoreError::Corrupt(
                        "invitation plan row without a reason or resident".into(),
                    ));
                }
            }
        }
        Ok(plan)
    }

    /// The residents already invited to an activity.
    pub async fn invited_to(&self, consultation: ConsultationId) -> Result<HashSet<Uuid>, StoreError> {
        // One range scan of its contacts.
        let invited: Vec<(Uuid,)> =
            query("SELECT DISTINCT resident_id FROM contacts WHERE consultation_id = $1 AND kind = 'invitation'")
                .bind(consultation.0)
                .fetch_all(self)
                .await?;
        Ok(invited.into_iter().map(|(id,)| id).collect())
    }

    /// The changes to the residents' register numbered after `after` (everything when `None`),
    /// for an audience index to catch up exactly: the residents changed and those deleted, with
    /// the number to pass next time.
    pub async fn audience_changes(&self, after: Option<i64>) -> Result<AudienceChanges, StoreError> {
        // What an audience index keeps of each resident changed, and who was deleted, up to the
        // counter's value read first (every change up to it is committed). A resident changed
        // again while this reads is read again next time.
        let (upto,): (i64,) = query("SELECT n FROM resident_changes WHERE id = 1")
            .fetch_one(self)
            .await?;
        let after = after.unwrap_or(-1);
        let mut changes = AudienceChanges {
            upto,
            changed: Vec::new(),
            removed: Vec::new(),
        };
        if upto <= after {
            return Ok(changes);
        }
        let everyone = after < 0;
        let rows: Vec<AudienceRow> = query(
            "SELECT r.id, r.channels, r.consent_at, r.verified_at, r.recent_invitations FROM residents r \
             WHERE r.change_seq > $1 AND r.change_seq <= $2",
        )
        .bind(after)
        .bind(upto)
        .fetch_all(self)
        .await?;
        let mut side: HashMap<Uuid, Lists> = HashMap::with_capacity(rows.len());
        for (i, (table, column)) in [
            ("resident_areas", "code"),
            ("resident_interests", "topic"),
            ("resident_groups", "slug"),
        ]
        .into_iter()
        .enumerate()
        {
            // Read after the residents: a newer side row belongs to a resident whose
            // newer number brings it back next time.
            let sql = if everyone {
                format!("SELECT t.resident_id, t.{column} AS value FROM {table} t")
            } else {
                format!(
                    "SELECT t.resident_id, t.{column} AS value FROM {table} t JOIN residents r ON r.id = t.resident_id \
                     WHERE r.change_seq > $1"
                )
            };
            let mut q = query(sql);
            if !everyone {
                q = q.bind(after);
            }
            let found: Vec<SideRow> = q.fetch_all(self).await?;
            for SideRow { resident_id, value } in found {
                let e = side.entry(resident_id).or_default();
                match i {
                    0 => e.areas.push(AreaCode::parse(&value).map_err(StoreError::Corrupt)?),
                    1 => e.interests.push(value),
                    _ => e.groups.push(value),
                }
            }
        }
        changes.changed = rows
            .into_iter()
            .map(|r| {
                let Lists {
                    areas,
                    interests,
                    groups,
                } = side.remove(&r.id).unwrap_or_default();
                Ok(AudienceEntry {
                    id: r.id,
                    areas,
                    interests,
                    groups,
                    channel: channels_from(&r.channels).first().copied(),
                    consented: r.consent_at.is_some(),
                    verified: r.verified_at.is_some(),
                    recent_invitations: recent_dates(&r.recent_invitations)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let removed: Vec<(Uuid,)> =
            query("SELECT id FROM resident_removals WHERE change_seq > $1 AND change_seq <= $2")
                .bind(after)
                .bind(upto)
                .fetch_all(self)
                .await?;
        changes.removed = removed.into_iter().map(|(id,)| id).collect();
        Ok(changes)
    }

    /// Rebuilds every resident's recent invitation dates from the contact log (after contacts
    /// were loaded by other means than [`Store::record_invitations`]). Returns residents updated.
    pub async fn rebuild_recent_invitations(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let change = tx.next_resident_change().await?;
        let done = query(format!(
            "UPDATE residents SET recent_invitations = COALESCE(substr(\
             (SELECT string_agg(CAST(k.on_date AS TEXT), ',' ORDER BY k.on_date DESC) FROM contacts k \
              WHERE k.resident_id = residents.id AND k.kind = 'invitation' AND k.undelivered_at IS NULL \
              AND k.on_date >= $1), 1, {RECENT_INVITATIONS_TEXT}), ''), change_seq = $2"
        ))
        .bind(Utc::now().date_naive() - chrono::Duration::days(RECENT_INVITATION_DAYS))
        .bind(change)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Records a committed invitation plan in the contact log, all or nothing, keeping each
    /// invited resident's recent invitation dates with them, and queues each invitation in the
    /// outbox on the resident's channel (one per activity and resident, however often the plan
    /// is committed), filled with `fields` (the activity's) and the resident's address. Returns
    /// how many messages were newly queued.
    pub async fn record_invitations(
        &self,
        consultation: ConsultationId,
        invited: &[(Uuid, ContactChannel)],
        fields: &BTreeMap<String, String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let change = tx.next_resident_change().await?;
        let today = now.date_naive();
        let horizon = today - chrono::Duration::days(RECENT_INVITATION_DAYS);
        let personalisation =
            serde_json::to_string(fields).map_err(|e| StoreError::Corrupt(format!("outbox: personalisation: {e}")))?;
        let hex = |id: &Uuid| id.simple().to_string();
        let mut queued = 0;
        // Each statement takes a chunk of rows as one JSON parameter (`Tx::json_rows`).
        for chunk in invited.chunks(INVITATION_CHUNK) {
            let pairs: Vec<Value> = chunk.iter().map(|(r, c)| json!([hex(r), c.as_str()])).collect();
            let pairs = Value::Array(pairs).to_string();
            query(format!(
                "INSERT INTO contacts (resident_id, consultation_id, kind, channel, at, on_date) \
                 SELECT {}, $1, 'invitation', value ->> 1, $2, $3 FROM {}",
                tx.json_uuid(0),
                tx.json_rows("$4")
            ))
            .bind(consultation.0)
            .bind(now)
            .bind(today)
            .bind(pairs.clone())
            .execute(&mut tx)
            .await?;
            // Each resident's recent invitation dates: read, add today, drop what is older than
            // any window, write back.
            let current: Vec<InvitedRow> = query(format!(
                "SELECT id, recent_invitations, email, phone, postal_address FROM residents \
                 WHERE id IN (SELECT {} FROM {})",
                tx.json_uuid(0),
                tx.json_rows("$1")
            ))
            .bind(pairs)
            .fetch_all(&mut tx)
            .await?;
            let mut dates_of = Vec::with_capacity(current.len());
            for row in &current {
                let mut dates: Vec<NaiveDate> = recent_dates(&row.recent_invitations)?
                    .into_iter()
                    .filter(|d| *d >= horizon)
                    .collect();
                dates.push(today);
                dates.sort_unstable_by(|a, b| b.cmp(a));
                dates.truncate(FatigueRules::MOST_CONTACTS as usize);
                let text = dates
                    .iter()
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                dates_of.push(json!([hex(&row.id), text]));
            }
            if !dates_of.is_empty() {
                let set = match &tx {
                    Tx::Sqlite(_) => "residents.id = unhex(value ->> 0)",
                    Tx::Postgres(_) => "residents.id = CAST(value ->> 0 AS uuid)",
                };
                query(format!(
                    "UPDATE residents SET recent_invitations = value ->> 1, change_seq = $1 FROM {} WHERE {set}",
                    tx.json_rows("$2")
                ))
                .bind(change)
                .bind(Value::Array(dates_of).to_string())
                .execute(&mut tx)
                .await?;
            }
            // The messages, on each resident's channel, after the dates are kept (an invitation
            // to a suppressed address is stored suppressed and stops counting at once).
            let addresses: HashMap<Uuid, &InvitedRow> = current.iter().map(|r| (r.id, r)).collect();
            let messages: Vec<(Uuid, &Uuid, ContactChannel, String, String)> = chunk
                .iter()
                .filter_map(|(resident, channel)| {
                    let row = addresses.get(resident)?;
                    let recipient = match channel {
                        ContactChannel::Email => row.email.clone(),
                        ContactChannel::Sms | ContactChannel::Phone => row.phone.clone(),
                        ContactChannel::Post => row.postal_address.clone(),
                    }?;
                    let hash = crate::outbox::address_hash(*channel, &recipient);
                    Some((Uuid::now_v7(), resident, *channel, recipient, hash))
                })
                .collect();
            let hashes: Vec<Value> = messages.iter().map(|m| json!([m.4])).collect();
            let suppressed: HashSet<String> = query(format!(
                "SELECT address_hash FROM suppressions WHERE address_hash IN (SELECT value ->> 0 FROM {})",
                tx.json_rows("$1")
            ))
            .bind(Value::Array(hashes).to_string())
            .fetch_all::<(String,)>(&mut tx)
            .await?
            .into_iter()
            .map(|(h,)| h)
            .collect();
            let (blocked, open): (Vec<_>, Vec<_>) = messages.iter().partition(|m| suppressed.contains(&m.4));
            for (rows, sent) in [(open, true), (blocked, false)] {
                if rows.is_empty() {
                    continue;
                }
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|(id, resident, channel, recipient, _)| {
                        json!([
                            hex(id),
                            MessageKey::invitation(consultation, **resident).as_str(),
                            channel.as_str(),
                            hex(resident),
                            // A suppressed message never goes: nothing of its recipient is kept.
                            sent.then_some(recipient)
                        ])
                    })
                    .collect();
                // `WHERE true`: SQLite would read `ON CONFLICT` after a bare FROM as a join's `ON`.
                let sql = format!(
                    "INSERT INTO outbox (id, idempotency_key, kind, channel, consultation_id, resident_id, staff_id, \
                     recipient, personalisation, status, due_at, created_at, updated_at) \
                     SELECT {}, value ->> 1, 'invitation', value ->> 2, $1, {}, NULL, value ->> 4, $2, $3, $4, $4, $4 \
                     FROM {} WHERE true ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                    tx.json_uuid(0),
                    tx.json_uuid(3),
                    tx.json_rows("$5")
                );
                let inserted: Vec<(Uuid,)> = query(sql)
                    .bind(consultation.0)
                    .bind(sent.then(|| personalisation.clone()))
                    .bind(if sent { "queued" } else { "suppressed" })
                    .bind(now)
                    .bind(Value::Array(rows).to_string())
                    .fetch_all(&mut tx)
                    .await?;
                if sent {
                    queued += inserted.len() as u64;
                } else {
                    let ids: Vec<Uuid> = inserted.into_iter().map(|(id,)| id).collect();
                    tx.count_invitations(&ids, true, now).await?;
                }
            }
        }
        let detail = json!({ "invited": invited.len(), "queued": queued });
        tx.audit(
            actor,
            now,
            "consultation.invite",
            "consultation",
            &consultation.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// An organisation's fatigue rules (the defaults until set).
    pub async fn fatigue_rules(&self, org: OrganisationId) -> Result<FatigueRules, StoreError> {
        let row: Option<FatigueRow> = query(
            "SELECT max_contacts, window_days, min_gap_days, max_concurrent FROM fatigue_rules WHERE organisation_id = $1",
        )
        .bind(org.0)
        .fetch_optional(self)
        .await?;
        let n = |v: i64| u32::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()));
        Ok(match row {
            None => FatigueRules::default(),
            Some(r) => FatigueRules {
                max_contacts: n(r.max_contacts)?,
                window_days: n(r.window_days)?,
                min_gap_days: n(r.min_gap_days)?,
                max_concurrent: n(r.max_concurrent)?,
            },
        })
    }

    /// Sets an organisation's fatigue rules.
    pub async fn set_fatigue_rules(
        &self,
        org: &Organisation,
        rules: &FatigueRules,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO fatigue_rules (organisation_id, max_contacts, window_days, min_gap_days, max_concurrent) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organisation_id) DO UPDATE SET max_contacts = excluded.max_contacts, \
             window_days = excluded.window_days, min_gap_days = excluded.min_gap_days, max_concurrent = excluded.max_concurrent",
        )
        .bind(org.id.0)
        .bind(i64::from(rules.max_contacts))
        .bind(i64::from(rules.window_days))
        .bind(i64::from(rules.min_gap_days))
        .bind(i64::from(rules.max_concurrent))
        .execute(&mut tx)
        .await?;
        let detail = serde_json::to_value(rules).unwrap_or(Value::Null);
        tx.audit(
            actor,
            now,
            "organisation.fatigue_rules",
            "organisation",
            org.slug.as_str(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

//! The outbox (S action 1 and "Integrity", action 12; O actions 26-29; T 6.4-6.5): every message
//! consult decides to send (a resident's verification code, an invitation, a results notice, a
//! reply, a councillor's digest, a coordinator's alert), queued in the same transaction as the
//! decision that causes it and delivered later by a worker.
//!
//! This module holds the rules, as data and pure functions: what a message is and its
//! idempotency key (so a decision taken twice queues one message), the states a message passes
//! through, and what becomes of it after each try ([`RetryPolicy::settle`]). The store keeps the
//! queue; consult-app's delivery worker claims, sends and settles.

use crate::consultation::ConsultationId;
use crate::residents::ContactChannel;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What a message is for; each kind has its own template and its own wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A resident's verification code (the double opt-in of the residents' register).
    Verification,
    /// An invitation to take part in an activity, by the resident's preferred channel.
    Invitation,
    /// "You said, we did" is published for an activity the recipient responded to.
    ResultsNotice,
    /// A reply to a comment or complaint.
    Reply,
    /// A councillor's weekly digest of activities in their wards.
    Digest,
    /// A coordinator's alert (approvals waiting, feedback overdue).
    Alert,
}

impl MessageKind {
    /// Every kind, in the order they are listed.
    pub const ALL: [MessageKind; 6] = [
        Self::Verification,
        Self::Invitation,
        Self::ResultsNotice,
        Self::Reply,
        Self::Digest,
        Self::Alert,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verification => "verification",
            Self::Invitation => "invitation",
            Self::ResultsNotice => "results_notice",
            Self::Reply => "reply",
            Self::Digest => "digest",
            Self::Alert => "alert",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The fields this kind's template is filled with (the names GOV.UK Notify templates use
    /// as `((placeholders))`): those stored with the message, then the links the delivery
    /// worker adds when it sends (`*_url`).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Verification => &["code", "verify_url"],
            Self::Invitation => &[
                "activity_id",
                "activity_title",
                "activity_summary",
                "organisation",
                "opens_on",
                "closes_on",
                "activity_url",
                "unsubscribe_url",
            ],
            Self::ResultsNotice => &["activity_id", "activity_title", "organisation", "activity_url"],
            Self::Reply => &["activity_id", "activity_title", "reply", "activity_url"],
            Self::Digest => &["period", "digest", "unsubscribe_url"],
            Self::Alert => &["date", "alert", "unsubscribe_url"],
        }
    }

    /// Whether a recipient may stop this kind of message with one click (RFC 8058): everything
    /// but a verification code, which the recipient has just asked for.
    pub fn can_unsubscribe(self) -> bool {
        self != Self::Verification
    }
}

/// Where a message is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting to be sent (first try, or again after a temporary failure).
    Queued,
    /// Claimed by a worker, which holds it until its lease runs out.
    Sending,
    /// Accepted by the provider (or printed, for a letter).
    Sent,
    /// Given up: a permanent failure, or too many temporary ones. An administrator may retry.
    Failed,
    /// No longer wanted: the recipient withdrew or was erased before it went.
    Cancelled,
    /// Not sent because the address is suppressed (a hard bounce or a complaint).
    Suppressed,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 6] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Cancelled,
        Self::Suppressed,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Suppressed => "suppressed",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the message is done with: nothing more will be tried unless someone retries it.
    /// A final message no longer needs its recipient's address or its personalisation, and
    /// the store erases both.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Sent | Self::Failed | Self::Cancelled | Self::Suppressed)
    }
}

/// A message's idempotency key: its kind, then what it is about and for whom, e.g.
/// `invitation/<activity>/<resident>`. The outbox holds one message per key, so a decision
/// made twice (a plan committed again, a retried request) queues nothing new.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageKey(String);

impl MessageKey {
    /// A key from its kind and parts, joined by `/`.
    pub fn new(kind: MessageKind, parts: &[&dyn std::fmt::Display]) -> Self {
        let mut key = kind.as_str().to_owned();
        for p in parts {
            key.push('/');
            key.push_str(&p.to_string());
        }
        Self(key)
    }

    /// The verification code of a pending registration (one per registration record).
    pub fn verification(registration: Uuid) -> Self {
        Self::new(MessageKind::Verification, &[&registration])
    }

    /// An invitation to an activity for a resident.
    pub fn invitation(activity: ConsultationId, resident: Uuid) -> Self {
        Self::new(MessageKind::Invitation, &[&activity, &resident])
    }

    /// A councillor's digest for a week (`2026-W03`).
    pub fn digest(staff: Uuid, iso_week: &str) -> Self {
        Self::new(MessageKind::Digest, &[&staff, &iso_week])
    }

    /// A coordinator's alert for a day.
    pub fn alert(staff: Uuid, day: chrono::NaiveDate) -> Self {
        Self::new(MessageKind::Alert, &[&staff, &day])
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key read back from the store.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl std::fmt::Display for MessageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message to queue: everything the worker needs to send it later, without reading anything
/// else (the recipient may be gone by then; the message is cancelled with them).
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Its idempotency key.
    pub key: MessageKey,
    /// What it is for.
    pub kind: MessageKind,
    /// How it goes.
    pub channel: ContactChannel,
    /// The address on that channel (e-mail address, phone number in E.164, postal address).
    pub recipient: String,
    /// The resident it is for, if any: erasing or unsubscribing them cancels it.
    pub resident: Option<Uuid>,
    /// The staff account it is for, if any (a digest, an alert): disabling the account or
    /// stopping the kind cancels it.
    pub staff: Option<Uuid>,
    /// The activity it is about, if any.
    pub consultation: Option<ConsultationId>,
    /// The fields its template is filled with (GOV.UK Notify's "personalisation").
    pub personalisation: BTreeMap<String, String>,
}

/// What a provider reported about a message after accepting it (GOV.UK Notify's delivery
/// receipts and complaints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderOutcome {
    /// It reached the recipient.
    Delivered,
    /// The address does not exist or refuses mail (a hard bounce; a number not in service).
    PermanentFailure,
    /// The provider gave up for now (an inbox full, a phone off for days).
    TemporaryFailure,
    /// The provider's own fault: the message was not sent.
    TechnicalFailure,
    /// The recipient marked it as spam.
    Complaint,
}

impl ProviderOutcome {
    /// Notify's name for a delivery receipt's `status` (`delivered`, `permanent-failure`,
    /// `temporary-failure`, `technical-failure`); `None` for a status that is not final
    /// (`created`, `sending`, `pending`, ...).
    pub fn from_notify_status(status: &str) -> Option<Self> {
        match status {
            "delivered" | "received" | "accepted" => Some(Self::Delivered),
            "permanent-failure" | "validation-failed" | "virus-scan-failed" => Some(Self::PermanentFailure),
            "temporary-failure" => Some(Self::TemporaryFailure),
            "technical-failure" => Some(Self::TechnicalFailure),
            _ => None,
        }
    }

    /// Whether the address is suppressed: nothing more is sent to it (a hard bounce, a
    /// complaint).
    pub fn suppresses(self) -> bool {
        matches!(self, Self::PermanentFailure | Self::Complaint)
    }

    /// What the message's record says of it when it did not arrive; `None` when it did.
    pub fn failure(self) -> Option<&'static str> {
        match self {
            Self::Delivered => None,
            Self::PermanentFailure => Some("the provider reported a permanent failure: the address does not exist"),
            Self::TemporaryFailure => Some("the provider reported a temporary failure and gave up"),
            Self::TechnicalFailure => Some("the provider reported a technical failure: not sent"),
            Self::Complaint => Some("the recipient reported it as spam"),
        }
    }
}

/// What a channel said of one try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider accepted the message; its reference, if it gives one.
    Accepted {
        /// The provider's id for the message (an SMTP queue id, a Notify notification id).
        reference: Option<String>,
    },
    /// A failure that may pass (a connection refused, a 4xx SMTP reply, a rate limit): try again
    /// later.
    Temporary(String),
    /// A failure that will not pass (a 5xx SMTP reply, a request the provider refuses).
    Permanent(String),
    /// The address itself is refused (a hard bounce): the message fails and the address is
    /// suppressed, so nothing more is sent to it.
    Rejected(String),
}

/// What the outbox records after a try: the message's new status, when it is next due (for a
/// retry) and the reason of a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The new status.
    pub status: DeliveryStatus,
    /// When to try again ([`DeliveryStatus::Queued`] only).
    pub retry_at: Option<DateTime<Utc>>,
    /// Why the try failed, if it did.
    pub error: Option<String>,
    /// The provider's reference of an accepted message.
    pub reference: Option<String>,
    /// Whether the recipient's address is to be suppressed.
    pub suppress: bool,
}

/// How often and how long a message is tried: exponential backoff from `first_delay`, doubling
/// to at most `max_delay`, with a jitter of up to a quarter drawn from the message id (so
/// messages that failed together do not all come back together), for at most `max_attempts`
/// tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries before giving up (at least one).
    pub max_attempts: u32,
    /// The wait after the first failure.
    pub first_delay: TimeDelta,
    /// The longest wait.
    pub max_delay: TimeDelta,
}

impl Default for RetryPolicy {
    /// Eight tries over about a day and a half: 1, 2, 4 ... minutes, at most 12 hours apart.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            first_delay: TimeDelta::minutes(1),
            max_delay: TimeDelta::hours(12),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed try of message `id` (attempts >= 1).
    pub fn delay(&self, id: Uuid, attempts: u32) -> TimeDelta {
        let doubling = attempts.saturating_sub(1).min(30);
        let base = self
            .first_delay
            .checked_mul(1 << doubling.min(20))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        // Jitter of 0-25% from the id's bits: the same message always waits the same time.
        let bits = id.as_u128() as u64 ^ u64::from(attempts).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let quarter = base.num_milliseconds() / 4;
        let jitter = if quarter > 0 {
            (bits % (quarter as u64 + 1)) as i64
        } else {
            0
        };
        base + TimeDelta::milliseconds(jitter)
    }

    /// What becomes of message `id` after its `attempts`-th try ended with `outcome` at `now`.
    pub fn settle(&self, id: Uuid, attempts: u32, outcome: SendOutcome, now: DateTime<Utc>) -> Settlement {
        let failed = |error: String, suppress: bool| Settlement {
            status: DeliveryStatus::Failed,
            retry_at: None,
            error: Some(error),
            reference: None,
            suppress,
        };
        match outcome {
            SendOutcome::Accepted { reference } => Settlement {
                status: DeliveryStatus::Sent,
                retry_at: None,
                error: None,
                reference,
                suppress: false,
            },
            SendOutcome::Temporary(e) if attempts < self.max_attempts.max(1) => Settlement {
                status: DeliveryStatus::Queued,
                retry_at: Some(now + self.delay(id, attempts)),
                error: Some(e),
                reference: None,
                suppress: false,
            },
            SendOutcome::Temporary(e) => failed(format!("gave up after {attempts} tries: {e}"), false),
            SendOutcome::Permanent(e) => failed(e, false),
            SendOutcome::Rejected(e) => failed(e, true),
        }
    }
}

/// Where a message can go that someone typed in: an e-mail address (normalised, by e-mail) or a
/// UK mobile number (to E.164, by text message). `None` for anything else (a landline cannot take
/// a text; a name or a postal address is not for these messages).
///
/// ```
/// use consult_core::{ContactChannel, message_address};
/// assert_eq!(message_address(" Ann@Example.ORG "), Some((ContactChannel::Email, "Ann@example.org".into())));
/// assert_eq!(message_address("07700 900123"), Some((ContactChannel::Sms, "+447700900123".into())));
/// assert_eq!(message_address("01827 709709"), None);
/// assert_eq!(message_address("ring me"), None);
/// ```
pub fn message_address(s: &str) -> Option<(ContactChannel, String)> {
    let s = s.trim();
    if s.contains('@') {
        let email = crate::residents::normalise_email(s);
        return crate::residents::valid_email(&email).then_some((ContactChannel::Email, email));
    }
    let phone = crate::residents::normalise_phone(s)?;
    phone.starts_with("+447").then_some((ContactChannel::Sms, phone))
}

/// The message telling someone who asked, when they responded, that an activity's results are
/// published: the key names the activity and the request (one notice each), the fields the
/// activity ([`MessageKind::fields`]).
pub fn results_notice(
    c: &crate::Consultation,
    organisation: &str,
    request: Uuid,
    channel: ContactChannel,
    address: String,
) -> NewMessage {
    NewMessage {
        key: MessageKey::new(MessageKind::ResultsNotice, &[&c.id, &request]),
        kind: MessageKind::ResultsNotice,
        channel,
        recipient: address,
        resident: None,
        staff: None,
        consultation: Some(c.id),
        personalisation: BTreeMap::from([
            ("activity_id".to_owned(), c.id.to_string()),
            ("activity_title".to_owned(), c.plan.title().to_owned()),
            ("organisation".to_owned(), organisation.to_owned()),
        ]),
    }
}

/// The message carrying a reply to a comment or complaint to the contact its author left, when
/// that contact is an address a message can go to ([`message_address`]). The key names the
/// remark and the reply's text, so a reply is sent once and a changed reply once more.
pub fn reply_message(remark: &crate::Remark, activity_title: &str) -> Option<NewMessage> {
    let reply = remark.reply.as_deref()?;
    let (channel, address) = message_address(remark.contact.as_deref()?)?;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in reply.as_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    Some(NewMessage {
        key: MessageKey::new(MessageKind::Reply, &[&remark.id, &format!("{h:016x}")]),
        kind: MessageKind::Reply,
        channel,
        recipient: address,
        resident: None,
        staff: None,
        consultation: Some(remark.consultation_id),
        personalisation: BTreeMap::from([
            ("activity_id".to_owned(), remark.consultation_id.to_string()),
            ("activity_title".to_owned(), activity_title.to_owned()),
            ("reply".to_owned(), reply.to_owned()),
        ]),
    })
}

/// A date as messages write it: `5 January 2026`.
pub fn message_date(d: chrono::NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The fields of an invitation's template (GOV.UK Notify personalisation; the e-mail templates
/// read the same): `activity_id`, `activity_title`, `activity_summary` (empty when none),
/// `organisation` (the owner's full name), `opens_on` and `closes_on` (`5 January 2026`). The
/// delivery worker adds the links (`activity_url`, `unsubscribe_url`) when it sends.
pub fn invitation_fields(c: &crate::Consultation, organisation: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("activity_id".to_owned(), c.id.to_string()),
        ("activity_title".to_owned(), c.plan.title().to_owned()),
        (
            "activity_summary".to_owned(),
            c.plan.summary().unwrap_or_default().to_owned(),
        ),
        ("organisation".to_owned(), organisation.to_owned()),
        ("opens_on".to_owned(), message_date(c.plan.opens_on())),
        ("closes_on".to_owned(), message_date(c.plan.closes_on())),
    ])
}

/// Shows enough of an address for staff to tell messages apart without reading it:
/// `j***@example.org`, `+44******789`, the first line's first letter of a postal address.
pub fn mask_recipient(channel: ContactChannel, recipient: &str) -> String {
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    match channel {
        ContactChannel::Email => match recipient.rsplit_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", first(local)),
            None => "***".into(),
        },
        ContactChannel::Sms | ContactChannel::Phone => {
            let chars: Vec<char> = recipient.chars().collect();
            if chars.len() <= 6 {
                return "***".into();
            }
            let head: String = chars[..3].iter().collect();
            let tail: String = chars[chars.len() - 3..].iter().collect();
            format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
        }
        ContactChannel::Post => format!("{}*** (postal address)", first(recipient.trim())),
    }
}

/// A provider's error text with every e-mail address and every run of seven or more digits (a
/// telephone number) in it masked as [`mask_recipient`] masks a recipient: providers echo the
/// address they refused ("550 5.1.1 <ann@example.org>: no such user"), and such text is shown
/// to staff beside the masked recipient.
pub fn mask_addresses(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let local = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if local(c) {
            // A word: an address if an `@` and a dotted domain follow its local part.
            let start = i;
            let mut j = i;
            while j < chars.len() && local(chars[j]) {
                j += 1;
            }
            if j < chars.len() && chars[j] == '@' {
                let mut k = j + 1;
                while k < chars.len() && domain(chars[k]) {
                    k += 1;
                }
                let host: String = chars[j + 1..k].iter().collect();
                if host.contains('.') {
                    out.push(chars[start]);
                    out.push_str("***@");
                    out.push_str(&host);
                    i = k;
                    continue;
                }
            }
            let word: String = chars[start..j].iter().collect();
            let digits = word.chars().filter(char::is_ascii_digit).count();
            if digits >= 7 && word.chars().all(|c| c.is_ascii_digit() || c == '+') {
                out.push_str(&mask_recipient(ContactChannel::Sms, &word));
            } else {
                out.push_str(&word);
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn provider_errors_lose_the_addresses_they_echo() {
        assert_eq!(
            mask_addresses("550 5.1.1 <ann.smith@example.org>: Recipient address rejected"),
            "550 5.1.1 <a***@example.org>: Recipient address rejected"
        );
        assert_eq!(
            mask_addresses("phone_number +447700900123 is not valid; retry 3 of 5"),
            "phone_number +44*******123 is not valid; retry 3 of 5"
        );
        assert_eq!(mask_addresses("451 try again at 10:30"), "451 try again at 10:30");
    }

    use super::*;

    #[test]
    fn provider_reports_suppress_bounces_and_complaints_only() {
        let p = |s| ProviderOutcome::from_notify_status(s);
        assert_eq!(p("delivered"), Some(ProviderOutcome::Delivered));
        assert_eq!(p("sending"), None, "not final");
        assert!(p("permanent-failure").unwrap().suppresses());
        assert!(ProviderOutcome::Complaint.suppresses());
        assert!(!p("temporary-failure").unwrap().suppresses());
        assert!(!p("technical-failure").unwrap().suppresses());
        assert_eq!(ProviderOutcome::Delivered.failure(), None);
        assert!(p("technical-failure").unwrap().failure().is_some());
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z").unwrap().to_utc()
    }

    #[test]
    fn kinds_and_statuses_round_trip_their_names() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Some(s));
        }
        assert!(!MessageKind::Verification.can_unsubscribe());
        assert!(MessageKind::Invitation.can_unsubscribe());
    }

    #[test]
    fn keys_name_kind_activity_and_recipient() {
        let a = ConsultationId(Uuid::from_u128(1));
        let r = Uuid::from_u128(2);
        assert_eq!(MessageKey::invitation(a, r).as_str(), format!("invitation/{}/{}", a, r));
        assert_eq!(MessageKey::verification(r).as_str(), format!("verification/{r}"));
        assert_ne!(
            MessageKey::invitation(a, r),
            MessageKey::invitation(a, Uuid::from_u128(3))
        );
    }

    #[test]
    fn temporary_failures_back_off_then_give_up() {
        let p = RetryPolicy::default();
        let id = Uuid::from_u128(42);
        let mut last = TimeDelta::zero();
        for attempts in 1..p.max_attempts {
            let s = p.settle(id, attempts, SendOutcome::Temporary("421 busy".into()), now());
            assert_eq!(s.status, DeliveryStatus::Queued);
            let wait = s.retry_at.unwrap() - now();
            assert!(
                wait > last || wait >= p.max_delay,
                "attempt {attempts}: {wait} after {last}"
            );
            assert!(wait <= p.max_delay + p.max_delay / 4);
            last = wait;
        }
        let s = p.settle(id, p.max_attempts, SendOutcome::Temporary("421 busy".into()), now());
        assert_eq!(s.status, DeliveryStatus::Failed);
        assert!(s.error.unwrap().contains("gave up after 8 tries"));
    }

    #[test]
    fn jitter_spreads_messages_that_failed_together() {
        let p = RetryPolicy::default();
        let waits: std::collections::BTreeSet<_> = (0..50u128).map(|i| p.delay(Uuid::from_u128(i * 7919), 3)).collect();
        assert!(waits.len() > 10, "{waits:?}");
        assert!(
            waits
                .iter()
                .all(|w| *w >= TimeDelta::minutes(4) && *w <= TimeDelta::minutes(5))
        );
    }

    #[test]
    fn outcomes_settle_to_their_status() {
        let p = RetryPolicy::default();
        let id = Uuid::from_u128(1);
        let sent = p.settle(
            id,
            1,
            SendOutcome::Accepted {
                reference: Some("q1".into()),
            },
            now(),
        );
        assert_eq!(
            (sent.status, sent.reference.as_deref()),
            (DeliveryStatus::Sent, Some("q1"))
        );
        assert!(sent.status.is_final());
        let bad = p.settle(id, 1, SendOutcome::Permanent("550 no".into()), now());
        assert_eq!((bad.status, bad.suppress), (DeliveryStatus::Failed, false));
        let bounced = p.settle(id, 1, SendOutcome::Rejected("550 5.1.1 unknown user".into()), now());
        assert_eq!((bounced.status, bounced.suppress), (DeliveryStatus::Failed, true));
        assert!(!DeliveryStatus::Queued.is_final() && !DeliveryStatus::Sending.is_final());
    }

    #[test]
    fn recipients_are_masked() {
        assert_eq!(
            mask_recipient(ContactChannel::Email, "jo@example.org"),
            "j***@example.org"
        );
        assert_eq!(mask_recipient(ContactChannel::Sms, "+447700900123"), "+44*******123");
        assert_eq!(
            mask_recipient(ContactChannel::Post, "1 High St, Tamworth"),
            "1*** (postal address)"
        );
        assert_eq!(mask_recipient(ContactChannel::Email, "nonsense"), "***");
    }
}

//! The store's own request and result types.

use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{Actor, AreaCode, ElectionPeriod, InvolvementLevel, OrganisationId, Role, StaffRole, Status};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Largest number of open connections.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A token to issue.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Holder's name, shown in the audit log.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Organisation (required for officers).
    pub organisation: Option<OrganisationId>,
    /// When it stops working (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored token's holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Token id.
    pub id: Uuid,
    /// Holder's name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Organisation.
    pub organisation: Option<OrganisationId>,
}

impl TokenInfo {
    /// The actor this token acts as.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.name.clone(),
            role: self.role,
            organisation: self.organisation,
            staff: None,
        }
    }
}

/// A stored token as an administrator sees it: its holder and its life, never its secret or
/// its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its holder.
    pub info: TokenInfo,
    /// The holder's organisation's slug.
    pub organisation_slug: Option<String>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working (`None`: never, for tokens issued before expiry existed).
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used, to the minute (`None`: never).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just made: the secret is shown once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The bearer secret.
    pub secret: String,
    /// Its holder.
    pub info: TokenInfo,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Order of a register listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Registration order (ids are time-ordered).
    #[default]
    ByRegistration,
    /// Opening date, then registration order.
    ByOpening,
}

/// Filters on the register (API.md `GET /consultations`). Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct ConsultationFilter {
    /// Effective statuses (as seen on `today`), any of.
    pub statuses: Vec<Status>,
    /// Level.
    pub level: Option<InvolvementLevel>,
    /// Owner organisation slug.
    pub organisation: Option<String>,
    /// Any of these area codes (callers pass the area with its ancestors and descendants).
    pub areas: Vec<AreaCode>,
    /// Stakeholder group slug.
    pub group: Option<String>,
    /// Topic (case-insensitive).
    pub topic: Option<String>,
    /// Owning service (case-insensitive).
    pub service: Option<String>,
    /// Text in title, summary or topics (case-insensitive).
    pub text: Option<String>,
    /// Open on or after this date (closes on or after it).
    pub from: Option<NaiveDate>,
    /// Open on or before this date (opens on or before it).
    pub to: Option<NaiveDate>,
    /// Only activities closed without published results whose feedback is overdue.
    pub feedback_overdue: bool,
    /// Order.
    pub order: Order,
}

/// Who is reading: decides whether unpublished activities are visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// The public: published statuses only.
    Public,
    /// An officer: published, plus everything of their own organisation.
    Organisation(OrganisationId),
    /// A service lead: published, plus everything of their own service in their organisation.
    Service(OrganisationId, String),
    /// A councillor: published, plus everything touching these areas (their wards, the areas
    /// containing them and those inside them).
    Areas(Vec<AreaCode>),
    /// Coordinators and admins: everything.
    Everything,
}

impl Reader {
    /// The reader an actor is; `None` is the public.
    pub fn for_actor(actor: Option<&Actor>) -> Reader {
        let Some(a) = actor else {
            return Reader::Public;
        };
        if a.is_coordinator() {
            return Reader::Everything;
        }
        match &a.staff {
            Some(s) if s.role == StaffRole::Councillor => Reader::Areas(s.reach.iter().cloned().collect()),
            Some(s) if s.role == StaffRole::ServiceLead => match (a.organisation, &s.service) {
                (Some(org), Some(service)) => Reader::Service(org, service.clone()),
                _ => Reader::Public,
            },
            _ => a.organisation.map_or(Reader::Public, Reader::Organisation),
        }
    }
}

/// A page request: at most `limit` items after `cursor`.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Items per page.
    pub limit: u32,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

/// A position in a listing: the last item's opening date (for [`Order::ByOpening`]) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Opening date of the last item, for listings by opening date.
    pub opens_on: Option<NaiveDate>,
    /// Id of the last item.
    pub id: Uuid,
}

impl Cursor {
    /// The text form, `ID` or `DATE_ID`.
    pub fn encode(&self) -> String {
        match self.opens_on {
            Some(d) => format!("{d}_{}", self.id.simple()),
            None => self.id.simple().to_string(),
        }
    }

    /// Parses the text form.
    pub fn decode(s: &str) -> Option<Cursor> {
        match s.split_once('_') {
            Some((d, id)) => Some(Cursor {
                opens_on: Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?),
                id: Uuid::parse_str(id).ok()?,
            }),
            None => Some(Cursor {
                opens_on: None,
                id: Uuid::parse_str(s).ok()?,
            }),
        }
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// One entry in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What was done, e.g. `consultation.update`.
    pub action: String,
    /// Kind of record.
    pub entity: String,
    /// Its id, slug or code.
    pub entity_id: String,
    /// What changed, as JSON.
    pub detail: serde_json::Value,
}

/// An organisation's choices for the principles checklist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistSettings {
    /// Keys of the frameworks adopted (the newest version of each applies).
    pub frameworks: Vec<String>,
    /// Pre-election periods in which activities should not launch.
    pub election_periods: Vec<ElectionPeriod>,
}

//! Comments, compliments and complaints about how an activity was run, against the charter
//! (O 4.3 and action 37; R16). Anyone may send one; the owner organisation and coordinators
//! acknowledge, reply and resolve. The sender's contact details are personal data: they are
//! never in public outputs, only counts are.

use crate::consultation::ConsultationId;
use crate::error::ValidationErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// What kind of remark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemarkKind {
    /// A comment.
    Comment,
    /// A compliment.
    Compliment,
    /// A complaint.
    Complaint,
}

impl RemarkKind {
    /// Every kind.
    pub const ALL: [RemarkKind; 3] = [RemarkKind::Comment, RemarkKind::Compliment, RemarkKind::Complaint];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Comment => "comment",
            Self::Compliment => "compliment",
            Self::Complaint => "complaint",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<RemarkKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a remark stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemarkStatus {
    /// Received, not yet looked at.
    Received,
    /// Acknowledged: being looked into.
    Acknowledged,
    /// Answered and closed.
    Resolved,
}

impl RemarkStatus {
    /// Every status.
    pub const ALL: [RemarkStatus; 3] = [
        RemarkStatus::Received,
        RemarkStatus::Acknowledged,
        RemarkStatus::Resolved,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<RemarkStatus> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for RemarkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A remark as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RemarkInput {
    /// `comment`, `compliment` or `complaint`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<RemarkKind>))]
    pub kind: Option<String>,
    /// What happened.
    pub body: Option<String>,
    /// The charter principle it is about, if any (e.g. `accessible`, `feedback`).
    pub principle: Option<String>,
    /// How to reply (email or phone), if a reply is wanted. Personal data: never published.
    pub contact: Option<String>,
}

/// A stored remark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Remark {
    /// Identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    /// The activity it is about.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub consultation_id: ConsultationId,
    /// Kind.
    pub kind: RemarkKind,
    /// What happened.
    pub body: String,
    /// Charter principle.
    pub principle: Option<String>,
    /// How to reply (personal data; shown to the owner organisation and coordinators only).
    pub contact: Option<String>,
    /// Where it stands.
    pub status: RemarkStatus,
    /// The reply.
    pub reply: Option<String>,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl Remark {
    /// Validates a remark as sent.
    pub fn parse(
        id: Uuid,
        consultation_id: ConsultationId,
        input: RemarkInput,
        now: DateTime<Utc>,
    ) -> Result<Remark, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let kind = match input.kind.as_deref() {
            None => {
                e.push("kind", "is required: comment, compliment or complaint");
                None
            }
            Some(k) => RemarkKind::parse(k).or_else(|| {
                e.push("kind", format!("`{k}` is not comment, compliment or complaint"));
                None
            }),
        };
        let body = crate::text::optional_text(&mut e, "body", input.body.as_deref(), 10_000);
        if body.is_none() && input.body.as_deref().is_none_or(|b| b.trim().is_empty()) {
            e.push("body", "is required");
        }
        let principle = crate::text::optional_line(&mut e, "principle", input.principle.as_deref(), 100);
        let contact = crate::text::optional_line(&mut e, "contact", input.contact.as_deref(), 200);
        match (kind, body) {
            (Some(kind), Some(body)) if e.is_empty() => Ok(Remark {
                id,
                consultation_id,
                kind,
                body,
                principle,
                contact,
                status: RemarkStatus::Received,
                reply: None,
                received_at: now,
                updated_at: now,
            }),
            _ => Err(e),
        }
    }

    /// Applies an update by the owner organisation or a coordinator: a new status and/or a
    /// reply. Resolving needs a reply; a resolved remark stays resolved.
    pub fn update(&self, input: &RemarkUpdate, now: DateTime<Utc>) -> Result<Remark, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let status = match input.status.as_deref() {
            None => self.status,
            Some(s) => RemarkStatus::parse(s).unwrap_or_else(|| {
                e.push("status", format!("`{s}` is not received, acknowledged or resolved"));
                self.status
            }),
        };
        let reply = crate::text::optional_text(&mut e, "reply", input.reply.as_deref(), 10_000).or(self.reply.clone());
        if self.status == RemarkStatus::Resolved && status != RemarkStatus::Resolved {
            e.push("status", "a resolved remark cannot be reopened; send a new one");
        }
        if status == RemarkStatus::Resolved && reply.is_none() {
            e.push("reply", "reply before resolving: say what was done");
        }
        e.into_result(Remark {
            status,
            reply,
            updated_at: now,
            ..self.clone()
        })
    }
}

/// An update to a remark.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RemarkUpdate {
    /// `acknowledged` or `resolved`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<RemarkStatus>))]
    pub status: Option<String>,
    /// The reply.
    pub reply: Option<String>,
}

/// Counts of remarks for a review: per kind, and complaints resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemarkCounts {
    /// Comments.
    pub comments: u64,
    /// Compliments.
    pub compliments: u64,
    /// Complaints.
    pub complaints: u64,
    /// Complaints resolved.
    pub complaints_resolved: u64,
}

impl RemarkCounts {
    /// Adds `n` remarks of a kind and status.
    pub fn add(&mut self, kind: RemarkKind, status: RemarkStatus, n: u64) {
        match kind {
            RemarkKind::Comment => self.comments += n,
            RemarkKind::Compliment => self.compliments += n,
            RemarkKind::Complaint => {
                self.complaints += n;
                if status == RemarkStatus::Resolved {
                    self.complaints_resolved += n;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remark() -> Remark {
        Remark::parse(
            Uuid::from_u128(1),
            ConsultationId(Uuid::from_u128(2)),
            RemarkInput {
                kind: Some("complaint".into()),
                body: Some("The venue had no step-free access".into()),
                principle: Some("accessible".into()),
                contact: Some("ann@example.org".into()),
            },
            Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn remarks_are_checked_and_resolved_with_a_reply() {
        let e = Remark::parse(
            Uuid::from_u128(1),
            ConsultationId(Uuid::from_u128(2)),
            RemarkInput {
                kind: Some("moan".into()),
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap_err();
        let fields: Vec<&str> = e.errors().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["kind", "body"]);
        let r = remark();
        let no_reply = RemarkUpdate {
            status: Some("resolved".into()),
            reply: None,
        };
        assert_eq!(r.update(&no_reply, Utc::now()).unwrap_err().errors()[0].field, "reply");
        let done = r
            .update(
                &RemarkUpdate {
                    status: Some("resolved".into()),
                    reply: Some("We have moved the next session to the library".into()),
                },
                Utc::now(),
            )
            .unwrap();
        assert_eq!(done.status, RemarkStatus::Resolved);
        let reopen = RemarkUpdate {
            status: Some("acknowledged".into()),
            reply: None,
        };
        assert_eq!(
            done.update(&reopen, Utc::now()).unwrap_err().errors()[0].field,
            "status"
        );
        let mut counts = RemarkCounts::default();
        counts.add(done.kind, done.status, 1);
        counts.add(RemarkKind::Compliment, RemarkStatus::Received, 2);
        assert_eq!(
            counts,
            RemarkCounts {
                comments: 0,
                compliments: 2,
                complaints: 1,
                complaints_resolved: 1
            }
        );
    }
}

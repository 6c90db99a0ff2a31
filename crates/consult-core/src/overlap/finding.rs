//! What a query finds, and a finding someone has set aside.

use crate::consultation::ConsultationId;
use crate::error::ValidationErrors;
use crate::lifecycle::Status;
use crate::organisation::Slug;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What to do about an overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Suggestion {
    /// Similar subject, same people, same time: run one joint activity.
    JoinUp,
    /// Similar subject at another time: share questions and results.
    ShareResults,
    /// Different subjects asking the same people at the same time: move one.
    ReTime,
    /// The other activity has published results on this subject: reuse them before asking again.
    ReuseResults,
}

/// One overlapping activity, with the factor scores and reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverlapFinding {
    /// The other activity.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub consultation_id: ConsultationId,
    /// Its owner (possibly a partner body).
    pub organisation: Slug,
    /// Its title.
    pub title: String,
    /// Its status on the day of the query.
    pub status: Status,
    /// Its dates.
    pub opens_on: NaiveDate,
    /// Its closing date.
    pub closes_on: NaiveDate,
    /// Combined score in [0, 1].
    pub score: f64,
    /// Subject similarity in [0, 1].
    pub subject: f64,
    /// Audience overlap in [0, 1].
    pub audience: f64,
    /// Time overlap in [0, 1].
    pub time: f64,
    /// What to do.
    pub suggestion: Suggestion,
    /// Why, factor by factor.
    pub reasons: Vec<String>,
}

/// A finding someone has looked at and set aside, with their reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dismissal {
    /// The other activity of the finding.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub other: ConsultationId,
    /// Why it does not need action.
    pub reason: String,
    /// Who dismissed it.
    pub by: String,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Dismissal {
    /// Longest reason kept, in characters.
    pub const REASON_MAX: usize = 2000;

    /// A dismissal of the finding about `other`, by `by` at `at`: the reason is required (at most
    /// [`Dismissal::REASON_MAX`] characters) and kept trimmed.
    pub fn parse(
        other: ConsultationId,
        reason: Option<&str>,
        by: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, ValidationErrors> {
        let reason = reason.map(str::trim).unwrap_or_default();
        if reason.is_empty() || reason.chars().count() > Self::REASON_MAX {
            return Err(ValidationErrors::single(
                "reason",
                format!("is required (at most {} characters)", Self::REASON_MAX),
            ));
        }
        if let Some(problem) = crate::text::text_problem(reason) {
            return Err(ValidationErrors::single("reason", problem));
        }
        Ok(Self {
            other,
            reason: reason.to_owned(),
            by: by.to_owned(),
            at,
        })
    }
}

impl OverlapFinding {
    /// One line for the checklist's "no unresolved findings" check.
    pub fn describe(&self) -> String {
        let action = match self.suggestion {
            Suggestion::JoinUp => "join up",
            Suggestion::ShareResults => "share results",
            Suggestion::ReTime => "re-time",
            Suggestion::ReuseResults => "results you can reuse",
        };
        format!("overlaps with \"{}\" ({}): {action}", self.title, self.organisation)
    }
}

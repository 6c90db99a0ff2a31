//! Thresholds and weights, and what a query is evaluated against besides the index.

use crate::area::AreaHierarchy;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Thresholds and weights. Our design choices, all configurable (REFERENCE 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct OverlapConfig {
    /// Least subject similarity for a finding.
    pub min_subject: f64,
    /// Least combined score for a finding.
    pub min_score: f64,
    /// Weight of subject in the combined score.
    pub subject_weight: f64,
    /// Weight of audience.
    pub audience_weight: f64,
    /// Weight of time.
    pub time_weight: f64,
    /// Subject similarity from which concurrent activities should be joined up.
    pub join_up_subject: f64,
    /// Days either side within which non-concurrent activities still count (share results, re-time).
    pub horizon_days: u32,
    /// Most findings returned.
    pub top_k: usize,
    /// Candidates re-scored exactly after the first pass.
    pub candidates: usize,
    /// Postings the first pass reads at most (the probe's rarest terms first; at least one term).
    pub postings_budget: usize,
}

impl Default for OverlapConfig {
    fn default() -> Self {
        Self {
            min_subject: 0.15,
            min_score: 0.3,
            subject_weight: 0.5,
            audience_weight: 0.3,
            time_weight: 0.2,
            join_up_subject: 0.4,
            horizon_days: 90,
            top_k: 10,
            candidates: 1000,
            postings_budget: 60_000,
        }
    }
}

/// What a query is evaluated against besides the index.
#[derive(Debug, Clone, Copy)]
pub struct OverlapContext<'a> {
    /// Today: decides which activities are open, closed or have results.
    pub today: NaiveDate,
    /// The area hierarchy.
    pub areas: &'a AreaHierarchy,
    /// Thresholds and weights.
    pub config: &'a OverlapConfig,
}

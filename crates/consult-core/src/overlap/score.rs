//! The audience and time factors of a pair, on a probe prepared for scoring.

use super::finding::Suggestion;
use super::subject::OverlapSubject;
use crate::area::AreaHierarchy;
use crate::catalogue;
use crate::lifecycle::Status;
use chrono::{Datelike, NaiveDate};

/// A probe prepared for scoring: its terms (raw weights), its norm, and for each of its areas
/// the set of areas related to it (same, inside or containing).
pub(super) struct Probe {
    /// (term, raw weight x idf squared), sorted by term.
    pub(super) terms: Vec<(u32, f32)>,
    pub(super) norm: f32,
    /// For each of the probe's areas, the interned ids of the areas related to it, sorted.
    pub(super) related: Vec<Vec<u32>>,
    /// Whether the probe names areas at all.
    pub(super) has_areas: bool,
    pub(super) groups: u32,
    /// Bits of the general-public groups.
    pub(super) public: u32,
    /// Opening and closing day numbers.
    pub(super) window: (i32, i32),
}

impl Probe {
    pub(super) fn weight(&self, term: u32) -> Option<f32> {
        self.terms
            .binary_search_by_key(&term, |(t, _)| *t)
            .ok()
            .map(|i| self.terms[i].1)
    }
}

/// The numbers of one pair.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scored {
    pub(super) subject: f64,
    pub(super) audience: f64,
    pub(super) time: f64,
    pub(super) gap: i64,
    pub(super) score: f64,
    pub(super) status: Status,
    pub(super) suggestion: Suggestion,
}

/// Audience overlap of a pair: 0 when their areas are disjoint; otherwise the mean of a weighted
/// Jaccard of stakeholder groups (general-public groups count half) and the share of each side's
/// areas that overlap the other's (unknown areas count 0.5). Symmetric.
pub(super) fn audience_score(p: &Probe, doc_areas: &[u32], doc_groups: u32) -> f64 {
    let area = match (p.has_areas, !doc_areas.is_empty()) {
        (false, false) | (true, false) | (false, true) => 0.5,
        (true, true) => {
            let a_share = p
                .related
                .iter()
                .filter(|r| doc_areas.iter().any(|q| r.binary_search(q).is_ok()))
                .count() as f64
                / p.related.len() as f64;
            let b_share = doc_areas
                .iter()
                .filter(|q| p.related.iter().any(|r| r.binary_search(q).is_ok()))
                .count() as f64
                / doc_areas.len() as f64;
            (a_share + b_share) / 2.0
        }
    };
    if area == 0.0 {
        return 0.0;
    }
    let public = p.public;
    let weigh = |m: u32| f64::from((m & public).count_ones()) * 0.5 + f64::from((m & !public).count_ones());
    let union = weigh(p.groups | doc_groups);
    let groups = if union == 0.0 {
        0.5
    } else {
        weigh(p.groups & doc_groups) / union
    };
    (0.5 * groups + 0.5 * area).clamp(0.0, 1.0)
}

pub(super) fn audience_reason(a: &OverlapSubject, b: &OverlapSubject, areas: &AreaHierarchy) -> String {
    let mut shared: Vec<&str> = a
        .groups
        .iter()
        .filter(|g| b.groups.contains(g))
        .map(String::as_str)
        .collect();
    shared.dedup();
    if !a.areas.is_empty()
        && !b.areas.is_empty()
        && !a.areas.iter().any(|p| b.areas.iter().any(|q| areas.overlap(p, q)))
    {
        return "different areas".into();
    }
    let mut reason = if shared.is_empty() {
        "no stakeholder group in common".to_owned()
    } else {
        format!("both ask {}", shared.join(", "))
    };
    if a.areas
        .iter()
        .any(|p| b.areas.iter().any(|q| p != q && areas.overlap(p, q)))
    {
        reason.push_str("; one area lies inside the other");
    } else if a.areas.iter().any(|p| b.areas.contains(p)) {
        reason.push_str("; same area");
    }
    reason
}

/// A date as a day number, for fast window arithmetic.
pub(super) fn day_number(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

/// Time overlap of two windows (day numbers, inclusive): the share of the shorter window both
/// are open (0 when apart), and the gap in days between them (0 when they overlap). Symmetric.
pub(super) fn time_score(a: (i32, i32), b: (i32, i32)) -> (f64, i64) {
    let shared = i64::from(a.1.min(b.1)) - i64::from(a.0.max(b.0)) + 1;
    if shared > 0 {
        let shorter = (i64::from(a.1 - a.0) + 1).min(i64::from(b.1 - b.0) + 1);
        ((shared as f64 / shorter.max(1) as f64).clamp(0.0, 1.0), 0)
    } else {
        (0.0, 1 - shared)
    }
}

/// Bits of the stakeholder groups that stand for the general public (they weigh half).
pub(super) fn public_mask() -> u32 {
    catalogue::STAKEHOLDER_GROUPS
        .iter()
        .enumerate()
        .filter(|(_, g)| g.general_public)
        .fold(0, |m, (i, _)| m | 1 << i)
}

pub(super) fn group_mask(groups: &[String]) -> u32 {
    groups.iter().fold(0, |m, g| {
        match catalogue::STAKEHOLDER_GROUPS.iter().position(|s| s.slug == g) {
            Some(i) if i < 32 => m | 1 << i,
            _ => m,
        }
    })
}

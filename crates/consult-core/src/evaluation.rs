//! Evaluation after the event (O actions 35-36, H obj 1, T 6.6; R15): a debrief per activity
//! (what worked, what did not, learning points, tags), its numbers (responses, response rate
//! where the audience size is known, cost per response, methods), and each year a reproducible
//! sample of activities marked for external evaluation.

use crate::consultation::{Consultation, ConsultationId};
use crate::error::ValidationErrors;
use crate::lifecycle::Actor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A debrief as sent (`PUT /consultations/{id}/evaluation`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DebriefInput {
    /// What worked, and why.
    pub what_worked: Option<String>,
    /// What did not, and why.
    pub what_did_not: Option<String>,
    /// Learning points for next time.
    #[serde(default)]
    pub learning_points: Vec<String>,
    /// Tags, e.g. `young people`, `online`, `low response`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// How many people the activity could have reached (invited, sampled, eligible), when known:
    /// the response rate is worked out from it.
    pub audience_size: Option<u64>,
}

/// An activity's debrief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Debrief {
    /// What worked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_worked: Option<String>,
    /// What did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_did_not: Option<String>,
    /// Learning points.
    pub learning_points: Vec<String>,
    /// Tags (lower case).
    pub tags: Vec<String>,
    /// Audience size, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_size: Option<u64>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: String,
}

impl Debrief {
    /// Validates a debrief: something to say (what worked, what did not, or a learning point),
    /// each text within its limits. Every problem is reported by field.
    pub fn parse(input: DebriefInput, actor: &Actor, now: DateTime<Utc>) -> Result<Debrief, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let what_worked = crate::text::optional_text(&mut e, "what_worked", input.what_worked.as_deref(), 10_000);
        let what_did_not = crate::text::optional_text(&mut e, "what_did_not", input.what_did_not.as_deref(), 10_000);
        let learning_points = crate::text::line_list(&mut e, "learning_points", &input.learning_points, 50, 500);
        let tags: Vec<String> = crate::text::line_list(&mut e, "tags", &input.tags, 20, 60)
            .into_iter()
            .map(|t| t.to_lowercase())
            .collect();
        if what_worked.is_none() && what_did_not.is_none() && learning_points.is_empty() && e.is_empty() {
            e.push("what_worked", "say what worked, what did not, or a learning point");
        }
        if input.audience_size == Some(0) {
            e.push("audience_size", "must be at least 1 (leave it out when unknown)");
        }
        e.into_result(Debrief {
            what_worked,
            what_did_not,
            learning_points,
            tags,
            audience_size: input.audience_size,
            recorded_at: now,
            recorded_by: actor.name.clone(),
        })
    }
}

/// True when an activity can be debriefed: it has closed
/// ([`Consultation::check_takes_debrief`] says why not).
pub fn may_debrief(c: &Consultation, today: chrono::NaiveDate) -> bool {
    c.check_takes_debrief(today).is_ok()
}

/// An activity's evaluation: its debrief and its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evaluation {
    /// The activity.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub consultation_id: ConsultationId,
    /// Its title.
    pub title: String,
    /// Responses received.
    pub responses: u64,
    /// Responses / audience size, when the audience size is known.
    pub response_rate: Option<f64>,
    /// Recorded cost / responses, pounds, when both are known.
    pub cost_per_response: Option<f64>,
    /// Methods used.
    pub methods: Vec<String>,
    /// Marked for external evaluation.
    pub external: bool,
    /// The debrief, once recorded.
    pub debrief: Option<Debrief>,
}

impl Evaluation {
    /// The evaluation of `c` from its numbers.
    pub fn of(c: &Consultation, responses: u64, debrief: Option<Debrief>, external: bool) -> Evaluation {
        let response_rate = debrief
            .as_ref()
            .and_then(|d| d.audience_size)
            .map(|n| (responses as f64 / n as f64 * 10_000.0).round() / 10_000.0);
        let cost_per_response = c
            .plan
            .cost()
            .filter(|_| responses > 0)
            .map(|cost| (cost.amount.pounds() / responses as f64 * 100.0).round() / 100.0);
        Evaluation {
            consultation_id: c.id,
            title: c.plan.title().to_owned(),
            responses,
            response_rate,
            cost_per_response,
            methods: c.plan.method_slugs().to_vec(),
            external,
            debrief,
        }
    }
}

/// A reproducible sample of `size` activities for external evaluation in `year` (O action 36):
/// each candidate is ranked by a hash of its id and the year, so the draw is fair, cannot be
/// steered by the order activities were registered in, and gives the same answer when re-run.
/// Candidates already marked are kept and count towards the size.
pub fn external_sample(candidates: &[(ConsultationId, bool)], year: i32, size: usize) -> Vec<ConsultationId> {
    let mut marked: Vec<ConsultationId> = candidates.iter().filter(|c| c.1).map(|c| c.0).collect();
    let mut rest: Vec<(u64, ConsultationId)> = candidates
        .iter()
        .filter(|c| !c.1)
        .map(|c| (fnv(c.0, year), c.0))
        .collect();
    rest.sort();
    let wanted = size.saturating_sub(marked.len());
    marked.extend(rest.into_iter().take(wanted).map(|r| r.1));
    marked
}

/// FNV-1a over the id's bytes and the year: stable across platforms and releases.
fn fnv(id: ConsultationId, year: i32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.0.as_bytes().iter().chain(year.to_le_bytes().iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Role;
    use uuid::Uuid;

    fn actor() -> Actor {
        Actor {
            name: "ann".into(),
            role: Role::Officer,
            organisation: None,
            staff: None,
        }
    }

    #[test]
    fn a_debrief_needs_something_to_say() {
        let e = Debrief::parse(DebriefInput::default(), &actor(), Utc::now()).unwrap_err();
        assert_eq!(e.errors()[0].field, "what_worked");
        let zero = DebriefInput {
            what_worked: Some("Drop-in sessions at the market".into()),
            audience_size: Some(0),
            ..Default::default()
        };
        assert_eq!(
            Debrief::parse(zero, &actor(), Utc::now()).unwrap_err().errors()[0].field,
            "audience_size"
        );
        let ok = Debrief::parse(
            DebriefInput {
                learning_points: vec!["Book venues earlier".into()],
                tags: vec!["Young People".into()],
                ..Default::default()
            },
            &actor(),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(ok.tags, ["young people"]);
    }

    #[test]
    fn the_external_sample_is_reproducible_and_keeps_earlier_marks() {
        let ids: Vec<(ConsultationId, bool)> = (1..=20u128)
            .map(|n| (ConsultationId(Uuid::from_u128(n)), false))
            .collect();
        let a = external_sample(&ids, 2026, 3);
        assert_eq!(a.len(), 3);
        assert_eq!(a, external_sample(&ids, 2026, 3), "same draw when re-run");
        let mut reversed = ids.clone();
        reversed.reverse();
        let mut b = external_sample(&reversed, 2026, 3);
        let mut a_sorted = a.clone();
        a_sorted.sort();
        b.sort();
        assert_eq!(a_sorted, b, "registration order does not steer the draw");
        assert_ne!(external_sample(&ids, 2027, 3), a, "another year, another draw");
        // An activity already marked stays, and counts towards the size.
        let mut marked = ids.clone();
        marked[19].1 = true;
        let c = external_sample(&marked, 2026, 3);
        assert_eq!(c.len(), 3);
        assert!(c.contains(&ConsultationId(Uuid::from_u128(20))));
        assert_eq!(external_sample(&ids, 2026, 50).len(), 20);
    }
}

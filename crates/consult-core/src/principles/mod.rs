//! The principles checklist: frameworks of principles and checks as versioned data, and the pure
//! evaluation of a plan against them (REFERENCE section 2).
//!
//! A check is either computed from the record (dates, stated scope, methods, cost...) or an
//! attestation an officer answers with evidence. Each has a severity: `blocking` and `legal_risk`
//! failures stop approval unless a coordinator records an override; `advisory` ones inform.
//!
//! By concern: [`framework`] holds the data (frameworks, principles, checks and their rules) and
//! the catalogue of built-in and custom frameworks; [`checks`] decides one check against a plan;
//! [`assessment`] runs every check of the frameworks that apply ([`assess`]); [`attestation`]
//! validates the answers officers give to the checks a person decides.

mod assessment;
mod attestation;
mod checks;
mod framework;

pub use assessment::{Assessment, AssessmentContext, CheckResult, ElectionPeriod, FrameworkRef, assess};
pub use attestation::{Attestation, AttestationInput};
pub use framework::{
    Check, DEFAULT_FRAMEWORKS, Framework, FrameworkCatalogue, Outcome, Principle, Rule, ScopeField, Severity,
    builtin_frameworks,
};

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use chrono::DateTime;
    use proptest::prelude::*;

    #[test]
    fn assessments_of_seed_examples() {
        let cat = FrameworkCatalogue::new([]);
        let c = ctx(&[], &[], &[]);
        // Tamworth's budget consultation, adopting the defaults.
        let defaults: Vec<&Framework> = DEFAULT_FRAMEWORKS.iter().filter_map(|k| cat.get(k)).collect();
        insta::assert_json_snapshot!("tamworth_budget_defaults", assess(&plan(good()), &defaults, &c));
        // A Stevenage regeneration activity, online only and short, decided the day it closes.
        let stevenage = with(|i| {
            i.title = Some("Town centre regeneration".into());
            i.level = Some("involve".into());
            i.methods = vec!["online_consultation".into()];
            i.closes_on = Some("2026-02-15".into());
            i.decision_date = Some("2026-02-15".into());
            i.cannot_change.clear();
        });
        let fws = [cat.get("stevenage").unwrap(), cat.get("gunning").unwrap()];
        insta::assert_json_snapshot!("stevenage_regeneration", assess(&plan(stevenage), &fws, &c));
        // Oxfordshire's six principles on a plan with no cost and no feedback date.
        let oxon = with(|i| {
            i.cost = None;
            i.feedback_due_on = None;
            i.accessible_formats = None;
        });
        insta::assert_json_snapshot!(
            "oxfordshire_six",
            assess(&plan(oxon), &[cat.get("oxfordshire").unwrap()], &c)
        );
    }

    fn any_attestations() -> impl Strategy<Value = Vec<(usize, bool)>> {
        proptest::collection::vec((0usize..64, any::<bool>()), 0..8)
    }

    proptest! {
        #[test]
        fn evaluation_is_deterministic_and_answers_only_touch_their_own_check(
            close_offset in 0i64..120,
            decision_offset in -30i64..60,
            answers in any_attestations(),
            extra in (0usize..64, any::<bool>()),
        ) {
            let cat = FrameworkCatalogue::new([]);
            let fws = cat.latest();
            let closes = day("2026-01-05") + chrono::Duration::days(close_offset);
            let input = with(|i| {
                i.closes_on = Some(closes.to_string());
                i.decision_date = Some((closes + chrono::Duration::days(decision_offset)).to_string());
                i.feedback_due_on = None;
            });
            let p = plan(input);
            let answerable: Vec<String> = fws.iter().flat_map(|f| f.principles.iter().flat_map(move |pr| pr.checks.iter().filter(|c| c.rule.accepts_answer()).map(move |c| f.check_id(c)))).collect();
            let make = |(i, yes): (usize, bool)| Attestation {
                check: answerable[i % answerable.len()].clone(),
                answer: yes,
                evidence: Some("evidence".into()),
                by: "x".into(),
                at: DateTime::default(),
            };
            let mut given: Vec<Attestation> = Vec::new();
            for a in answers.into_iter().map(make) {
                if !given.iter().any(|g| g.check == a.check) {
                    given.push(a);
                }
            }
            let before = assess(&p, &fws, &ctx(&given, &[], &[]));
            prop_assert_eq!(&before, &assess(&p, &fws, &ctx(&given, &[], &[])));
            let new = make(extra);
            given.retain(|g| g.check != new.check);
            let target = new.check.clone();
            given.push(new);
            let after = assess(&p, &fws, &ctx(&given, &[], &[]));
            for (b, a) in before.checks.iter().zip(&after.checks) {
                if b.id != target {
                    prop_assert_eq!(b, a);
                }
                if b.outcome == Outcome::Pass && a.outcome == Outcome::Fail {
                    prop_assert_eq!(&b.id, &target);
                }
            }
        }
    }
}

//! Officers' answers to the checks a person decides, validated against the frameworks that apply.

use super::framework::Framework;
use crate::error::ValidationErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An officer's answer to a check that needs a person's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attestation {
    /// The check's id, `framework/check`.
    pub check: String,
    /// Yes or no.
    pub answer: bool,
    /// The evidence, or for a shorter duration the justification.
    pub evidence: Option<String>,
    /// Who answered.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An answer as sent by a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttestationInput {
    /// The check's id, `framework/check`.
    pub check: Option<String>,
    /// `yes` or `no`.
    pub answer: Option<String>,
    /// Evidence text (required with `yes`).
    pub evidence: Option<String>,
}

impl Attestation {
    /// Validates answers against the frameworks that apply: each names a check that accepts an
    /// answer, says yes or no, and gives evidence for a yes.
    pub fn parse_all(
        inputs: Vec<AttestationInput>,
        frameworks: &[&Framework],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Attestation>, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut out: Vec<Attestation> = Vec::new();
        if inputs.is_empty() {
            e.push("answers", "give at least one answer");
        }
        for (i, input) in inputs.into_iter().enumerate() {
            let f = format!("answers[{i}]");
            let check = input.check.as_deref().map(str::trim).unwrap_or_default();
            let known = check
                .split_once('/')
                .and_then(|(fw, key)| frameworks.iter().find(|f| f.key == fw).and_then(|f| f.check(key)));
            match known {
                None => e.push(
                    format!("{f}.check"),
                    format!("`{check}` is not a check of the frameworks that apply"),
                ),
                Some(c) if !c.rule.accepts_answer() => e.push(
                    format!("{f}.check"),
                    format!("`{check}` is computed from the record and cannot be answered"),
                ),
                Some(_) => {}
            }
            let answer = match input.answer.as_deref().map(str::trim) {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => {
                    e.push(format!("{f}.answer"), "must be yes or no");
                    None
                }
            };
            let evidence = input
                .evidence
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            if evidence.as_ref().is_some_and(|v| v.chars().count() > 5000) {
                e.push(format!("{f}.evidence"), "must be at most 5000 characters");
            }
            if answer == Some(true) && evidence.is_none() {
                e.push(format!("{f}.evidence"), "give the evidence for a yes");
            }
            if out.iter().any(|a| a.check == check) {
                e.push(format!("{f}.check"), format!("`{check}` is answered twice"));
            }
            if let (Some(_), Some(answer)) = (known, answer) {
                out.push(Attestation {
                    check: check.to_owned(),
                    answer,
                    evidence,
                    by: by.to_owned(),
                    at,
                });
            }
        }
        e.into_result(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principles::fixtures::*;
    use crate::principles::{FrameworkCatalogue, Outcome};

    #[test]
    fn attestations_answer_checks() {
        let cat = FrameworkCatalogue::new([]);
        let fws = [cat.get("gunning").unwrap(), cat.get("code_2008").unwrap()];
        let input = |check: &str, answer: &str, evidence: Option<&str>| AttestationInput {
            check: Some(check.into()),
            answer: Some(answer.into()),
            evidence: evidence.map(Into::into),
        };
        let ok = Attestation::parse_all(
            vec![
                input(
                    "gunning/enough_information",
                    "yes",
                    Some("Consultation document and FAQs"),
                ),
                input("code_2008/capacity_and_advice", "no", None),
            ],
            &fws,
            "Olu",
            DateTime::default(),
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        let (o, r) = outcome_with(good(), "gunning", "enough_information", &ctx(&ok, &[], &[]));
        assert_eq!((o, r.as_str()), (Outcome::Pass, "yes: Consultation document and FAQs"));
        assert_eq!(
            outcome_with(good(), "code_2008", "capacity_and_advice", &ctx(&ok, &[], &[])).0,
            Outcome::Fail
        );
        assert_eq!(
            outcome_of(good(), "gunning", "enough_information").0,
            Outcome::Unanswered
        );

        let bad = Attestation::parse_all(
            vec![
                input("gunning/closes_before_decision", "yes", Some("x")),
                input("oxfordshire/genuine_reason", "yes", Some("x")),
                input("gunning/enough_information", "maybe", None),
                input("gunning/reported_to_decision_maker", "yes", None),
            ],
            &fws,
            "Olu",
            DateTime::default(),
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "answers[0].check",
                "answers[1].check",
                "answers[2].answer",
                "answers[3].evidence"
            ]
        );
    }
}

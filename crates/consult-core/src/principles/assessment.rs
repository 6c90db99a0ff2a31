//! Assessing a plan against frameworks: the context, the results and [`assess`].

use super::attestation::Attestation;
use super::checks::evaluate;
use super::framework::{Framework, Outcome, Rule, Severity};
use crate::consultation::ConsultationPlan;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A period before an election in which consultations should not launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ElectionPeriod {
    /// E.g. "County council elections 2027".
    pub name: String,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (the polling day).
    pub ends_on: NaiveDate,
}

/// What an assessment is evaluated against besides the plan.
#[derive(Debug, Clone, Copy)]
pub struct AssessmentContext<'a> {
    /// Today.
    pub today: NaiveDate,
    /// The day notice is counted from: the approval date once approved, else today.
    pub notice_from: NaiveDate,
    /// The owner organisation's pre-election periods.
    pub pre_election: &'a [ElectionPeriod],
    /// Unresolved overlap and fatigue findings, described in plain English.
    pub unresolved_findings: &'a [String],
    /// Answers recorded for this activity.
    pub attestations: &'a [Attestation],
}

/// Which framework version an assessment used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FrameworkRef {
    /// Key.
    pub key: String,
    /// Version.
    pub version: u32,
    /// Name.
    pub name: String,
}

/// The result of one check, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResult {
    /// `framework/check`: the id to answer it by.
    pub id: String,
    /// Framework key.
    pub framework: String,
    /// Principle name.
    pub principle: String,
    /// What is checked.
    pub check: String,
    /// How much a failure matters.
    pub severity: Severity,
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in plain English.
    pub reason: String,
    /// For checks a person answers: the question.
    pub question: Option<String>,
}

impl CheckResult {
    /// True when this result stops approval.
    pub fn blocks_approval(&self) -> bool {
        self.outcome == Outcome::Fail && self.severity.blocks_approval()
    }
}

/// A plan assessed against frameworks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// The frameworks and versions used.
    pub frameworks: Vec<FrameworkRef>,
    /// Every check, in framework and principle order.
    pub checks: Vec<CheckResult>,
    /// No blocking check fails and none is unanswered.
    pub ready: bool,
    /// No blocking check fails: a coordinator may approve (unanswered attestations are theirs to
    /// accept).
    pub approvable: bool,
}

impl Assessment {
    /// The checks that stop approval.
    pub fn blocking_failures(&self) -> Vec<&CheckResult> {
        self.checks.iter().filter(|c| c.blocks_approval()).collect()
    }
}

/// Assesses a plan against frameworks. Pure and deterministic: the same plan, frameworks and
/// context always give the same assessment.
///
/// ```
/// use consult_core::*;
/// let org = Organisation::parse(OrganisationId(uuid::Uuid::nil()), OrganisationInput {
///     slug: Some("tamworth".into()), name: Some("Tamworth".into()), kind: Some("council".into()), services: vec![],
/// }).unwrap();
/// let areas = AreaHierarchy::default();
/// let plan = ConsultationPlan::parse(ConsultationInput {
///     organisation: Some("tamworth".into()), title: Some("Budget".into()), level: Some("consult".into()),
///     opens_on: Some("2026-01-05".into()), closes_on: Some("2026-03-14".into()),
///     decision_date: Some("2026-03-01".into()), ..Default::default()
/// }, RegisterContext { organisations: &[org], areas: &areas }).unwrap();
/// let catalogue = FrameworkCatalogue::new([]);
/// let gunning = catalogue.get("gunning").unwrap();
/// let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
/// let ctx = AssessmentContext { today, notice_from: today, pre_election: &[], unresolved_findings: &[], attestations: &[] };
/// let a = assess(&plan, &[gunning], &ctx);
/// assert_eq!(a.checks[0].outcome, Outcome::Fail);
/// assert_eq!(a.checks[0].reason, "closes on 14 March 2026, but the decision is taken on 1 March 2026: \
///     not at a formative stage (Gunning 1: formative stage); a legal risk");
/// assert!(!a.approvable);
/// ```
pub fn assess(plan: &ConsultationPlan, frameworks: &[&Framework], ctx: &AssessmentContext<'_>) -> Assessment {
    let mut checks = Vec::new();
    for f in frameworks {
        for p in &f.principles {
            for c in &p.checks {
                let id = f.check_id(c);
                let answer = ctx.attestations.iter().find(|a| a.check == id);
                let (outcome, mut reason) = evaluate(&c.rule, answer, plan, ctx);
                if matches!(outcome, Outcome::Fail | Outcome::Warn) {
                    reason = format!("{reason} ({})", p.name);
                }
                if outcome == Outcome::Fail && c.severity == Severity::LegalRisk {
                    reason.push_str("; a legal risk");
                }
                checks.push(CheckResult {
                    id,
                    framework: f.key.clone(),
                    principle: p.name.clone(),
                    check: c.text.clone(),
                    severity: c.severity,
                    outcome,
                    reason,
                    question: match &c.rule {
                        Rule::Attestation { question } => Some(question.clone()),
                        Rule::MinimumDuration { .. } => {
                            Some("If it is shorter than the minimum, why? (your answer is the justification)".into())
                        }
                        _ => None,
                    },
                });
            }
        }
    }
    let approvable = !checks.iter().any(CheckResult::blocks_approval);
    let ready = approvable && !checks.iter().any(|c| c.outcome == Outcome::Unanswered);
    Assessment {
        frameworks: frameworks
            .iter()
            .map(|f| FrameworkRef {
                key: f.key.clone(),
                version: f.version,
                name: f.name.clone(),
            })
            .collect(),
        checks,
        ready,
        approvable,
    }
}

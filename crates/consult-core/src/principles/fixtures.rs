//! What the tests of the checklist share: a complete plan, its variations and the context they
//! are assessed in.

use super::{AssessmentContext, Attestation, ElectionPeriod, FrameworkCatalogue, Outcome, assess};
use crate::area::{Area, AreaCode, AreaHierarchy};
use crate::consultation::{AudienceInput, ConsultationInput, ConsultationPlan, CostInput, RegisterContext};
use crate::organisation::{Organisation, OrganisationId, OrganisationInput};
use chrono::NaiveDate;

pub(super) fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A complete plan that passes every computed check of every built-in framework.
pub(super) fn good() -> ConsultationInput {
    ConsultationInput {
        organisation: Some("tamworth".into()),
        title: Some("Budget and council tax 2027/28".into()),
        summary: Some("Which services matter most as we set next year's budget".into()),
        purpose: Some("To set priorities for the 2027/28 budget".into()),
        decision: Some("Full council sets the budget and council tax".into()),
        decision_date: Some("2026-05-01".into()),
        can_change: vec!["Which services are protected".into()],
        cannot_change: vec!["The statutory council tax referendum limit".into()],
        level: Some("consult".into()),
        methods: vec!["online_survey".into(), "questionnaire".into(), "public_meeting".into()],
        audience: AudienceInput {
            groups: vec!["residents".into()],
            areas: vec!["E07000199".into()],
            equality_groups: vec![],
        },
        opens_on: Some("2026-01-05".into()),
        closes_on: Some("2026-03-29".into()),
        feedback_due_on: Some("2026-06-01".into()),
        accessible_formats: Some("Large print, easy read and other languages on request".into()),
        cost: Some(CostInput {
            amount: Some(4500.0),
            currency: None,
        }),
        ..Default::default()
    }
}

pub(super) fn plan(input: ConsultationInput) -> ConsultationPlan {
    let org = Organisation::parse(
        OrganisationId(uuid::Uuid::nil()),
        OrganisationInput {
            slug: Some("tamworth".into()),
            name: Some("Tamworth Borough Council".into()),
            kind: Some("council".into()),
            services: vec![],
        },
    )
    .unwrap();
    let areas = AreaHierarchy::new([Area {
        code: AreaCode::parse("E07000199").unwrap(),
        name: "Tamworth".into(),
        parent: None,
    }]);
    ConsultationPlan::parse(
        input,
        RegisterContext {
            organisations: &[org],
            areas: &areas,
        },
    )
    .unwrap()
}

pub(super) fn ctx<'a>(
    attestations: &'a [Attestation],
    periods: &'a [ElectionPeriod],
    findings: &'a [String],
) -> AssessmentContext<'a> {
    AssessmentContext {
        today: day("2025-11-01"),
        notice_from: day("2025-11-01"),
        pre_election: periods,
        unresolved_findings: findings,
        attestations,
    }
}

pub(super) fn outcome_of(input: ConsultationInput, framework: &str, check: &str) -> (Outcome, String) {
    outcome_with(input, framework, check, &ctx(&[], &[], &[]))
}

pub(super) fn outcome_with(
    input: ConsultationInput,
    framework: &str,
    check: &str,
    c: &AssessmentContext<'_>,
) -> (Outcome, String) {
    let cat = FrameworkCatalogue::new([]);
    let f = cat.get(framework).unwrap();
    let a = assess(&plan(input), &[f], c);
    let r = a
        .checks
        .iter()
        .find(|r| r.id == format!("{framework}/{check}"))
        .unwrap();
    (r.outcome, r.reason.clone())
}

pub(super) fn with(f: impl FnOnce(&mut ConsultationInput)) -> ConsultationInput {
    let mut i = good();
    f(&mut i);
    i
}

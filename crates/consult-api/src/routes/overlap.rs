//! Duplication detection over HTTP: findings for a draft or a stored activity, and dismissals.

use super::consultations::load_for_write;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller};
use axum::Json;
use axum::extract::{Path, State};
use consult_core::{
    Actor, ConsultationId, ConsultationInput, ConsultationPlan, Dismissal, Organisation, OverlapFinding,
    OverlapSubject, Status,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A finding and, if someone set it aside, why.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingView {
    #[serde(flatten)]
    finding: OverlapFinding,
    /// The dismissal, if the finding has been set aside.
    dismissal: Option<Dismissal>,
}

/// Overlap findings, best first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OverlapReport {
    /// The findings.
    findings: Vec<FindingView>,
}

/// Officers see partners' published activities and all of their own; coordinators see all.
fn visible(actor: &Actor, orgs: &[Organisation], f: &OverlapFinding) -> bool {
    let org = orgs.iter().find(|o| o.slug == f.organisation);
    org.is_some_and(|o| actor.may_read(o.id, f.status))
}

/// The activities across the partnership that overlap a draft plan (not stored). Officers and
/// coordinators.
#[utoipa::path(post, path = "/api/v1/checks/overlap", tag = "overlap", request_body = ConsultationInput,
    security(("bearer" = [])),
    responses((status = 200, body = OverlapReport),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn check_overlap(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ConsultationInput>,
) -> Result<Json<OverlapReport>, ApiError> {
    let actor = caller.required()?;
    let snapshot = state.store.register_snapshot().await?;
    let plan = ConsultationPlan::parse(input, snapshot.context())?;
    let subject = OverlapSubject::from_plan(ConsultationId(uuid::Uuid::nil()), &plan, Status::Draft);
    let findings = state.overlap.query(&state.store, &subject, state.clock.today()).await?;
    Ok(Json(OverlapReport {
        findings: findings
            .into_iter()
            .filter(|f| visible(&actor, &snapshot.organisations, f))
            .map(|finding| FindingView {
                finding,
                dismissal: None,
            })
            .collect(),
    }))
}

async fn report(state: &AppState, actor: &Actor, c: &consult_core::Consultation) -> Result<OverlapReport, ApiError> {
    let orgs = state.store.list_organisations().await?;
    let reviewed = state.overlap.review(&state.store, c, state.clock.today()).await?;
    Ok(OverlapReport {
        findings: reviewed
            .into_iter()
            .filter(|r| visible(actor, &orgs, &r.finding))
            .map(|r| FindingView {
                finding: r.finding,
                dismissal: r.dismissal,
            })
            .collect(),
    })
}

/// The overlap findings of a stored activity, with any dismissals. Owner officers and coordinators.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/overlaps", tag = "overlap",
    params(("id" = String, Path, description = "consultation id")), security(("bearer" = [])),
    responses((status = 200, body = OverlapReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn overlaps(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OverlapReport>, ApiError> {
    let (c, actor) = load_for_write(&state, &id, caller).await?;
    Ok(Json(report(&state, &actor, &c).await?))
}

/// Why a finding needs no action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DismissalInput {
    /// The reason, recorded and audited.
    reason: Option<String>,
}

/// Set aside one overlap finding with a reason (recorded and audited); it then no longer counts
/// against the "be coordinated" checks. Owner officers and coordinators.
#[utoipa::path(put, path = "/api/v1/consultations/{id}/overlaps/{other}/dismissal", tag = "overlap",
    params(("id" = String, Path, description = "consultation id"), ("other" = String, Path, description = "the other activity's id")),
    request_body = DismissalInput, security(("bearer" = [])),
    responses((status = 200, body = OverlapReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn dismiss(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, other)): Path<(String, String)>,
    ApiJson(input): ApiJson<DismissalInput>,
) -> Result<Json<OverlapReport>, ApiError> {
    let (c, actor) = load_for_write(&state, &id, caller).await?;
    let reason = input.reason.as_deref().map(str::trim).unwrap_or_default();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ApiError::field("reason", "is required (at most 2000 characters)"));
    }
    let other: ConsultationId = other
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no finding for `{other}`")))?;
    let current = state.overlap.review(&state.store, &c, state.clock.today()).await?;
    if !current.iter().any(|r| r.finding.consultation_id == other) {
        return Err(ApiError::NotFound(format!(
            "{other} is not an overlap finding of this activity"
        )));
    }
    let dismissal = Dismissal {
        other,
        reason: reason.to_owned(),
        by: actor.name.clone(),
        at: state.clock.now(),
    };
    state.store.dismiss(c.id, &dismissal, &actor).await?;
    Ok(Json(report(&state, &actor, &c).await?))
}

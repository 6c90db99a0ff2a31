//! Duplication detection over HTTP: findings for a draft or a stored activity, and dismissals.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use consult_core::{ConsultationId, ConsultationInput, Dismissal, OverlapFinding};
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

impl From<Vec<consult_app::overlap::ReviewedFinding>> for OverlapReport {
    fn from(reviewed: Vec<consult_app::overlap::ReviewedFinding>) -> Self {
        Self {
            findings: reviewed
                .into_iter()
                .map(|r| FindingView {
                    finding: r.finding,
                    dismissal: r.dismissal,
                })
                .collect(),
        }
    }
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
    let findings = state.app.check_overlap(&actor, input).await?;
    Ok(Json(OverlapReport {
        findings: findings
            .into_iter()
            .map(|finding| FindingView {
                finding,
                dismissal: None,
            })
            .collect(),
    }))
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
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<OverlapReport>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.overlaps(&actor, id).await?.into()))
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
    ApiPath((id, other)): ApiPath<(ConsultationId, ConsultationId)>,
    ApiJson(input): ApiJson<DismissalInput>,
) -> Result<Json<OverlapReport>, ApiError> {
    let actor = caller.required()?;
    let reviewed = state
        .app
        .dismiss_overlap(&actor, id, other, input.reason.as_deref())
        .await?;
    Ok(Json(reviewed.into()))
}

//! The principles checklist: assessments, attestations, frameworks and each organisation's
//! choice of them.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::views::Items;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use consult_app::ChecklistRequest;
use consult_core::{Assessment, AttestationInput, ConsultationId, ElectionPeriod, Framework};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The principles checklist of an activity against the frameworks its organisation has adopted.
/// Owner officers and coordinators.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/assessment", tag = "checklist",
    params(("id" = String, Path, description = "consultation id")), security(("bearer" = [])),
    responses((status = 200, body = Assessment),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<Assessment>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.assessment(&actor, id).await?))
}

/// Answers to checks that need a person's evidence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttestationsInput {
    /// One answer per check.
    #[serde(default)]
    answers: Vec<AttestationInput>,
}

/// Answer attestations (and justify a shorter duration) before approval. Owner officers and
/// coordinators; drafts and submitted activities. Returns the new assessment.
#[utoipa::path(put, path = "/api/v1/consultations/{id}/attestations", tag = "checklist",
    params(("id" = String, Path, description = "consultation id")), request_body = AttestationsInput,
    security(("bearer" = [])),
    responses((status = 200, body = Assessment),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_attestations(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(input): ApiJson<AttestationsInput>,
) -> Result<Json<Assessment>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.attest(&actor, id, input.answers).await?))
}

/// Every version of every framework, built in and added.
#[utoipa::path(get, path = "/api/v1/frameworks", tag = "checklist", responses((status = 200, body = Items<Framework>)))]
pub(crate) async fn list_frameworks(State(state): State<AppState>) -> Result<Json<Items<Framework>>, ApiError> {
    Ok(Json(Items {
        items: state.app.frameworks().await?.all().to_vec(),
    }))
}

/// The newest version of one framework.
#[utoipa::path(get, path = "/api/v1/frameworks/{key}", tag = "checklist",
    params(("key" = String, Path, description = "framework key")),
    responses((status = 200, body = Framework), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_framework(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Framework>, ApiError> {
    Ok(Json(state.app.framework(&key).await?))
}

/// Add an organisation's own framework, or a new version of one. Coordinators. The version is
/// assigned (previous + 1); older versions are kept so past assessments stay explainable.
#[utoipa::path(post, path = "/api/v1/frameworks", tag = "checklist", request_body = Framework,
    security(("bearer" = [])),
    responses((status = 201, body = Framework),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_framework(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<impl IntoResponse, ApiError> {
    // Who is calling before what they sent: nobody learns the shape of a framework by posting.
    let actor = caller.coordinator()?;
    let framework: Framework = crate::extract::from_value(body)?;
    let stored = state.app.add_framework(&actor, framework).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// An organisation's checklist: the frameworks it has adopted and its pre-election periods.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct ChecklistView {
    /// Framework keys (the newest version of each applies).
    frameworks: Vec<String>,
    /// Periods in which activities should not launch.
    election_periods: Vec<ElectionPeriod>,
}

/// A pre-election period as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ElectionPeriodInput {
    /// Name.
    name: Option<String>,
    /// First day (YYYY-MM-DD).
    #[schema(value_type = Option<String>, format = Date)]
    starts_on: Option<String>,
    /// Last day, the polling day (YYYY-MM-DD).
    #[schema(value_type = Option<String>, format = Date)]
    ends_on: Option<String>,
}

/// New checklist settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChecklistInput {
    /// Framework keys to adopt.
    #[serde(default)]
    frameworks: Vec<String>,
    /// Pre-election periods.
    #[serde(default)]
    election_periods: Vec<ElectionPeriodInput>,
}

/// An organisation's checklist settings.
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/checklist", tag = "checklist",
    params(("slug" = String, Path, description = "organisation slug")),
    responses((status = 200, body = ChecklistView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_checklist(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<ChecklistView>, ApiError> {
    let s = state.app.checklist(&slug).await?;
    Ok(Json(ChecklistView {
        frameworks: s.frameworks,
        election_periods: s.election_periods,
    }))
}

/// Choose the frameworks that apply to an organisation's activities and set its pre-election
/// periods. Coordinators.
#[utoipa::path(put, path = "/api/v1/organisations/{slug}/checklist", tag = "checklist",
    params(("slug" = String, Path, description = "organisation slug")), request_body = ChecklistInput,
    security(("bearer" = [])),
    responses((status = 200, body = ChecklistView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_checklist(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(input): ApiJson<ChecklistInput>,
) -> Result<Json<ChecklistView>, ApiError> {
    let actor = caller.coordinator()?;
    let request = ChecklistRequest {
        frameworks: input.frameworks,
        election_periods: input
            .election_periods
            .into_iter()
            .map(|p| (p.name, p.starts_on, p.ends_on))
            .collect(),
    };
    let settings = state.app.set_checklist(&actor, &slug, request).await?;
    Ok(Json(ChecklistView {
        frameworks: settings.frameworks,
        election_periods: settings.election_periods,
    }))
}

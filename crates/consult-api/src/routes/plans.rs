//! Consultation plans: service plans, the recurring programme, the council-wide plan and its
//! six-monthly reviews.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use consult_core::{CouncilPlan, ProgrammeItem, ProgrammeItemInput, ServicePlan, ServicePlanInput};
use serde::Deserialize;
use utoipa::ToSchema;

fn year(y: &str) -> Result<i32, ApiError> {
    y.parse::<i32>()
        .ok()
        .filter(|y| (1990..=2200).contains(y))
        .ok_or_else(|| ApiError::field("year", "must be a year, e.g. 2026"))
}

/// Save a service's annual consultation plan for a year (O action 7): the activities it expects
/// to run, each with a level, an expected month, and once registered the activity delivering
/// it; `agreed` once the service's management has agreed it. Officers of the organisation and
/// coordinators.
#[utoipa::path(put, path = "/api/v1/organisations/{slug}/plans/{year}/services/{service}", tag = "plans",
    params(("slug" = String, Path, description = "organisation slug"), ("year" = i32, Path, description = "year"),
        ("service" = String, Path, description = "service, as named by the organisation")),
    request_body = ServicePlanInput,
    security(("bearer" = [])),
    responses((status = 200, body = ServicePlan),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_service_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((slug, y, service)): ApiPath<(String, String, String)>,
    ApiJson(input): ApiJson<ServicePlanInput>,
) -> Result<Json<ServicePlan>, ApiError> {
    // An unknown organisation is a 404 before the caller or the year is looked at.
    state.app.organisation(&slug).await?;
    let actor = caller.required()?;
    let year = year(&y)?;
    Ok(Json(
        state
            .app
            .save_service_plan(&actor, &slug, year, &service, &input)
            .await?,
    ))
}

/// A service's plan for a year (anyone: plans are public).
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/plans/{year}/services/{service}", tag = "plans",
    params(("slug" = String, Path, description = "organisation slug"), ("year" = i32, Path, description = "year"),
        ("service" = String, Path, description = "service")),
    responses((status = 200, body = ServicePlan),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_service_plan(
    State(state): State<AppState>,
    ApiPath((slug, y, service)): ApiPath<(String, String, String)>,
) -> Result<Json<ServicePlan>, ApiError> {
    state.app.organisation(&slug).await?;
    let year = year(&y)?;
    Ok(Json(state.app.service_plan(&slug, year, &service).await?))
}

/// The council-wide consultation plan for a year (O action 8): every service plan and the
/// recurring programme, set against the activities registered (unplanned ones listed too), with
/// the six-monthly review state. Anyone; the public sees registered activities once published.
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/plans/{year}", tag = "plans",
    params(("slug" = String, Path, description = "organisation slug"), ("year" = i32, Path, description = "year")),
    responses((status = 200, body = CouncilPlan),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn council_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((slug, y)): ApiPath<(String, String)>,
) -> Result<Json<CouncilPlan>, ApiError> {
    state.app.organisation(&slug).await?;
    let year = year(&y)?;
    Ok(Json(state.app.council_plan(caller.0.as_ref(), &slug, year).await?))
}

/// A six-monthly review as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewInput {
    /// 1: the mid-year review; 2: the year-end review.
    half: Option<u32>,
    /// What the review found and decided.
    notes: Option<String>,
}

/// Record a six-monthly review of the council-wide plan (held today). Coordinators.
#[utoipa::path(post, path = "/api/v1/organisations/{slug}/plans/{year}/reviews", tag = "plans",
    params(("slug" = String, Path, description = "organisation slug"), ("year" = i32, Path, description = "year")),
    request_body = ReviewInput,
    security(("bearer" = [])),
    responses((status = 200, body = CouncilPlan),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn review_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((slug, y)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<CouncilPlan>, ApiError> {
    let actor = caller.coordinator()?;
    state.app.organisation(&slug).await?;
    let year = year(&y)?;
    let plan = state
        .app
        .review_plan(&actor, &slug, year, input.half, input.notes.as_deref())
        .await?;
    Ok(Json(plan))
}

/// The recurring corporate programme as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProgrammeInput {
    /// Items: each with title, service, every (`yearly`, `biennial`, `quarterly`), since, month,
    /// level, methods and topics.
    #[serde(default)]
    items: Vec<ProgrammeItemInput>,
}

/// Replace an organisation's recurring programme (R20): items that put their entries in every
/// year's plan. Coordinators.
#[utoipa::path(put, path = "/api/v1/organisations/{slug}/programme", tag = "plans",
    params(("slug" = String, Path, description = "organisation slug")), request_body = ProgrammeInput,
    security(("bearer" = [])),
    responses((status = 200, body = Vec<ProgrammeItem>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_programme(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(input): ApiJson<ProgrammeInput>,
) -> Result<Json<Vec<ProgrammeItem>>, ApiError> {
    let actor = caller.coordinator()?;
    Ok(Json(state.app.save_programme(&actor, &slug, &input.items).await?))
}

/// An organisation's recurring programme (anyone).
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/programme", tag = "plans",
    params(("slug" = String, Path, description = "organisation slug")),
    responses((status = 200, body = Vec<ProgrammeItem>),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_programme(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Vec<ProgrammeItem>>, ApiError> {
    Ok(Json(state.app.programme(&slug).await?))
}

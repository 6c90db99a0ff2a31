//! Consultation plans: service plans, the recurring programme, the council-wide plan and its
//! six-monthly reviews.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller};
use axum::Json;
use axum::extract::{Path, State};
use consult_core::{
    Actor, CouncilPlan, Organisation, PlanReview, ProgrammeItem, ProgrammeItemInput, ServicePlan, ServicePlanInput,
};
use serde::Deserialize;
use utoipa::ToSchema;

async fn organisation(state: &AppState, slug: &str) -> Result<Organisation, ApiError> {
    state
        .store
        .get_organisation(slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no organisation `{slug}`")))
}

fn year(y: &str) -> Result<i32, ApiError> {
    y.parse::<i32>()
        .ok()
        .filter(|y| (1990..=2200).contains(y))
        .ok_or_else(|| ApiError::field("year", "must be a year, e.g. 2026"))
}

/// Officers of the organisation and coordinators.
fn writer(caller: Caller, org: &Organisation) -> Result<Actor, ApiError> {
    let actor = caller.required()?;
    if actor.may_write(org.id) {
        Ok(actor)
    } else {
        Err(ApiError::Forbidden(
            "officers can only plan for their own organisation".into(),
        ))
    }
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
    Path((slug, y, service)): Path<(String, String, String)>,
    ApiJson(input): ApiJson<ServicePlanInput>,
) -> Result<Json<ServicePlan>, ApiError> {
    let org = organisation(&state, &slug).await?;
    let actor = writer(caller, &org)?;
    let year = year(&y)?;
    if !org.services.iter().any(|s| s == &service) {
        return Err(ApiError::NotFound(format!("{slug} has no service `{service}`")));
    }
    let plan = ServicePlan::parse(
        org.slug.as_str(),
        &service,
        year,
        &input,
        &actor.name,
        state.clock.now(),
    )?;
    state.store.save_service_plan(org.id, &plan, &actor).await?;
    Ok(Json(plan))
}

/// A service's plan for a year (anyone: plans are public).
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/plans/{year}/services/{service}", tag = "plans",
    params(("slug" = String, Path, description = "organisation slug"), ("year" = i32, Path, description = "year"),
        ("service" = String, Path, description = "service")),
    responses((status = 200, body = ServicePlan),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_service_plan(
    State(state): State<AppState>,
    Path((slug, y, service)): Path<(String, String, String)>,
) -> Result<Json<ServicePlan>, ApiError> {
    let org = organisation(&state, &slug).await?;
    let year = year(&y)?;
    state
        .store
        .service_plans(&org, year)
        .await?
        .into_iter()
        .find(|p| p.service == service)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no {year} plan for {slug} {service}")))
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
    Path((slug, y)): Path<(String, String)>,
) -> Result<Json<CouncilPlan>, ApiError> {
    let org = organisation(&state, &slug).await?;
    let year = year(&y)?;
    let reader = consult_store::Reader::for_actor(caller.0.as_ref());
    Ok(Json(
        consult_store::plans::council_plan(&state.store, &org, year, &reader, state.clock.today()).await?,
    ))
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
    Path((slug, y)): Path<(String, String)>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<CouncilPlan>, ApiError> {
    let actor = caller.coordinator()?;
    let org = organisation(&state, &slug).await?;
    let year = year(&y)?;
    let mut e = consult_core::ValidationErrors::new();
    let half = input.half.filter(|h| matches!(h, 1 | 2));
    if half.is_none() {
        e.push("half", "must be 1 (mid-year) or 2 (year end)");
    }
    let notes = input.notes.as_deref().map(str::trim).filter(|n| !n.is_empty());
    match notes {
        None => e.push("notes", "is required: what the review found and decided"),
        Some(n) if n.chars().count() > 5000 => e.push("notes", "must be at most 5000 characters"),
        _ => {}
    }
    let (Some(half), Some(notes)) = (half, notes.filter(|_| e.is_empty())) else {
        return Err(ApiError::Invalid(e));
    };
    let review = PlanReview {
        half,
        reviewed_on: state.clock.today(),
        by: actor.name.clone(),
        notes: notes.to_owned(),
    };
    state
        .store
        .record_plan_review(org.id, year, &review, &actor, state.clock.now())
        .await?;
    let reader = consult_store::Reader::for_actor(Some(&actor));
    Ok(Json(
        consult_store::plans::council_plan(&state.store, &org, year, &reader, state.clock.today()).await?,
    ))
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
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<ProgrammeInput>,
) -> Result<Json<Vec<ProgrammeItem>>, ApiError> {
    let actor = caller.coordinator()?;
    let org = organisation(&state, &slug).await?;
    let items = ProgrammeItem::parse_all(&input.items)?;
    let mut e = consult_core::ValidationErrors::new();
    for (i, item) in items.iter().enumerate() {
        if !org.services.iter().any(|s| s == &item.service) {
            e.push(
                format!("items[{i}].service"),
                format!("{slug} has no service `{}`", item.service),
            );
        }
    }
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    state
        .store
        .save_programme(org.id, &items, &actor, state.clock.now())
        .await?;
    Ok(Json(items))
}

/// An organisation's recurring programme (anyone).
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/programme", tag = "plans",
    params(("slug" = String, Path, description = "organisation slug")),
    responses((status = 200, body = Vec<ProgrammeItem>),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_programme(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<ProgrammeItem>>, ApiError> {
    let org = organisation(&state, &slug).await?;
    Ok(Json(state.store.programme(org.id).await?))
}

//! Monitoring schemes: the equality questions an organisation asks, and which it adopts.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use consult_core::{ConsultationId, MonitoringScheme};
use utoipa::ToSchema;

/// Whose questions to show.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SchemeQuery {
    /// Organisation slug: the scheme it asks its respondents.
    organisation: Option<String>,
    /// Consultation id: the scheme its owner asks (what a response to it is checked against).
    consultation: Option<String>,
}

/// The monitoring questions and their categories: the default (Census 2021 based) scheme, or
/// the one an organisation or an activity's owner asks. Every question also takes
/// `prefer_not_to_say`.
#[utoipa::path(get, path = "/api/v1/monitoring-scheme", tag = "responses", params(SchemeQuery),
    responses((status = 200, body = MonitoringScheme),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn monitoring_scheme(
    State(state): State<AppState>,
    super::ApiQuery(q): super::ApiQuery<SchemeQuery>,
) -> Result<Json<MonitoringScheme>, ApiError> {
    let consultation = match q.consultation.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(id) => Some(
            id.parse::<ConsultationId>()
                .map_err(|_| ApiError::NotFound(format!("no consultation `{id}`")))?,
        ),
    };
    let organisation = q.organisation.as_deref().filter(|s| !s.is_empty());
    Ok(Json(state.app.scheme_for(consultation, organisation).await?))
}

/// Every monitoring scheme: the default, then organisations' own, every version.
#[utoipa::path(get, path = "/api/v1/monitoring-schemes", tag = "responses",
    responses((status = 200, body = Vec<MonitoringScheme>)))]
pub(crate) async fn list_schemes(State(state): State<AppState>) -> Result<Json<Vec<MonitoringScheme>>, ApiError> {
    Ok(Json(state.app.monitoring_schemes().await?))
}

/// One monitoring scheme: `key@version`, or `key` for its latest version.
#[utoipa::path(get, path = "/api/v1/monitoring-schemes/{id}", tag = "responses",
    params(("id" = String, Path, description = "`key@version` or `key`")),
    responses((status = 200, body = MonitoringScheme),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_scheme(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MonitoringScheme>, ApiError> {
    Ok(Json(state.app.monitoring_scheme(&id).await?))
}

/// Add an organisation's own monitoring scheme, or a new version of one: its own bands and merged
/// categories, each saying which default (Census 2021) categories it covers, so baselines roll up
/// and answers given under other schemes translate. Coordinators.
#[utoipa::path(post, path = "/api/v1/monitoring-schemes", tag = "responses", request_body = consult_core::SchemeInput,
    security(("bearer" = [])),
    responses((status = 201, body = MonitoringScheme),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_scheme(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<consult_core::SchemeInput>,
) -> Result<(StatusCode, Json<MonitoringScheme>), ApiError> {
    let actor = caller.coordinator()?;
    Ok((
        StatusCode::CREATED,
        Json(state.app.add_monitoring_scheme(&actor, input).await?),
    ))
}

/// Which scheme an organisation adopts.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdoptScheme {
    /// `key@version`, or `key` for its latest version; `census2021` returns to the default.
    scheme: Option<String>,
}

/// Adopt a monitoring scheme for an organisation's future responses (answers already stored
/// keep the scheme they answered). Coordinators.
#[utoipa::path(put, path = "/api/v1/organisations/{slug}/monitoring-scheme", tag = "responses",
    params(("slug" = String, Path, description = "organisation slug")), request_body = AdoptScheme,
    security(("bearer" = [])),
    responses((status = 200, body = MonitoringScheme),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn adopt_scheme(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(input): ApiJson<AdoptScheme>,
) -> Result<Json<MonitoringScheme>, ApiError> {
    let actor = caller.coordinator()?;
    let scheme = state
        .app
        .adopt_monitoring_scheme(&actor, &slug, input.scheme.as_deref())
        .await?;
    Ok(Json(scheme))
}

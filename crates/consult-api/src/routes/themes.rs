//! Coding free-text answers: an activity's codeframe of themes, the codes of one response's
//! answers, and theme suggestions for the answers not yet coded. Officers of the owner
//! organisation and coordinators.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::ApiQuery;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use consult_app::{Accepted, SuggestionList};
use consult_core::{AnswerCode, CodeInput, ConsultationId, SuggestionDecision, Theme, ThemeInput, ThemePatch};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An activity's codeframe.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ThemeList {
    /// Top-level themes by key, each followed by its nested themes.
    themes: Vec<Theme>,
}

/// An activity's codeframe of themes (nested one level), with coding progress.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/themes", tag = "responses",
    params(("id" = String, Path, description = "consultation id")),
    security(("bearer" = [])),
    responses((status = 200, body = ThemeList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_themes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<ThemeList>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(ThemeList {
        themes: state.app.themes(&actor, id).await?,
    }))
}

/// Add a theme to an activity's codeframe: a stable `key`, a `label`, an optional
/// `description` and `parent` (a top-level theme: themes nest one level only). Audited.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/themes", tag = "responses",
    params(("id" = String, Path, description = "consultation id")), request_body = ThemeInput,
    security(("bearer" = [])),
    responses((status = 201, body = Theme),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_theme(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(input): ApiJson<ThemeInput>,
) -> Result<(StatusCode, Json<Theme>), ApiError> {
    let actor = caller.required()?;
    Ok((
        StatusCode::CREATED,
        Json(state.app.create_theme(&actor, id, &input).await?),
    ))
}

/// Change a theme's label, description or parent (a merge patch; the key never changes).
/// Audited.
#[utoipa::path(patch, path = "/api/v1/consultations/{id}/themes/{key}", tag = "responses",
    params(("id" = String, Path, description = "consultation id"), ("key" = String, Path, description = "theme key")),
    request_body = ThemePatch,
    security(("bearer" = [])),
    responses((status = 200, body = Theme),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn patch_theme(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, key)): ApiPath<(ConsultationId, String)>,
    ApiJson(patch): ApiJson<ThemePatch>,
) -> Result<Json<Theme>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.update_theme(&actor, id, &key, &patch).await?))
}

/// The delete's query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteQuery {
    /// Recode the answers coded with the theme with this theme first.
    move_to: Option<String>,
}

/// What a delete did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Deleted {
    /// The theme deleted.
    key: String,
    /// Answers recoded with `move_to`.
    recoded: u64,
}

/// Delete a theme. A theme with nested themes is a 409; so is one that codes answers, naming
/// how many, unless `move_to` names another theme to recode them with. Audited.
#[utoipa::path(delete, path = "/api/v1/consultations/{id}/themes/{key}", tag = "responses",
    params(("id" = String, Path, description = "consultation id"), ("key" = String, Path, description = "theme key"),
        DeleteQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Deleted),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn delete_theme(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, key)): ApiPath<(ConsultationId, String)>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let actor = caller.required()?;
    let move_to = q.move_to.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let recoded = state.app.delete_theme(&actor, id, &key, move_to).await?;
    Ok(Json(Deleted { key, recoded }))
}

/// A response's codes after a change.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Codes {
    /// The response.
    response_id: Uuid,
    /// Its coded answers, by question.
    codes: Vec<AnswerCode>,
}

/// Code one response's answer to a free-text question: `{ "question", "themes": [keys],
/// "note" }`; an empty list of themes removes the coding. An unknown theme is a 422 naming
/// `themes[i]`; a question that is not free text, or that the response did not answer, a 422
/// naming `question`. Audited (never the answer's text).
#[utoipa::path(put, path = "/api/v1/consultations/{id}/responses/{response_id}/codes", tag = "responses",
    params(("id" = String, Path, description = "consultation id"),
        ("response_id" = String, Path, description = "response id")),
    request_body = CodeInput,
    security(("bearer" = [])),
    responses((status = 200, body = Codes),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_codes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, response_id)): ApiPath<(ConsultationId, Uuid)>,
    ApiJson(input): ApiJson<CodeInput>,
) -> Result<Json<Codes>, ApiError> {
    let actor = caller.required()?;
    let codes = state.app.code_answer(&actor, id, response_id, &input).await?;
    Ok(Json(Codes { response_id, codes }))
}

/// The suggestions' query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SuggestionsQuery {
    /// The free-text question's key.
    question: Option<String>,
}

/// Theme suggestions for the answers to one free-text question that no theme codes yet, drawn
/// from their text (stemmed terms and bigrams weighted by rarity, grouped around the most
/// telling ones; no outside service), without those rejected; with the question's coding
/// progress. Deterministic: the same answers give the same suggestions.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/themes/suggestions", tag = "responses",
    params(("id" = String, Path, description = "consultation id"), SuggestionsQuery),
    security(("bearer" = [])),
    responses((status = 200, body = SuggestionList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn suggestions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiQuery(q): ApiQuery<SuggestionsQuery>,
) -> Result<Json<SuggestionList>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(
        state.app.theme_suggestions(&actor, id, q.question.as_deref()).await?,
    ))
}

/// Accept a suggestion, optionally renamed (`key`, `label`; an existing theme's `key` adds the
/// answers to it): the theme is created and the answers it covers are coded with it, as coded
/// by the caller. Audited.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/themes/suggestions/accept", tag = "responses",
    params(("id" = String, Path, description = "consultation id")), request_body = SuggestionDecision,
    security(("bearer" = [])),
    responses((status = 201, body = Accepted),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(decision): ApiJson<SuggestionDecision>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let actor = caller.required()?;
    Ok((
        StatusCode::CREATED,
        Json(state.app.accept_suggestion(&actor, id, &decision).await?),
    ))
}

/// Reject a suggestion (`question`, `suggestion`): it is not offered again for that question.
/// Audited.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/themes/suggestions/reject", tag = "responses",
    params(("id" = String, Path, description = "consultation id")), request_body = SuggestionDecision,
    security(("bearer" = [])),
    responses((status = 204, description = "rejected"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(decision): ApiJson<SuggestionDecision>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.required()?;
    state.app.reject_suggestion(&actor, id, &decision).await?;
    Ok(StatusCode::NO_CONTENT)
}

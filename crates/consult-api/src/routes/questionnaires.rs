//! An activity's questionnaire: set by its owner's officers and coordinators (locked once the
//! activity opens, but for wording corrections), read by anyone once the activity is published.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::ETAG;
use axum::response::{IntoResponse, Response};
use consult_core::{Analysis, ConsultationId, Questionnaire, QuestionnaireInput};

/// The questionnaire as JSON, with its version as the ETag.
fn view(q: Questionnaire) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", q.version)).ok();
    let mut res = Json(q.to_input()).into_response();
    if let Some(etag) = etag {
        res.headers_mut().insert(ETAG, etag);
    }
    res
}

/// Set an activity's questionnaire (its next version). Officers of the owner organisation and
/// coordinators; any change until the activity opens, then only wording corrections (text,
/// hints and labels, with the same questions, options and keys), audited; anything else is a
/// 409. `version`, if sent, must be the current version (409 otherwise). Every invalid field is
/// named (`sections[0].questions[2].options[1].key`).
#[utoipa::path(put, path = "/api/v1/consultations/{id}/questionnaire", tag = "responses",
    params(("id" = String, Path, description = "consultation id")), request_body = QuestionnaireInput,
    security(("bearer" = [])),
    responses((status = 200, body = QuestionnaireInput, description = "the stored questionnaire with its new version"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_questionnaire(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(input): ApiJson<QuestionnaireInput>,
) -> Result<Response, ApiError> {
    let actor = caller.required()?;
    Ok(view(state.app.set_questionnaire(&actor, id, input).await?))
}

/// An activity's current questionnaire, with its version (also the ETag). Public once the
/// activity is published; 404 when it has none.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/questionnaire", tag = "responses",
    params(("id" = String, Path, description = "consultation id")),
    responses((status = 200, body = QuestionnaireInput),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_questionnaire(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Response, ApiError> {
    Ok(view(state.app.questionnaire(caller.0.as_ref(), id).await?))
}

/// The analysis per question of an activity's answers, for staff (officers of the owner
/// organisation and coordinators): counts, shares and 95% Wilson intervals for choices (shares of
/// those who answered the question), mean, median and distribution for scales (every point) and
/// numbers (every value given), average rank and first-choice counts for rankings, mean and
/// distribution per statement for grids, and only how many answered free text and dates.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/analysis", tag = "responses",
    params(("id" = String, Path, description = "consultation id")),
    security(("bearer" = [])),
    responses((status = 200, body = Analysis),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn analysis(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<Analysis>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.analysis(&actor, id).await?))
}

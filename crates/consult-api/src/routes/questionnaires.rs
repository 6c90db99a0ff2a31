//! An activity's questionnaire: set by its owner's officers and coordinators (locked once the
//! activity opens, but for wording corrections), read by anyone once the activity is published.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::ApiQuery;
use crate::routes::reports::ReportFormat;
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

/// The analysis's query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AnalysisQuery {
    /// Break every question down by this monitoring characteristic of the owner's scheme
    /// (`age_band`, `sex`, ...): its categories, `prefer_not_to_say` and `not_answered`.
    by: Option<String>,
    /// `json` (default); `csv`: one row per question and per option, point, ranked option,
    /// statement or theme (columns `question`, `type`, `group`, `answered`, `part`, `item`,
    /// `label`, `value`, `count`, `share`, `interval_low`, `interval_high`, `mean`, `median`,
    /// `hidden`; a hidden count is empty with `hidden` true); `html`: a page with a bar chart and
    /// a table per question (hidden counts written "fewer than 5").
    format: Option<String>,
}

/// The analysis per question of an activity's answers: counts, shares and 95% Wilson intervals
/// for choices (shares of those who answered the question), mean, median and distribution for
/// scales (every point) and numbers (every value given), average rank and first-choice counts
/// for rankings, mean and distribution per statement for grids, theme counts and coding
/// progress for free text; with `by`, each question broken down by a monitoring
/// characteristic. Officers of the owner organisation and coordinators see exact figures at any
/// time. Anyone else may read it once the activity's results are published (409 before), as
/// public figures: every count perturbed and any below 5 hidden (`null`) with the shares,
/// intervals, means and ranks it would feed, numbers only counted, free text never shown
/// (`public: true`), and only those the activity's `results_sharing` admits (401 for the
/// public, 403 for staff of another organisation when it is `organisation`). As JSON, as CSV
/// (an attachment) or as an HTML page with charts.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/analysis", tag = "responses",
    params(("id" = String, Path, description = "consultation id"), AnalysisQuery),
    security((), ("bearer" = [])),
    responses((status = 200, description = "the analysis",
            content((Analysis = "application/json"), (String = "text/csv"), (String = "text/html"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn analysis(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiQuery(q): ApiQuery<AnalysisQuery>,
) -> Result<Response, ApiError> {
    use axum::http::header;
    use consult_app::analysis_render::{analysis_csv, analysis_html};
    let format = ReportFormat::parse(q.format.as_deref()).map_err(|m| ApiError::field("format", m))?;
    let analysis = state.app.analysis(caller.0.as_ref(), id, q.by.as_deref()).await?;
    Ok(match format {
        ReportFormat::Json => Json(analysis).into_response(),
        ReportFormat::Csv => {
            let name = match &analysis.by {
                Some(by) => format!("analysis-{id}-by-{by}.csv"),
                None => format!("analysis-{id}.csv"),
            };
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let body = analysis_csv(&analysis).map_err(|e| ApiError::Internal(e.to_string()))?;
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                body,
            )
                .into_response()
        }
        ReportFormat::Html => {
            let c = state.app.readable_consultation(caller.0.as_ref(), id).await?;
            let questionnaire = match state.app.questionnaire(caller.0.as_ref(), id).await {
                Ok(q) => Some(q),
                Err(consult_app::AppError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                analysis_html(c.plan.title(), &analysis, questionnaire.as_ref()),
            )
                .into_response()
        }
    })
}

/// Whose monitoring questions to show beside the library.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StandardQuery {
    /// Organisation slug: the monitoring scheme it asks (default: the default scheme).
    organisation: Option<String>,
}

/// The library of standard questions (the satisfaction pair the strategies measure success by,
/// how well informed people felt, in what capacity they respond, how they heard), each asked in
/// a questionnaire with `{ "standard": NAME }` (plus `key`, `required`, `show_if` if wanted),
/// and the equality monitoring questions asked beside every questionnaire. Anyone.
#[utoipa::path(get, path = "/api/v1/questionnaire/standard", tag = "responses", params(StandardQuery),
    responses((status = 200, body = consult_app::questionnaires::StandardLibrary),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn standard_library(
    State(state): State<AppState>,
    super::ApiQuery(q): super::ApiQuery<StandardQuery>,
) -> Result<Json<consult_app::questionnaires::StandardLibrary>, ApiError> {
    let organisation = q.organisation.as_deref().filter(|s| !s.is_empty());
    Ok(Json(state.app.standard_library(organisation).await?))
}

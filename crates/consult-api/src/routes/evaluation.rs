//! Evaluation after the event, and comments, compliments and complaints about how an activity
//! was run.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller, ClientAddr};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use consult_core::{
    ConsultationId, DebriefInput, Evaluation, Remark, RemarkInput, RemarkKind, RemarkStatus, RemarkUpdate,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Record an activity's debrief once it has closed: what worked, what did not, learning points,
/// tags and, when known, the audience size (for the response rate). Owner officers and
/// coordinators. Moving the activity to `evaluated` needs one.
#[utoipa::path(put, path = "/api/v1/consultations/{id}/evaluation", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")), request_body = DebriefInput,
    security(("bearer" = [])),
    responses((status = 200, body = Evaluation),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_debrief(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(input): ApiJson<DebriefInput>,
) -> Result<Json<Evaluation>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.debrief(&actor, id, input).await?))
}

/// An activity's evaluation: responses, response rate (when the audience size is known), cost
/// per response, methods, whether it is in the external sample, and the debrief. Owner officers
/// and coordinators.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/evaluation", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")),
    security(("bearer" = [])),
    responses((status = 200, body = Evaluation),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_evaluation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<Evaluation>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.evaluation(&actor, id).await?))
}

/// Which year's sample, and how large.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SampleInput {
    /// The year whose closed activities are sampled.
    year: Option<i32>,
    /// How many activities the sample holds (those already marked count towards it).
    size: Option<u32>,
}

/// Draw (or complete) the year's sample of activities for external evaluation (O action 36):
/// from the activities that opened in the year and have closed, ranked by a hash of id and year,
/// so the draw is fair and the same when re-run. Coordinators.
#[utoipa::path(post, path = "/api/v1/evaluations/sample", tag = "feedback", request_body = SampleInput,
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Evaluation>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn sample(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<SampleInput>,
) -> Result<Json<Vec<Evaluation>>, ApiError> {
    let actor = caller.coordinator()?;
    Ok(Json(
        state.app.draw_external_sample(&actor, input.year, input.size).await?,
    ))
}

/// A remark's receipt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RemarkReceipt {
    /// The remark's id (quote it when you get in touch).
    id: String,
    /// Kind.
    kind: RemarkKind,
    /// Where it stands.
    status: RemarkStatus,
}

/// Send a comment, compliment or complaint about how an activity was run, against the charter
/// (O action 37). Anyone, for any published activity; anonymous senders are rate-limited. A
/// contact is optional and is never published.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/remarks", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")), request_body = RemarkInput,
    responses((status = 201, body = RemarkReceipt),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_remark(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddr,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(input): ApiJson<RemarkInput>,
) -> Result<(StatusCode, Json<RemarkReceipt>), ApiError> {
    if caller.0.is_none() {
        state.rate.check(client.0)?;
    }
    let remark = state.app.post_remark(caller.0.as_ref(), id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(RemarkReceipt {
            id: remark.id.to_string(),
            kind: remark.kind,
            status: remark.status,
        }),
    ))
}

/// The remarks about an activity, with the senders' contacts. Owner officers and coordinators.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/remarks", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Remark>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_remarks(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<Vec<Remark>>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.remarks(&actor, id).await?))
}

/// Acknowledge, reply to or resolve a remark (resolving needs a reply; resolved stays
/// resolved). Owner officers and coordinators. A reply is sent to the contact the remark left
/// when that is an e-mail address or UK mobile number, once per reply text (see the outbox).
#[utoipa::path(patch, path = "/api/v1/remarks/{id}", tag = "feedback",
    params(("id" = String, Path, description = "remark id")), request_body = RemarkUpdate,
    security(("bearer" = [])),
    responses((status = 200, body = Remark),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update_remark(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<RemarkUpdate>,
) -> Result<Json<Remark>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.update_remark(&actor, id, &input).await?))
}

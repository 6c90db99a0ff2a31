//! Evaluation after the event, and comments, compliments and complaints about how an activity
//! was run.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller, ClientAddr};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use consult_core::{
    Consultation, ConsultationId, Debrief, DebriefInput, Evaluation, Remark, RemarkInput, RemarkKind, RemarkStatus,
    RemarkUpdate,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

async fn evaluation_of(state: &AppState, c: &Consultation) -> Result<Evaluation, ApiError> {
    let responses = state
        .store
        .response_counts(&[c.id])
        .await?
        .get(&c.id)
        .copied()
        .unwrap_or(0);
    let (debrief, external) = state
        .store
        .evaluations(&[c.id])
        .await?
        .remove(&c.id)
        .unwrap_or((None, false));
    Ok(Evaluation::of(c, responses, debrief, external))
}

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
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DebriefInput>,
) -> Result<Json<Evaluation>, ApiError> {
    let (c, actor) = super::consultations::load_for_write(&state, &id, caller).await?;
    let today = state.clock.today();
    if !consult_core::may_debrief(&c, today) {
        return Err(ApiError::Conflict(format!(
            "an activity is debriefed after it closes; this one is {}",
            c.status_on(today)
        )));
    }
    let debrief = Debrief::parse(input, &actor, state.clock.now())?;
    state.store.save_debrief(c.id, &debrief, &actor).await?;
    Ok(Json(evaluation_of(&state, &c).await?))
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
    Path(id): Path<String>,
) -> Result<Json<Evaluation>, ApiError> {
    let (c, _) = super::consultations::load_for_write(&state, &id, caller).await?;
    Ok(Json(evaluation_of(&state, &c).await?))
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
    let mut e = consult_core::ValidationErrors::new();
    let year = input.year.filter(|y| (1990..=2200).contains(y));
    if year.is_none() {
        e.push("year", "is required, e.g. 2026");
    }
    let size = input.size.filter(|s| (1..=500).contains(s));
    if size.is_none() {
        e.push("size", "must be a whole number from 1 to 500");
    }
    let (Some(year), Some(size)) = (year, size) else {
        return Err(ApiError::Invalid(e));
    };
    let today = state.clock.today();
    let chosen = consult_store::review::draw_external_sample(
        &state.store,
        year,
        size as usize,
        &actor,
        today,
        state.clock.now(),
    )
    .await?;
    let mut out = Vec::new();
    for c in &chosen {
        out.push(evaluation_of(&state, c).await?);
    }
    Ok(Json(out))
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
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RemarkInput>,
) -> Result<(StatusCode, Json<RemarkReceipt>), ApiError> {
    if caller.0.is_none() {
        state.rate.check(client.0)?;
    }
    let not_found = || ApiError::NotFound(format!("no consultation `{id}`"));
    let cid: ConsultationId = id.parse().map_err(|_| not_found())?;
    let c = state.store.get_consultation(cid).await?.ok_or_else(not_found)?;
    if !c.status_on(state.clock.today()).is_public() {
        return Err(not_found());
    }
    let remark = Remark::parse(Uuid::now_v7(), c.id, input, state.clock.now())?;
    let actor = caller.0.clone().unwrap_or_else(|| consult_core::Actor {
        name: "public".into(),
        role: consult_core::Role::Officer,
        organisation: None,
    });
    state.store.insert_remark(&remark, &actor).await?;
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
    Path(id): Path<String>,
) -> Result<Json<Vec<Remark>>, ApiError> {
    let (c, _) = super::consultations::load_for_write(&state, &id, caller).await?;
    Ok(Json(state.store.remarks(c.id).await?))
}

/// Acknowledge, reply to or resolve a remark (resolving needs a reply; resolved stays
/// resolved). Owner officers and coordinators.
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
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RemarkUpdate>,
) -> Result<Json<Remark>, ApiError> {
    let not_found = || ApiError::NotFound(format!("no remark `{id}`"));
    let rid: Uuid = id.parse().map_err(|_| not_found())?;
    let remark = state.store.remark(rid).await?.ok_or_else(not_found)?;
    let (_, actor) = super::consultations::load_for_write(&state, &remark.consultation_id.to_string(), caller).await?;
    let updated = remark.update(&input, state.clock.now())?;
    state.store.update_remark(&updated, &actor).await?;
    Ok(Json(updated))
}

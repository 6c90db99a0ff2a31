//! "You said, we did": an activity's feedback, drafted by its owner and published once it closes.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller};
use axum::Json;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use consult_core::{Actor, Consultation, Feedback, FeedbackInput, Status};
use serde::Serialize;
use utoipa::ToSchema;

/// An activity's feedback with its due date.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FeedbackView {
    /// The activity.
    consultation_id: String,
    /// Its status today.
    status: Status,
    /// When feedback is due.
    feedback_due: NaiveDate,
    /// Closed without published feedback past its due date.
    overdue: bool,
    /// The feedback.
    #[serde(flatten)]
    feedback: Feedback,
}

fn feedback_view(state: &AppState, c: &Consultation, feedback: Feedback) -> FeedbackView {
    let today = state.clock.today();
    FeedbackView {
        consultation_id: c.id.to_string(),
        status: c.status_on(today),
        feedback_due: consult_core::feedback_due(&c.plan),
        overdue: consult_core::feedback_overdue(c, today),
        feedback,
    }
}

/// Saves feedback and, when asked (or when `publish` is implied by a transition), publishes it:
/// the activity moves to `results_published` in the same transaction.
pub(crate) async fn save(
    state: &AppState,
    c: &Consultation,
    actor: &Actor,
    feedback: Feedback,
    publish: bool,
) -> Result<(Consultation, Feedback), ApiError> {
    let (today, now) = (state.clock.today(), state.clock.now());
    let mut feedback = feedback;
    let changes = if publish {
        let changes = consult_core::plan_publication(c, &feedback, actor, today, now)?;
        feedback.published_on.get_or_insert(today);
        changes
    } else {
        Vec::new()
    };
    let updated = state
        .store
        .save_feedback(c.id, c.version, &feedback, &changes, actor)
        .await?;
    Ok((updated, feedback))
}

/// Record an activity's feedback: per theme what people said and what was done, or what was not
/// and why. From opening on, as a draft; with `publish: true` once it has closed, which moves
/// it to `results_published` and puts the feedback on the public record. Saving again after
/// publishing corrects it (the publication date stays). Owner officers and coordinators.
#[utoipa::path(put, path = "/api/v1/consultations/{id}/feedback", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")), request_body = FeedbackInput,
    security(("bearer" = [])),
    responses((status = 200, body = FeedbackView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FeedbackInput>,
) -> Result<Json<FeedbackView>, ApiError> {
    let (c, actor) = super::consultations::load_for_write(&state, &id, caller).await?;
    let status = c.status_on(state.clock.today());
    if !matches!(
        status,
        Status::Open | Status::Closed | Status::ResultsPublished | Status::Evaluated
    ) {
        return Err(ApiError::Conflict(format!(
            "feedback is recorded once an activity has opened; this one is {status}"
        )));
    }
    let previous = state.store.feedback(&[c.id]).await?.remove(&c.id);
    let feedback = Feedback::parse(&input, previous.as_ref(), &actor, state.clock.now())?;
    let already_published = matches!(status, Status::ResultsPublished | Status::Evaluated);
    let (updated, feedback) = save(&state, &c, &actor, feedback, input.publish || already_published).await?;
    Ok(Json(feedback_view(&state, &updated, feedback)))
}

/// An activity's feedback: public once published; the owner's officers and coordinators also
/// see the draft.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/feedback", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")),
    responses((status = 200, body = FeedbackView),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<FeedbackView>, ApiError> {
    let not_found = || ApiError::NotFound(format!("no feedback for consultation `{id}`"));
    let cid: consult_core::ConsultationId = id.parse().map_err(|_| not_found())?;
    let c = state.store.get_consultation(cid).await?.ok_or_else(not_found)?;
    let feedback = state
        .store
        .feedback(&[c.id])
        .await?
        .remove(&c.id)
        .ok_or_else(not_found)?;
    let insider = caller.0.as_ref().is_some_and(|a| a.may_write(c.organisation_id));
    if feedback.published_on.is_none() && !insider {
        return Err(not_found());
    }
    Ok(Json(feedback_view(&state, &c, feedback)))
}

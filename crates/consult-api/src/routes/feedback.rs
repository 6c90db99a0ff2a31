//! "You said, we did": an activity's feedback, drafted by its owner and published once it closes.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use consult_core::{Consultation, ConsultationId, Feedback, FeedbackInput, Status};
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
    let today = state.app.today();
    FeedbackView {
        consultation_id: c.id.to_string(),
        status: c.status_on(today),
        feedback_due: consult_core::feedback_due(&c.plan),
        overdue: consult_core::feedback_overdue(c, today),
        feedback,
    }
}

/// Record an activity's feedback: per theme what people said and what was done, or what was not
/// and why. From opening on, as a draft; with `publish: true` once it has closed, which moves
/// it to `results_published` and puts the feedback on the public record. Saving again after
/// publishing corrects it (the publication date stays). Owner officers save drafts;
/// publishing and correcting published feedback are a coordinator's (an officer gets 403).
#[utoipa::path(put, path = "/api/v1/consultations/{id}/feedback", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")), request_body = FeedbackInput,
    security(("bearer" = [])),
    responses((status = 200, body = FeedbackView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_feedback(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(input): ApiJson<FeedbackInput>,
) -> Result<Json<FeedbackView>, ApiError> {
    let actor = caller.required()?;
    let (updated, feedback) = state.app.record_feedback(&actor, id, &input).await?;
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
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<FeedbackView>, ApiError> {
    let (c, feedback) = state.app.feedback(caller.0.as_ref(), id).await?;
    Ok(Json(feedback_view(&state, &c, feedback)))
}

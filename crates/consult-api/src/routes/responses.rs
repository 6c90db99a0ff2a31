//! Responses to open activities, with optional equality-monitoring answers.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use consult_core::{ConsultationId, MonitoringScheme, Response, ResponseInput, Status};
use serde::Serialize;
use std::sync::OnceLock;
use utoipa::ToSchema;
use uuid::Uuid;

/// The default monitoring scheme, parsed once.
fn scheme() -> Result<&'static MonitoringScheme, ApiError> {
    static SCHEME: OnceLock<Result<MonitoringScheme, String>> = OnceLock::new();
    SCHEME
        .get_or_init(MonitoringScheme::census2021)
        .as_ref()
        .map_err(|e| ApiError::Internal(format!("monitoring scheme: {e}")))
}

/// The monitoring questions and their categories (Census 2021 based); every question also
/// takes `prefer_not_to_say`.
#[utoipa::path(get, path = "/api/v1/monitoring-scheme", tag = "responses", responses((status = 200, body = MonitoringScheme)))]
pub(crate) async fn monitoring_scheme() -> Result<Json<MonitoringScheme>, ApiError> {
    Ok(Json(scheme()?.clone()))
}

/// A stored response's receipt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Receipt {
    /// The response's id.
    id: String,
    /// The activity.
    consultation_id: String,
    /// How it arrived.
    channel: consult_core::ResponseChannel,
}

/// Respond to an open activity: comments and optional monitoring answers. Anyone, online;
/// officers of the owner organisation (and coordinators) also enter paper, email, event and phone
/// responses. An `Idempotency-Key` header makes a retry store the response once (the retry gets
/// 200 and the first response's id).
#[utoipa::path(post, path = "/api/v1/consultations/{id}/responses", tag = "responses",
    params(("id" = String, Path, description = "consultation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    request_body = ResponseInput,
    responses((status = 201, body = Receipt), (status = 200, body = Receipt, description = "a retry of a stored response"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn respond(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ResponseInput>,
) -> Result<impl IntoResponse, ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| ApiError::Malformed("Idempotency-Key must be 1 to 200 visible characters".into()))?
                .to_owned(),
        ),
    };
    let not_found = || ApiError::NotFound(format!("no consultation `{id}`"));
    let cid: ConsultationId = id.parse().map_err(|_| not_found())?;
    let c = state.store.get_consultation(cid).await?.ok_or_else(not_found)?;
    let status = c.status_on(state.clock.today());
    let officer = caller.0.as_ref().filter(|a| a.may_write(c.organisation_id));
    if !status.is_public() && officer.is_none() {
        return Err(not_found());
    }
    if status != Status::Open {
        return Err(ApiError::Conflict(format!(
            "this activity is {status}; it takes responses while open ({} to {})",
            c.plan.opens_on(),
            c.plan.closes_on()
        )));
    }
    let response = Response::parse(
        Uuid::now_v7(),
        c.id,
        input,
        scheme()?,
        officer.map(|a| a.name.as_str()),
        state.clock.now(),
    )?;
    let (stored, new) = state.store.insert_response(&response, key.as_deref()).await?;
    let receipt = Receipt {
        id: stored.to_string(),
        consultation_id: c.id.to_string(),
        channel: response.channel,
    };
    let mut res = (if new { StatusCode::CREATED } else { StatusCode::OK }, Json(receipt)).into_response();
    if !new {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

//! Staff accounts (admins): who works in consult, in which role, for which organisation,
//! service or wards; and the briefings consult sends them (a councillor's weekly digest, a
//! coordinator's daily alert), queued on demand as the server's hourly sweep does.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::views::Items;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use consult_app::{BriefingsQueued, UserPatch, UserView};
use consult_core::StaffUserInput;
use uuid::Uuid;

/// Adds a staff account (audited): `email`, `name`, `role` (`admin`, `coordinator`,
/// `organisation_coordinator`, `service_lead`, `officer`, `councillor`, `viewer`), the
/// `organisation` (slug) the role needs, a `service` of it for a service lead, `wards` (area
/// codes) for a councillor. An address already taken is a 409. Admins.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = StaffUserInput,
    security(("bearer" = [])),
    responses((status = 201, body = UserView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<StaffUserInput>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = caller.admin()?;
    let user = state.app.create_user(&actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/users/{}", user.id))],
        Json(user),
    ))
}

/// Every staff account, by name. Admins.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Items<UserView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Items<UserView>>, ApiError> {
    let actor = caller.admin()?;
    Ok(Json(Items {
        items: state.app.users(&actor).await?,
    }))
}

/// One staff account. Admins.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "account id")), security(("bearer" = [])),
    responses((status = 200, body = UserView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    let actor = caller.admin()?;
    Ok(Json(state.app.user(&actor, id).await?))
}

/// Changes a staff account (audited): fields left out stay; `"disabled": true` disables it
/// and cancels the messages waiting for it; `stopped_messages` names the kinds (`digest`,
/// `alert`) not to send it. Admins.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = String, Path, description = "account id")), security(("bearer" = [])),
    responses((status = 200, body = UserView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn patch_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let actor = caller.admin()?;
    Ok(Json(state.app.update_user(&actor, id, &patch).await?))
}

/// Queues today's briefings now, as `consult serve` does every hour from 07:00 UTC: each
/// councillor's digest of this week (activities in their wards opening or closing this week,
/// results published last week) and each coordinator's alert (activities waiting for approval,
/// feedback overdue), for those with something to say. Once per account and week (digest) or
/// day (alert): asking again queues nothing more. Coordinators.
#[utoipa::path(post, path = "/api/v1/outbox/briefings", tag = "outbox", security(("bearer" = [])),
    responses((status = 200, body = BriefingsQueued),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn queue_briefings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<BriefingsQueued>, ApiError> {
    let actor = caller.coordinator()?;
    let today = state.app.today();
    Ok(Json(state.app.queue_briefings(&actor, today).await?))
}

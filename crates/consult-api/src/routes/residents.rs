//! The residents' register (public, managed with a private token), targeted invitations and
//! fatigue findings.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use consult_app::ContactRecord;
use consult_core::{ConsultationId, FatigueFinding, FatigueRules, Resident, ResidentInput};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The header carrying a resident's private management token.
pub(crate) const RESIDENT_TOKEN: &str = "x-resident-token";

/// A new registration: the id and the private token to see, export, delete or unsubscribe.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Registered {
    /// The registration's id.
    id: String,
    /// The private management token: keep it; send it as `X-Resident-Token`.
    token: String,
    /// Where to manage the registration.
    manage: String,
}

/// Register interests, areas, groups and contact channels, with consent. Anyone.
#[utoipa::path(post, path = "/api/v1/residents", tag = "residents", request_body = ResidentInput,
    responses((status = 201, body = Registered),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn register(
    State(state): State<AppState>,
    client: crate::extract::ClientAddr,
    ApiJson(input): ApiJson<ResidentInput>,
) -> Result<impl IntoResponse, ApiError> {
    state.rate.check(client.0)?;
    let registration = state.app.register_resident(input).await?;
    let id = registration.resident.id;
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            id: id.to_string(),
            manage: format!("/api/v1/residents/{id}"),
            token: registration.key,
        }),
    ))
}

/// The resident named in the path, if the token in the header is theirs; 401 without a token,
/// 404 for a wrong id or token (so neither can be probed).
/// The registration id and the management key a request carries: 401 without a key, 404 for
/// an id that is not one.
fn own(id: &str, headers: &HeaderMap) -> Result<(Uuid, String), ApiError> {
    let key = headers
        .get(RESIDENT_TOKEN)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("send your management token as X-Resident-Token".into()))?;
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::NotFound("no registration with this id and token".into()))?;
    Ok((id, key.to_owned()))
}

/// See what is held: the registration. With the management token.
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "residents",
    params(("id" = String, Path, description = "registration id"), ("X-Resident-Token" = String, Header, description = "management token")),
    responses((status = 200, body = Resident), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let (id, key) = own(&id, &headers)?;
    Ok((PERSONAL, Json(state.app.own_registration(id, &key).await?)))
}

/// Personal data: never kept by any cache, ours or on the way.
const PERSONAL: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store, private")];

/// Everything held about a resident, for export.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResidentExport {
    /// The registration.
    resident: Resident,
    /// Every invitation and response recorded.
    #[schema(value_type = Vec<Object>)]
    contacts: Vec<ContactRecord>,
}

/// Export everything held about a resident. With the management token.
#[utoipa::path(get, path = "/api/v1/residents/{id}/export", tag = "residents",
    params(("id" = String, Path, description = "registration id"), ("X-Resident-Token" = String, Header, description = "management token")),
    responses((status = 200, body = ResidentExport), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let (id, key) = own(&id, &headers)?;
    let (resident, contacts) = state.app.export_registration(id, &key).await?;
    Ok((PERSONAL, Json(ResidentExport { resident, contacts })))
}

/// Delete everything held about a resident. With the management token.
#[utoipa::path(delete, path = "/api/v1/residents/{id}", tag = "residents",
    params(("id" = String, Path, description = "registration id"), ("X-Resident-Token" = String, Header, description = "management token")),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let (id, key) = own(&id, &headers)?;
    state.app.delete_registration(id, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop all invitations (consent withdrawn). With the management token.
#[utoipa::path(post, path = "/api/v1/residents/{id}/unsubscribe", tag = "residents",
    params(("id" = String, Path, description = "registration id"), ("X-Resident-Token" = String, Header, description = "management token")),
    responses((status = 200, body = Resident), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Resident>, ApiError> {
    let (id, key) = own(&id, &headers)?;
    Ok(Json(state.app.unsubscribe(id, &key).await?))
}

/// Whether to record the plan.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InvitationQuery {
    /// `true` (default): return the plan without recording contacts.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// An invitation plan: counts only, never names.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvitationView {
    /// Residents invited.
    invited: u64,
    /// Invitations per channel.
    by_channel: BTreeMap<String, u64>,
    /// Matching residents left out, per reason.
    excluded: BTreeMap<String, u64>,
    /// Whether the contacts were recorded.
    recorded: bool,
}

/// Plan invitations for an activity: matching residents (interests or groups, in its areas)
/// through their preferred channel, leaving out anyone the fatigue rules protect. With
/// `dry_run=false` the plan is committed and the contacts recorded. Coordinators.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/invitations", tag = "residents",
    params(("id" = String, Path, description = "consultation id"), InvitationQuery), security(("bearer" = [])),
    responses((status = 200, body = InvitationView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn invitations(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    super::ApiQuery(q): super::ApiQuery<InvitationQuery>,
) -> Result<Json<InvitationView>, ApiError> {
    // Who is calling before what they asked: the role is refused first.
    let actor = caller.coordinator()?;
    let dry_run = match q.dry_run.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(ApiError::field("dry_run", "must be true or false")),
    };
    let plan = state.app.invite(&actor, id, dry_run).await?;
    Ok(Json(InvitationView {
        invited: plan.invited.len() as u64,
        by_channel: plan
            .by_channel
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), *v))
            .collect(),
        excluded: plan.excluded.iter().map(|(k, v)| (k.as_str().to_owned(), *v)).collect(),
        recorded: !dry_run,
    }))
}

/// Fatigue findings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FatigueView {
    /// People who would exceed the person rules; audiences with too many activities at once.
    findings: Vec<FatigueFinding>,
}

/// Fatigue findings for an activity's audience. Owner officers and coordinators.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/fatigue", tag = "residents",
    params(("id" = String, Path, description = "consultation id")), security(("bearer" = [])),
    responses((status = 200, body = FatigueView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn fatigue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<FatigueView>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(FatigueView {
        findings: state.app.fatigue(&actor, id).await?,
    }))
}

/// An organisation's fatigue rules.
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/fatigue-rules", tag = "residents",
    params(("slug" = String, Path, description = "organisation slug")),
    responses((status = 200, body = FatigueRules), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_rules(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<FatigueRules>, ApiError> {
    Ok(Json(state.app.fatigue_rules(&slug).await?))
}

/// Set an organisation's fatigue rules. Coordinators.
#[utoipa::path(put, path = "/api/v1/organisations/{slug}/fatigue-rules", tag = "residents",
    params(("slug" = String, Path, description = "organisation slug")), request_body = FatigueRules,
    security(("bearer" = [])),
    responses((status = 200, body = FatigueRules),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_rules(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(rules): ApiJson<FatigueRules>,
) -> Result<Json<FatigueRules>, ApiError> {
    let actor = caller.coordinator()?;
    Ok(Json(state.app.set_fatigue_rules(&actor, &slug, rules).await?))
}

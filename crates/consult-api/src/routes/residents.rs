//! The residents' register (public, managed with a private token), targeted invitations and
//! fatigue findings.

use super::consultations::load_for_write;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use consult_core::{AreaHierarchy, FatigueFinding, FatigueRules, Resident, ResidentInput};
use consult_store::ContactRecord;
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
    let areas = AreaHierarchy::new(state.store.list_areas().await?);
    let resident = Resident::parse(Uuid::now_v7(), input, &areas, state.clock.now())?;
    let token = state.store.create_resident(&resident, state.clock.now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            id: resident.id.to_string(),
            manage: format!("/api/v1/residents/{}", resident.id),
            token,
        }),
    ))
}

/// The resident named in the path, if the token in the header is theirs; 401 without a token,
/// 404 for a wrong id or token (so neither can be probed).
async fn own(state: &AppState, id: &str, headers: &HeaderMap) -> Result<Resident, ApiError> {
    let token = headers
        .get(RESIDENT_TOKEN)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("send your management token as X-Resident-Token".into()))?;
    let not_found = || ApiError::NotFound("no registration with this id and token".into());
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    state.store.resident(id, token).await?.ok_or_else(not_found)
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
    Ok((PERSONAL, Json(own(&state, &id, &headers).await?)))
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
    let resident = own(&state, &id, &headers).await?;
    let contacts = state.store.resident_contacts(resident.id).await?;
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
    let resident = own(&state, &id, &headers).await?;
    state.store.delete_resident(resident.id, state.clock.now()).await?;
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
    let resident = own(&state, &id, &headers).await?;
    state.store.unsubscribe(resident.id, state.clock.now()).await?;
    Ok(Json(Resident {
        consent_at: None,
        ..resident
    }))
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
    Path(id): Path<String>,
    super::ApiQuery(q): super::ApiQuery<InvitationQuery>,
) -> Result<Json<InvitationView>, ApiError> {
    let actor = caller.coordinator()?;
    let dry_run = match q.dry_run.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(ApiError::field("dry_run", "must be true or false")),
    };
    let (c, _) = load_for_write(&state, &id, Caller(Some(actor.clone()))).await?;
    let today = state.clock.today();
    let plan = consult_store::invitations::plan(&state.store, Some(&state.residents), &c, today).await?;
    if !dry_run {
        let status = c.status_on(today);
        if !matches!(status, consult_core::Status::Approved | consult_core::Status::Open) {
            return Err(ApiError::Conflict(format!(
                "invitations can be sent for approved or open activities; this one is {status}"
            )));
        }
        state
            .store
            .record_invitations(c.id, &plan.invited, &actor, state.clock.now())
            .await?;
    }
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
    Path(id): Path<String>,
) -> Result<Json<FatigueView>, ApiError> {
    let (c, _) = load_for_write(&state, &id, caller).await?;
    Ok(Json(FatigueView {
        findings: consult_store::invitations::fatigue(&state.store, Some(&state.residents), &c, state.clock.today())
            .await?,
    }))
}

/// An organisation's fatigue rules.
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/fatigue-rules", tag = "residents",
    params(("slug" = String, Path, description = "organisation slug")),
    responses((status = 200, body = FatigueRules), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_rules(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<FatigueRules>, ApiError> {
    let org = super::organisation(&state, &slug).await?;
    Ok(Json(state.store.fatigue_rules(org.id).await?))
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
    Path(slug): Path<String>,
    ApiJson(rules): ApiJson<FatigueRules>,
) -> Result<Json<FatigueRules>, ApiError> {
    let actor = caller.coordinator()?;
    let org = super::organisation(&state, &slug).await?;
    rules.validate()?;
    state
        .store
        .set_fatigue_rules(&org, &rules, &actor, state.clock.now())
        .await?;
    Ok(Json(rules))
}

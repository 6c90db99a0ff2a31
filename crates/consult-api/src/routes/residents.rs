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
use consult_core::{ConsultationId, ContactChannel, FatigueFinding, FatigueRules, Resident, ResidentInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The header carrying a resident's private management token.
pub(crate) const RESIDENT_TOKEN: &str = "x-resident-token";

/// Where a registration stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RegistrationStatus {
    /// Waiting for the code sent to the contact: never invited, deleted if not verified in time.
    PendingVerification,
    /// The contact is verified: invitations may follow.
    Verified,
}

/// A new registration, pending verification: the id and the private token to see, export,
/// delete or unsubscribe, and where the code to verify it was sent.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Registered {
    /// The registration's id.
    id: String,
    /// The private management token: keep it; send it as `X-Resident-Token`.
    token: String,
    /// Where to manage the registration.
    manage: String,
    /// `pending_verification` until the code sent to the contact is posted to `verify`.
    status: RegistrationStatus,
    /// How the code is sent: `email`, `sms` (to the phone) or `post` (to the postal address).
    code_sent_by: ContactChannel,
    /// Where to post the code.
    verify: String,
    /// Days the code stays valid; the registration is deleted after them if not verified.
    expires_in_days: u32,
}

/// Personal data and secrets: never kept by any cache, ours or on the way.
const PERSONAL: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store, private")];

/// Register interests, areas, groups and contact channels, with consent. Anyone. The answer is
/// 202 `pending_verification`: nothing is invited until the code sent to the contact (e-mail,
/// text message, or letter for a postal address alone) is posted to `/api/v1/residents/verify`.
/// Registering a contact that a resident already holds updates that resident once verified.
#[utoipa::path(post, path = "/api/v1/residents", tag = "residents", request_body = ResidentInput,
    responses((status = 202, body = Registered),
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
        StatusCode::ACCEPTED,
        PERSONAL,
        Json(Registered {
            id: id.to_string(),
            manage: format!("/api/v1/residents/{id}"),
            token: registration.key,
            status: RegistrationStatus::PendingVerification,
            code_sent_by: registration.code_sent_by,
            verify: "/api/v1/residents/verify".into(),
            expires_in_days: state.app.unverified_days(),
        }),
    ))
}

/// A verification code, as sent to the contact (case, spaces and dashes do not matter).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyRequest {
    /// The code.
    code: String,
}

/// A verified registration.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VerifiedView {
    /// The resident: the registration's own id, or that of the resident who already held the
    /// contact and was updated by it.
    id: String,
    /// `verified`.
    status: RegistrationStatus,
    /// True when a resident already held the contact and was updated (one contact, one
    /// resident); the token given with this registration now manages that resident, and the
    /// one given before no longer does.
    updated: bool,
    /// Where to manage the registration.
    manage: String,
}

/// Verify a registration with the code sent to its contact. Anyone, rate-limited like other
/// anonymous writes; a wrong or expired code is 422 naming `code`.
#[utoipa::path(post, path = "/api/v1/residents/verify", tag = "residents", request_body = VerifyRequest,
    responses((status = 200, body = VerifiedView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn verify(
    State(state): State<AppState>,
    client: crate::extract::ClientAddr,
    ApiJson(input): ApiJson<VerifyRequest>,
) -> Result<impl IntoResponse, ApiError> {
    state.rate.check(client.0)?;
    let verified = state.app.verify_resident(&input.code).await?;
    let id = verified.id;
    Ok((
        PERSONAL,
        Json(VerifiedView {
            id: id.to_string(),
            status: RegistrationStatus::Verified,
            updated: verified.updated,
            manage: format!("/api/v1/residents/{id}"),
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
) -> Result<impl IntoResponse, ApiError> {
    let (id, key) = own(&id, &headers)?;
    Ok((PERSONAL, Json(state.app.unsubscribe(id, &key).await?)))
}

/// Whether to record the plan.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InvitationQuery {
    /// `true` (default): return the plan without recording contacts.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// Plan invitations for an activity: matching residents (interests or groups, in its areas)
/// through their preferred channel, leaving out anyone the fatigue rules protect. With
/// `dry_run=false` the plan is committed and the contacts recorded. Coordinators.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/invitations", tag = "residents",
    params(("id" = String, Path, description = "consultation id"), InvitationQuery), security(("bearer" = [])),
    responses((status = 200, body = consult_app::invitations::InvitationView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn invitations(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    super::ApiQuery(q): super::ApiQuery<InvitationQuery>,
) -> Result<Json<consult_app::invitations::InvitationView>, ApiError> {
    // Who is calling before what they asked: the role is refused first.
    let actor = caller.coordinator()?;
    let dry_run = match q.dry_run.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(ApiError::field("dry_run", "must be true or false")),
    };
    Ok(Json(state.app.invite(&actor, id, dry_run).await?.view(!dry_run)))
}

/// The page of an activity's invitations.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveriesQuery {
    /// Messages per page, 1 to 500 (default 50; coordinators).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// What became of an activity's invitations: how many are queued, sent, failed, cancelled or
/// suppressed on each channel (its owner's officers and coordinators) and, for coordinators,
/// the messages themselves a page at a time, newest first, recipients masked.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/invitations", tag = "residents",
    params(("id" = String, Path, description = "consultation id"), DeliveriesQuery), security(("bearer" = [])),
    responses((status = 200, body = consult_app::invitations::InvitationDeliveries),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn invitation_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    super::ApiQuery(q): super::ApiQuery<DeliveriesQuery>,
) -> Result<Json<consult_app::invitations::InvitationDeliveries>, ApiError> {
    let actor = caller.required()?;
    let page = super::id_page(q.limit.as_deref(), q.cursor.as_deref())?;
    Ok(Json(state.app.invitation_deliveries(&actor, id, &page).await?))
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

//! Organisations and their services, areas, and tokens.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::views::{Items, ListPage, OrganisationView, TokenSummary, TokenView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use consult_app::TokenRequest;
use consult_core::{Area, AreaInput, OrganisationInput, Role};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Register an organisation (a council or partner body). Admins only.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = OrganisationInput,
    security(("bearer" = [])),
    responses((status = 201, body = OrganisationView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_organisation(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = caller.admin()?;
    let org = state.app.create_organisation(&actor, input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/organisations/{}", org.slug))],
        Json(OrganisationView::from(&org)),
    ))
}

/// Every organisation in the partnership.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", responses((status = 200, body = Items<OrganisationView>)))]
pub(crate) async fn list_organisations(
    State(state): State<AppState>,
) -> Result<Json<Items<OrganisationView>>, ApiError> {
    let orgs = state.app.list_organisations().await?;
    Ok(Json(Items {
        items: orgs.iter().map(OrganisationView::from).collect(),
    }))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{slug}", tag = "organisations",
    params(("slug" = String, Path, description = "organisation slug")),
    responses((status = 200, body = OrganisationView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_organisation(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<OrganisationView>, ApiError> {
    let org = super::organisation(&state, &slug).await?;
    Ok(Json(OrganisationView::from(&org)))
}

/// A service to add.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ServiceInput {
    /// Service name.
    name: Option<String>,
}

/// Add a service to an organisation. Admins, coordinators, and the organisation's own officers.
#[utoipa::path(post, path = "/api/v1/organisations/{slug}/services", tag = "organisations", request_body = ServiceInput,
    params(("slug" = String, Path, description = "organisation slug")), security(("bearer" = [])),
    responses((status = 201, body = OrganisationView), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = caller.required()?;
    let org = state.app.add_service(&actor, &slug, input.name.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(OrganisationView::from(&org))))
}

/// Add an area (a GSS code within its parent). Coordinators only.
#[utoipa::path(post, path = "/api/v1/areas", tag = "areas", request_body = AreaInput, security(("bearer" = [])),
    responses((status = 201, body = Area), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_area(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<AreaInput>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = caller.coordinator()?;
    let area = state.app.create_area(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(area)))
}

/// Every area, with its parent.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", responses((status = 200, body = Items<Area>)))]
pub(crate) async fn list_areas(State(state): State<AppState>) -> Result<Json<Items<Area>>, ApiError> {
    Ok(Json(Items {
        items: state.app.list_areas().await?,
    }))
}

/// A token to issue.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct TokenInput {
    /// Holder's name, for the audit log.
    name: Option<String>,
    /// `admin`, `coordinator` or `officer`.
    #[schema(value_type = Option<Role>)]
    role: Option<String>,
    /// Organisation slug (required for officers).
    organisation: Option<String>,
    /// Days until the token expires: 1 to 3650, default 365.
    #[schema(minimum = 1, maximum = 3650, default = 365)]
    expires_in_days: Option<i64>,
}

/// Issue a bearer token. Admins only. The secret is in the response, once; it expires after
/// `expires_in_days` (default 365).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenInput, security(("bearer" = [])),
    responses((status = 201, body = TokenView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = caller.admin()?;
    let request = TokenRequest {
        name: input.name,
        role: input.role,
        organisation: input.organisation,
        expires_in_days: input.expires_in_days,
    };
    let (issued, organisation) = state.app.issue_token(&actor, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenView {
            id: issued.info.id.to_string(),
            token: issued.secret,
            name: issued.info.name,
            role: issued.info.role,
            organisation: organisation.map(|o| o.to_string()),
            created_at: issued.created_at,
            expires_at: issued.expires_at,
        }),
    ))
}

/// Every token: holder, role, organisation, when issued, last used, expires and revoked.
/// Admins only. Never a secret or its hash.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    responses((status = 200, body = ListPage<TokenSummary>), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ListPage<TokenSummary>>, ApiError> {
    let actor = caller.admin()?;
    let tokens = state.app.list_tokens(&actor).await?;
    Ok(Json(ListPage {
        items: tokens.into_iter().map(TokenSummary::from).collect(),
        next_cursor: None,
    }))
}

/// Revoke a token: from now on it is refused (401) on every instance. Admins only. Revoking a
/// revoked token changes nothing.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id")),
    responses((status = 204, description = "revoked"), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.admin()?;
    state.app.revoke_token(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

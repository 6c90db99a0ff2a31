//! Health, the continuum and the catalogues.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::views::{ContinuumView, Health, Items};
use axum::Json;
use axum::extract::State;
use consult_core::{METHODS, Method, STAKEHOLDER_GROUPS, StakeholderGroup};

/// Answers 200 when the database does.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, body = Health), (status = 503, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .app
        .ping()
        .await
        .map_err(|_| ApiError::Unavailable("the database does not answer".into()))?;
    Ok(Json(Health {
        status: "ok",
        database: match state.app.backend() {
            consult_app::Backend::Sqlite => "sqlite",
            consult_app::Backend::Postgres => "postgres",
        },
    }))
}

/// The canonical involvement levels and each published model's labels mapped to them.
#[utoipa::path(get, path = "/api/v1/continuum", tag = "register", responses((status = 200, body = ContinuumView)))]
pub(crate) async fn continuum() -> Json<ContinuumView> {
    Json(ContinuumView::build())
}

/// The method catalogue: every method, its typical levels and channel.
#[utoipa::path(get, path = "/api/v1/methods", tag = "register", responses((status = 200, body = Items<Method>)))]
pub(crate) async fn methods() -> Json<Items<Method>> {
    Json(Items {
        items: METHODS.to_vec(),
    })
}

/// The stakeholder-group catalogue.
#[utoipa::path(get, path = "/api/v1/groups", tag = "register", responses((status = 200, body = Items<StakeholderGroup>)))]
pub(crate) async fn groups() -> Json<Items<StakeholderGroup>> {
    Json(Items {
        items: STAKEHOLDER_GROUPS.to_vec(),
    })
}

//! The handlers, one module per resource.

pub(crate) mod baselines;
pub(crate) mod checklist;
pub(crate) mod consultations;
pub(crate) mod equality;
pub(crate) mod evaluation;
pub(crate) mod feedback;
pub(crate) mod library;
pub(crate) mod meta;
pub(crate) mod organisations;
pub(crate) mod overlap;
pub(crate) mod plans;
pub(crate) mod questionnaires;
pub(crate) mod reports;
pub(crate) mod residents;
pub(crate) mod responses;
pub(crate) mod schemes;
pub(crate) mod seldom;
pub(crate) mod themes;

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Query parameters; a malformed query string is a problem+json 400.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::Malformed(e.body_text()))
    }
}

/// An organisation by slug, or 404.
pub(crate) async fn organisation(state: &crate::AppState, slug: &str) -> Result<consult_core::Organisation, ApiError> {
    Ok(state.app.organisation(slug).await?)
}

/// 404 for every unknown path.
pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no resource at {}", uri.path()))
}

/// 405 for a known path with another method.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

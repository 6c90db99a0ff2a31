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
pub(crate) mod outbox;
pub(crate) mod overlap;
pub(crate) mod plans;
pub(crate) mod questionnaires;
pub(crate) mod reports;
pub(crate) mod residents;
pub(crate) mod responses;
pub(crate) mod schemes;
pub(crate) mod seldom;
pub(crate) mod themes;
pub(crate) mod users;

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

/// A page of a listing ordered by id: `limit` 1 to 500 (default 50) and the previous page's
/// `next_cursor`; bad values are a 422 naming `limit` or `cursor`.
pub(crate) fn id_page(limit: Option<&str>, cursor: Option<&str>) -> Result<consult_app::PageRequest, ApiError> {
    let mut e = consult_core::ValidationErrors::new();
    let limit = match limit {
        None | Some("") => 50,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                e.push("limit", "must be a whole number from 1 to 500");
                50
            }
        },
    };
    let cursor = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match consult_app::Cursor::decode(c) {
            Some(cur) if cur.opens_on.is_none() => Some(cur),
            _ => {
                e.push(
                    "cursor",
                    "is not a cursor from this listing; pass next_cursor unchanged",
                );
                None
            }
        },
    };
    if e.is_empty() {
        Ok(consult_app::PageRequest { limit, cursor })
    } else {
        Err(ApiError::Invalid(e))
    }
}

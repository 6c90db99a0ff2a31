//! Extractors: a JSON body whose every failure is a problem+json naming the field, and the
//! caller's identity from a bearer token (a bad token is an error, never silently anonymous).

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use consult_core::Actor;
use serde::de::DeserializeOwned;

/// A JSON request body. Syntax errors are 400; a value of the wrong type or an unknown enum
/// value is 422 naming the field; a body over the limit is 413.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim();
                v == "application/json" || v == "application/merge-patch+json" || v.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge("the request body is larger than the limit".into())
            }
            other => ApiError::Malformed(other.body_text()),
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, classifying errors as [`ApiJson`] does.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    consult_app::json::read(bytes).map_err(ApiError::from)
}

/// Reads a JSON value already parsed (by [`ApiJson`]) as `T`, naming the field at fault as
/// [`parse_json`] does: for handlers that check who is calling before what they sent.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    consult_app::json::from_value(value).map_err(ApiError::Invalid)
}

/// Typed path parameters (`ApiPath<ConsultationId>`, `ApiPath<(ConsultationId, ConsultationId)>`):
/// a value that is not of its type (an id that is not a UUID) names no resource, so it is a
/// 404 problem, like any other unknown address.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|_| ApiError::NotFound(format!("no resource at {} (ids are UUIDs)", parts.uri.path())))
    }
}

/// The caller: `None` for the public (no token). A present but unknown, revoked or expired
/// token is a 401, looked up in the database on every request (no cache keeps a revoked token
/// alive).
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Actor>);

impl Caller {
    /// The actor, or a 401 when the caller is the public.
    pub fn required(self) -> Result<Actor, ApiError> {
        self.0
            .ok_or_else(|| ApiError::Unauthorized("this needs a bearer token (Authorization: Bearer ...)".into()))
    }

    /// The actor if a coordinator or admin; else 401 or 403.
    pub fn coordinator(self) -> Result<Actor, ApiError> {
        let actor = self.required()?;
        if actor.is_coordinator() {
            Ok(actor)
        } else {
            Err(ApiError::Forbidden("only a coordinator or admin can do this".into()))
        }
    }

    /// The actor if an admin; else 401 or 403.
    pub fn admin(self) -> Result<Actor, ApiError> {
        let actor = self.required()?;
        if actor.role == consult_core::Role::Admin {
            Ok(actor)
        } else {
            Err(ApiError::Forbidden("only an admin can do this".into()))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into()))?;
        // Unknown, revoked or expired: a 401 saying which (`AppError::Unauthenticated`).
        Ok(Caller(Some(state.app.authenticate(token).await?)))
    }
}

/// The client's address, when the server knows it: the peer address (served with connect info),
/// or, when the deployment trusts its reverse proxy, the first address of `X-Forwarded-For`.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .limits
            .trust_forwarded_for
            .then(|| parts.headers.get("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(forwarded.or(peer)))
    }
}

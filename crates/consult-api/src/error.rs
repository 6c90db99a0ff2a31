//! The API's one error type, rendered as `application/problem+json` (RFC 9457). Internal details
//! of a 500 are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consult_app::AppError;
use consult_app::json::JsonError;
use consult_core::{CheckResult, FieldError, TransitionError, ValidationErrors};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem details body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, relative to the server (`/problems/invalid-fields`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// For invalid input: every field at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a refused approval: the blocking checks that fail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing_checks: Vec<CheckResult>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body or query is not well formed.
    #[error("{0}")]
    Malformed(String),
    /// 401: no token where one is needed, or a bad token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token's role or organisation does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource (or not visible to this caller).
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the resource's state does not allow this.
    #[error("{0}")]
    Conflict(String),
    /// 409: approval refused because blocking checks fail.
    #[error("{0}")]
    Blocked(String, Vec<CheckResult>),
    /// 408: the request took longer than the limit (a slow body, or slow work).
    #[error("{0}")]
    Timeout(String),
    /// 413: body too large.
    #[error("{0}")]
    TooLarge(String),
    /// 415: not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: too many anonymous writes from this client; retry after this many seconds.
    #[error("too many requests from this client; try again in {0} seconds")]
    TooManyRequests(u64),
    /// 422: well formed, but some fields are invalid.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// 503: the database is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a fault of ours.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(ValidationErrors::single(field, message))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::Blocked(..) => StatusCode::CONFLICT,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::Blocked(..) => "approval-blocked",
            Self::Timeout(_) => "request-timeout",
            Self::TooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::Invalid(_) => "invalid-fields",
            Self::TooManyRequests(_) => "too-many-requests",
            Self::Unavailable(_) => "service-unavailable",
            Self::Internal(_) => "internal-error",
        }
    }

    /// The problem body.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let failing_checks = match self {
            Self::Blocked(_, checks) => checks.clone(),
            _ => vec![],
        };
        let (detail, errors) = match self {
            Self::Invalid(e) => (
                match e.errors() {
                    [one] => format!("{}: {}", one.field, one.message),
                    many => format!("{} fields are invalid", many.len()),
                },
                e.errors().to_vec(),
            ),
            Self::Internal(_) => ("an internal error occurred; it has been logged".to_owned(), vec![]),
            other => (other.to_string(), vec![]),
        };
        Problem {
            kind: format!("/problems/{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            failing_checks,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(e) = &self {
            tracing::error!(error = %e, "internal error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, Self::TooLarge(_) | Self::Timeout(_)) {
            // The rest of the body was not read: the connection cannot carry another request,
            // and the client must not try (RFC 9112 section 9.6).
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Self::TooManyRequests(wait) = &self {
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"consult\""),
            );
        }
        res
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(v) => Self::Invalid(v),
            AppError::Unauthenticated(m) => Self::Unauthorized(m),
            AppError::Forbidden(m) => Self::Forbidden(m),
            AppError::NotFound(m) => Self::NotFound(m),
            AppError::Conflict(m) => Self::Conflict(m),
            AppError::Blocked { message, failing } => Self::Blocked(message, failing),
            AppError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable("the database is unavailable; try again shortly".into())
            }
            AppError::Busy(m) => Self::Unavailable(m),
            AppError::Internal(m) => Self::Internal(m),
        }
    }
}

impl From<JsonError> for ApiError {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::Malformed(m) => Self::Malformed(m),
            JsonError::Invalid(v) => Self::Invalid(v),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e)
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Invalid(v) => Self::Invalid(v),
            TransitionError::Forbidden(m) => Self::Forbidden(m),
            TransitionError::Conflict(m) => Self::Conflict(m),
            TransitionError::Blocked { message, failing } => Self::Blocked(message, failing),
        }
    }
}

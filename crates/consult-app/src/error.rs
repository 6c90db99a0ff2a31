//! The one error every use case returns. The REST API maps it to problem+json once
//! (`consult-api`'s `ApiError`), the CLI to an exit code once.

use consult_core::{CheckResult, TransitionError, ValidationErrors};
use consult_store::StoreError;

/// Why a use case did not do what was asked. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Some fields of the input are invalid (every one is named).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The bearer token presented is unknown, revoked or expired (the message says which).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this (role or organisation).
    #[error("{0}")]
    Forbidden(String),
    /// No such record, or none this caller may see.
    #[error("{0}")]
    NotFound(String),
    /// The record's state does not allow this now (a lifecycle rule, a lost race, a duplicate).
    #[error("{0}")]
    Conflict(String),
    /// Approval refused: these blocking checks of the principles checklist fail.
    #[error("{message}")]
    Blocked {
        /// Why.
        message: String,
        /// The failing blocking checks.
        failing: Vec<CheckResult>,
    },
    /// Too much of this work is under way (exports at once): nothing was done, try again
    /// shortly.
    #[error("{0}")]
    Busy(String),
    /// The database cannot be reached; nothing was done, try again shortly.
    #[error("the database is unavailable; try again shortly")]
    Unavailable(#[source] StoreError),
    /// A fault of ours (stored data unreadable, an unexpected database error).
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// A refusal of one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(ValidationErrors::single(field, message))
    }

    /// Whether the caller's request was at fault (bad input, not allowed, not found, not now),
    /// rather than the system (unavailable, internal).
    pub fn is_callers(&self) -> bool {
        !matches!(self, Self::Unavailable(_) | Self::Busy(_) | Self::Internal(_))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::NotFound(m) => Self::NotFound(m),
            StoreError::Unavailable(_) => Self::Unavailable(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e)
    }
}

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Invalid(v) => Self::Invalid(v),
            TransitionError::Forbidden(m) => Self::Forbidden(m),
            TransitionError::Conflict(m) => Self::Conflict(m),
            TransitionError::Blocked { message, failing } => Self::Blocked { message, failing },
        }
    }
}

/// What every use case returns.
pub type AppResult<T> = Result<T, AppError>;

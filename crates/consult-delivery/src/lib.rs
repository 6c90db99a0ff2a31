//! # consult-delivery
//!
//! The channels consult's outbox is delivered through, as [`consult_app::delivery::Transport`]s
//! for a [`consult_app::delivery::Deliverer`]: e-mail over SMTP ([`SmtpChannel`], with
//! `lettre`), each message rendered from its kind's templates ([`email::render`]: plain text and
//! HTML, with a one-click unsubscribe header for everything but a verification code).
//!
//! The workflow (claiming, retrying, recording) is consult-app's; the rules (keys, states,
//! backoff) consult-core's. This crate only speaks to providers.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod email;
mod smtp;

pub use smtp::{SmtpChannel, SmtpSettings};

/// Why a channel cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The SMTP URL or the sender address is unusable.
    #[error("{0}")]
    Config(String),
}

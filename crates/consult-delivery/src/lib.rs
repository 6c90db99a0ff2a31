//! # consult-delivery
//!
//! The channels consult's outbox is delivered through, as [`consult_app::delivery::Transport`]s
//! for a [`consult_app::delivery::Deliverer`]: e-mail over SMTP ([`SmtpChannel`], with
//! `lettre`), each message rendered from its kind's templates ([`email::render`]: plain text and
//! HTML, with a one-click unsubscribe header for everything but a verification code), and
//! letters for the post channel as a mail-merge CSV and a printable PDF ([`letters`]), and
//! GOV.UK Notify for e-mail, text messages and letters ([`NotifyChannel`]).
//!
//! The workflow (claiming, retrying, recording) is consult-app's; the rules (keys, states,
//! backoff) consult-core's. This crate only speaks to providers.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod email;
pub mod letters;
pub mod notify;
mod smtp;

pub use notify::{NotifyChannel, NotifySettings};
pub use smtp::{SmtpChannel, SmtpSettings};

/// Why a channel cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The SMTP URL, the sender address or the GOV.UK Notify settings are unusable.
    #[error("{0}")]
    Config(String),
}

//! GOV.UK Notify: e-mail, text messages and letters through the service most English councils
//! send with, over its documented REST API (`/v2/notifications/{email,sms,letter}`).
//!
//! Each request carries a fresh JSON Web Token (HS256, `iss` the service id, `iat` now) signed
//! with the API key's secret, as Notify requires. Each message kind is sent with the Notify
//! template configured for it; the template's `((placeholders))` are filled from the message's
//! fields (`activity_title`, `activity_url`, `code`, `verify_url`, ...), which are all sent as
//! personalisation; a letter's address goes as `address_line_1` to `address_line_7`.
//!
//! Sent once: every request carries the message's id as its `reference`. Notify has no
//! idempotency key, but it can be asked for the notifications with a reference: a message
//! tried before (a crash after Notify accepted it, before the outcome was stored) is looked up
//! first and counted as sent when Notify has it, so a message goes to Notify at most once
//! unless Notify itself cannot answer the lookup (then the try waits: it is never sent blind).

use crate::DeliveryError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consult_app::delivery::{Outgoing, SendFuture, Transport};
use consult_core::{ContactChannel, MessageKind, SendOutcome};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// Notify's API, for live and test keys alike (the key decides).
pub const NOTIFY_URL: &str = "https://api.notifications.service.gov.uk";

/// How to reach GOV.UK Notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// The API key as Notify shows it: `{name}-{service id}-{secret}`.
    pub api_key: String,
    /// The API's base address ([`NOTIFY_URL`]; a stand-in's in tests).
    pub url: String,
    /// The Notify template of each message kind on each channel (Notify's templates are of one
    /// type: e-mail, text message or letter).
    pub templates: BTreeMap<(MessageKind, ContactChannel), Uuid>,
    /// The channels Notify sends: any of e-mail, text message (`sms`) and post.
    pub channels: Vec<ContactChannel>,
    /// Requests in flight at once.
    pub connections: u32,
}

/// GOV.UK Notify as a [`Transport`].
#[derive(Debug)]
pub struct NotifyChannel {
    client: reqwest::Client,
    base: String,
    service_id: Uuid,
    secret: String,
    templates: BTreeMap<(MessageKind, ContactChannel), Uuid>,
    channels: Vec<ContactChannel>,
    connections: u32,
}

/// The service id and secret of a Notify API key (`{name}-{service id}-{secret}`, both UUIDs).
pub fn parse_api_key(key: &str) -> Result<(Uuid, String), DeliveryError> {
    let key = key.trim();
    let bad = || {
        DeliveryError::Config(
            "the GOV.UK Notify API key must look like name-<service id>-<secret>, as Notify shows it".into(),
        )
    };
    if key.len() < 73 || !key.is_char_boundary(key.len() - 73) {
        return Err(bad());
    }
    let secret = &key[key.len() - 36..];
    let service = &key[key.len() - 73..key.len() - 37];
    if &key[key.len() - 37..key.len() - 36] != "-" {
        return Err(bad());
    }
    let service_id = Uuid::parse_str(service).map_err(|_| bad())?;
    Uuid::parse_str(secret).map_err(|_| bad())?;
    Ok((service_id, secret.to_owned()))
}

/// A JSON Web Token for Notify: HS256 over `{"iss": service, "iat": at}` with the secret.
pub fn token(service_id: Uuid, secret: &str, issued_at: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"iss":"{service_id}","iat":{issued_at}}}"#));
    let signing_input = format!("{header}.{claims}");
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let signature = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(signing_input.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("{signing_input}.{signature}")
}

/// Notify's error body: `{"status_code": 400, "errors": [{"error": "...", "message": "..."}]}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
struct ErrorItem {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Found {
    #[serde(default)]
    notifications: Vec<Created>,
}

impl NotifyChannel {
    /// A channel for `settings`; a malformed key or address, or no channel, is an error.
    pub fn new(settings: &NotifySettings) -> Result<Self, DeliveryError> {
        let (service_id, secret) = parse_api_key(&settings.api_key)?;
        let base = settings.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(DeliveryError::Config(format!(
                "the GOV.UK Notify address must start with https:// (got `{base}`)"
            )));
        }
        if settings.channels.is_empty() {
            return Err(DeliveryError::Config("GOV.UK Notify needs at least one channel".into()));
        }
        if let Some(c) = settings.channels.iter().find(|c| **c == ContactChannel::Phone) {
            return Err(DeliveryError::Config(format!(
                "GOV.UK Notify cannot make a {} call",
                c.as_str()
            )));
        }
        let connections = settings.connections.max(1);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(connections as usize)
            .user_agent(concat!("consult/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeliveryError::Config(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base,
            service_id,
            secret,
            templates: settings.templates.clone(),
            channels: settings.channels.clone(),
            connections,
        })
    }

    /// The service id the API key names.
    pub fn service_id(&self) -> Uuid {
        self.service_id
    }

    fn bearer(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        format!("Bearer {}", token(self.service_id, &self.secret, now))
    }

    /// The request body for `o` on its channel, with its endpoint.
    fn request(&self, o: &Outgoing, template: Uuid) -> Result<(&'static str, serde_json::Value), SendOutcome> {
        let m = &o.message;
        let mut personalisation: serde_json::Map<String, serde_json::Value> = o
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        if let Some(u) = &o.unsubscribe_url {
            personalisation.insert("unsubscribe_url".into(), u.clone().into());
        }
        let reference = m.id.to_string();
        match m.channel {
            ContactChannel::Email => {
                let mut body = serde_json::json!({
                    "email_address": m.recipient,
                    "template_id": template,
                    "personalisation": personalisation,
                    "reference": reference,
                });
                if let Some(u) = &o.unsubscribe_url {
                    body["one_click_unsubscribe_url"] = u.clone().into();
                }
                Ok(("email", body))
            }
            ContactChannel::Sms => Ok((
                "sms",
                serde_json::json!({
                    "phone_number": m.recipient,
                    "template_id": template,
                    "personalisation": personalisation,
                    "reference": reference,
                }),
            )),
            ContactChannel::Post => {
                for (i, line) in crate::letters::address_lines(&m.recipient).into_iter().enumerate() {
                    personalisation.insert(format!("address_line_{}", i + 1), line.into());
                }
                Ok((
                    "letter",
                    serde_json::json!({
                        "template_id": template,
                        "personalisation": personalisation,
                        "reference": reference,
                    }),
                ))
            }
            ContactChannel::Phone => Err(SendOutcome::Permanent("GOV.UK Notify cannot make a call".into())),
        }
    }

    /// Whether Notify already has a notification with this message's reference: `Ok(Some(id))`
    /// when it has, `Err` with a temporary outcome when it cannot say.
    async fn already_sent(&self, o: &Outgoing) -> Result<Option<String>, SendOutcome> {
        let response = self
            .client
            .get(format!("{}/v2/notifications", self.base))
            .query(&[("reference", o.message.id.to_string())])
            .header(reqwest::header::AUTHORIZATION, self.bearer())
            .send()
            .await
            .map_err(|e| SendOutcome::Temporary(format!("GOV.UK Notify lookup: {}", without_url(&e))))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(SendOutcome::Temporary(format!(
                "GOV.UK Notify lookup {}: {}",
                status.as_u16(),
                error_text(&text)
            )));
        }
        let found: Found = response
            .json()
            .await
            .map_err(|e| SendOutcome::Temporary(format!("GOV.UK Notify lookup: unreadable answer: {e}")))?;
        Ok(found.notifications.into_iter().next().map(|n| n.id))
    }

    async fn send_one(&self, o: &Outgoing) -> SendOutcome {
        let (kind, channel) = (o.message.kind, o.message.channel);
        let Some(template) = self.templates.get(&(kind, channel)).copied() else {
            return SendOutcome::Temporary(format!(
                "no GOV.UK Notify template for {} messages by {}: give --notify-template {}:{}=<template id>",
                kind.as_str(),
                channel.as_str(),
                kind.as_str(),
                channel.as_str()
            ));
        };
        let (endpoint, body) = match self.request(o, template) {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        // A message claimed before may have reached Notify: ask before sending again.
        if o.message.attempts > 1 {
            match self.already_sent(o).await {
                Ok(Some(id)) => return SendOutcome::Accepted { reference: Some(id) },
                Ok(None) => {}
                Err(outcome) => return outcome,
            }
        }
        let response = match self
            .client
            .post(format!("{}/v2/notifications/{endpoint}", self.base))
            .header(reqwest::header::AUTHORIZATION, self.bearer())
            .json(&body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return SendOutcome::Temporary(format!("GOV.UK Notify: {}", without_url(&e))),
        };
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        if status == 201 || status == 200 {
            return match serde_json::from_str::<Created>(&text) {
                Ok(c) => SendOutcome::Accepted { reference: Some(c.id) },
                Err(_) => SendOutcome::Accepted { reference: None },
            };
        }
        outcome_of(status, &text)
    }
}

/// What a refusal from Notify means for the message.
fn outcome_of(status: u16, text: &str) -> SendOutcome {
    let said = error_text(text);
    let reason = format!("GOV.UK Notify {status}: {said}");
    match status {
        400 => {
            let lower = said.to_lowercase();
            let address_refused = [
                "email_address",
                "phone_number",
                "not a valid email",
                "not a valid phone",
                "not a uk mobile",
                "address_line",
                "postcode",
                "must be a real uk postal address",
            ]
            .iter()
            .any(|needle| lower.contains(needle));
            if address_refused {
                SendOutcome::Rejected(reason)
            } else {
                SendOutcome::Permanent(reason)
            }
        }
        // A wrong key or a clock out by more than 30 seconds: set-up faults that can be fixed
        // without losing the message.
        401 | 403 => SendOutcome::Temporary(reason),
        429 | 500..=599 => SendOutcome::Temporary(reason),
        _ => SendOutcome::Permanent(reason),
    }
}

/// Notify's errors as one line (`ValidationError: email_address Not a valid email address`).
fn error_text(text: &str) -> String {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(b) if !b.errors.is_empty() => b
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.error, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        _ => text.chars().take(200).collect(),
    }
}

/// A request error without the URL (which holds nothing secret, but keeps logs short).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    format!(
        "{kind} ({})",
        std::error::Error::source(e).map(|s| s.to_string()).unwrap_or_default()
    )
}

impl Transport for NotifyChannel {
    fn channels(&self) -> Vec<ContactChannel> {
        self.channels.clone()
    }

    fn concurrency(&self) -> usize {
        self.connections as usize
    }

    fn send<'a>(&'a self, message: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(self.send_one(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "consult_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";

    #[test]
    fn api_keys_are_read_as_notify_writes_them() {
        let (service, secret) = parse_api_key(KEY).unwrap();
        assert_eq!(service.to_string(), "26785a09-ab16-4eb0-8407-a37497a57506");
        assert_eq!(secret, "3d844edf-8d35-48ac-975b-e847b4f122b0");
        for bad in [
            "",
            "short",
            &KEY[..KEY.len() - 1],
            &KEY.replace("-3d844edf", "x3d844edf"),
        ] {
            assert!(parse_api_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_are_hs256_over_iss_and_iat() {
        let (service, secret) = parse_api_key(KEY).unwrap();
        let t = token(service, &secret, 1_700_000_000);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({ "typ": "JWT", "alg": "HS256" }));
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({ "iss": "26785a09-ab16-4eb0-8407-a37497a57506", "iat": 1_700_000_000 })
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
            .expect("signed with the secret");
    }

    #[test]
    fn refusals_map_to_outcomes() {
        let body = |e: &str, m: &str| format!(r#"{{"status_code":400,"errors":[{{"error":"{e}","message":"{m}"}}]}}"#);
        assert!(matches!(
            outcome_of(400, &body("ValidationError", "email_address Not a valid email address")),
            SendOutcome::Rejected(_)
        ));
        assert!(matches!(
            outcome_of(
                400,
                &body(
                    "BadRequestError",
                    "Can't send to this recipient using a team-only API key"
                )
            ),
            SendOutcome::Permanent(_)
        ));
        assert!(matches!(
            outcome_of(403, &body("AuthError", "Invalid token: API key not found")),
            SendOutcome::Temporary(_)
        ));
        assert!(matches!(outcome_of(429, "{}"), SendOutcome::Temporary(_)));
        assert!(matches!(outcome_of(503, "down"), SendOutcome::Temporary(_)));
        match outcome_of(400, &body("ValidationError", "Missing personalisation: code")) {
            SendOutcome::Permanent(r) => {
                assert_eq!(r, "GOV.UK Notify 400: ValidationError: Missing personalisation: code")
            }
            other => panic!("{other:?}"),
        }
    }
}

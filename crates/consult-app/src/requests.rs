//! What protects requests across instances: the hub's anti-forgery tokens and the binding of
//! idempotency keys, both keyed hashes (HMAC-SHA-256) with the deployment's request secret
//! ([`consult_store::Store::request_secret`]), so any instance checks what another issued.

use crate::App;
use crate::error::AppResult;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The deployment's request secret, read once.
#[derive(Clone)]
pub(crate) struct RequestKey([u8; 32]);

impl std::fmt::Debug for RequestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestKey(..)")
    }
}

impl RequestKey {
    /// HMAC-SHA-256 over `purpose` and then each part, each followed by a NUL (no part may run
    /// into the next).
    fn mac(&self, purpose: &str, parts: &[&[u8]]) -> AppResult<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .map_err(|e| crate::AppError::Internal(format!("request key: {e}")))?;
        for part in std::iter::once(purpose.as_bytes()).chain(parts.iter().copied()) {
            mac.update(part);
            mac.update(&[0]);
        }
        Ok(mac)
    }
}

impl App {
    pub(crate) async fn request_key(&self) -> AppResult<RequestKey> {
        let key = self
            .request
            .get_or_try_init(|| async {
                let secret = self.store.request_secret(self.now()).await?;
                Ok::<_, crate::AppError>(RequestKey(secret))
            })
            .await?;
        Ok(key.clone())
    }

    /// The anti-forgery token a form repeats for a browser holding the cookie value `cookie`:
    /// a keyed hash of it (hex), so a cookie planted by a neighbouring site, whose value the
    /// planter knows, still does not tell them the token.
    pub async fn form_token(&self, cookie: &str) -> AppResult<String> {
        let mac = self.request_key().await?.mac("form", &[cookie.as_bytes()])?;
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// True when `posted` is the anti-forgery token of `cookie` (compared in constant time).
    pub async fn form_token_valid(&self, cookie: &str, posted: &str) -> AppResult<bool> {
        let Ok(posted) = hex::decode(posted) else {
            return Ok(false);
        };
        let mac = self.request_key().await?.mac("form", &[cookie.as_bytes()])?;
        Ok(mac.verify_slice(&posted).is_ok())
    }

    /// The token of a one-click link (hex): a keyed hash of what the link is for, so the link
    /// works without any other secret and cannot be made for anyone else. A resident's
    /// unsubscribe link hashes their registration id (`"unsubscribe"`); a staff account's link
    /// stopping one kind of message, the account and the kind (`"unsubscribe-staff"`).
    pub(crate) async fn link_token(&self, purpose: &str, parts: &[&[u8]]) -> AppResult<String> {
        let mac = self.request_key().await?.mac(purpose, parts)?;
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// True when `token` is the [`App::link_token`] of `purpose` and `parts` (compared in
    /// constant time).
    pub(crate) async fn link_token_valid(&self, purpose: &str, parts: &[&[u8]], token: &str) -> AppResult<bool> {
        let Ok(token) = hex::decode(token) else {
            return Ok(false);
        };
        let mac = self.request_key().await?.mac(purpose, parts)?;
        Ok(mac.verify_slice(&token).is_ok())
    }

    /// The token of a resident's one-click unsubscribe link.
    pub(crate) async fn unsubscribe_token(&self, resident: uuid::Uuid) -> AppResult<String> {
        self.link_token("unsubscribe", &[resident.as_bytes()]).await
    }

    /// True when `token` is `resident`'s unsubscribe token.
    pub(crate) async fn unsubscribe_token_valid(&self, resident: uuid::Uuid, token: &str) -> AppResult<bool> {
        self.link_token_valid("unsubscribe", &[resident.as_bytes()], token)
            .await
    }

    /// What an idempotency key is bound to: a keyed hash of the caller and the body, the same
    /// for a true retry only (hex). Kept with the response instead of the caller (a client's
    /// address is personal data).
    pub(crate) async fn idempotency_binding(&self, caller: &str, body: &[u8]) -> AppResult<String> {
        let mac = self
            .request_key()
            .await?
            .mac("idempotency", &[caller.as_bytes(), body])?;
        Ok(hex::encode(mac.finalize().into_bytes()))
    }
}

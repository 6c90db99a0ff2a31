//! The deployment's secrets: one for the noise of public equality figures, one for requests
//! (the hub's anti-forgery tokens, idempotency bindings). Each is 32 random bytes made on first
//! use (by whichever instance asks first) and the same for every instance afterwards.

use crate::db::query;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};

/// Which secret: each has its own one-row table.
#[derive(Debug, Clone, Copy)]
enum Secret {
    Disclosure,
    Requests,
}

impl Secret {
    fn table(self) -> &'static str {
        match self {
            Self::Disclosure => "disclosure_keys",
            Self::Requests => "request_keys",
        }
    }
}

impl Store {
    /// The secret the noise of public equality figures is drawn from: 32 random bytes made on
    /// first use (by whichever instance asks first) and the same for every instance afterwards,
    /// so a public figure is the same whoever serves it. It moves with `consult copy`.
    pub async fn disclosure_secret(&self, now: DateTime<Utc>) -> Result<[u8; 32], StoreError> {
        self.secret(Secret::Disclosure, now).await
    }

    /// The secret of requests: the hub's anti-forgery tokens are keyed hashes of the browser's
    /// cookie with it, and idempotency keys are bound to a keyed hash of the caller and the
    /// body. Made on first use like [`Store::disclosure_secret`]; every instance must share it,
    /// so that a form shown by one instance may be posted to another.
    pub async fn request_secret(&self, now: DateTime<Utc>) -> Result<[u8; 32], StoreError> {
        self.secret(Secret::Requests, now).await
    }

    async fn secret(&self, which: Secret, now: DateTime<Utc>) -> Result<[u8; 32], StoreError> {
        if let Some(secret) = self.read_secret(which).await? {
            return Ok(secret);
        }
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| StoreError::Corrupt(format!("no randomness available: {e}")))?;
        // Two instances may race: the first insert wins and both read it back.
        query(format!(
            "INSERT INTO {} (id, secret, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
            which.table()
        ))
        .bind(Some(fresh.as_slice()))
        .bind(now)
        .execute(self)
        .await?;
        self.read_secret(which)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("the key in {} was not stored", which.table())))
    }

    async fn read_secret(&self, which: Secret) -> Result<Option<[u8; 32]>, StoreError> {
        let table = which.table();
        let row: Option<(Vec<u8>,)> = query(format!("SELECT secret FROM {table} WHERE id = 1"))
            .fetch_optional(self)
            .await?;
        row.map(|(bytes,)| {
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| StoreError::Corrupt(format!("the key in {table} has {} bytes, not 32", bytes.len())))
        })
        .transpose()
    }
}

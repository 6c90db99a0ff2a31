//! The deployment's secret for the noise of public equality figures.

use crate::db::query;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};

impl Store {
    /// The secret the noise of public equality figures is drawn from: 32 random bytes made on
    /// first use (by whichever instance asks first) and the same for every instance afterwards,
    /// so a public figure is the same whoever serves it. It moves with `consult copy`.
    pub async fn disclosure_secret(&self, now: DateTime<Utc>) -> Result<[u8; 32], StoreError> {
        if let Some(secret) = self.read_disclosure_secret().await? {
            return Ok(secret);
        }
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| StoreError::Corrupt(format!("no randomness available: {e}")))?;
        // Two instances may race: the first insert wins and both read it back.
        query("INSERT INTO disclosure_keys (id, secret, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(Some(fresh.as_slice()))
            .bind(now)
            .execute(self)
            .await?;
        self.read_disclosure_secret()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the disclosure key was not stored".into()))
    }

    async fn read_disclosure_secret(&self) -> Result<Option<[u8; 32]>, StoreError> {
        let row: Option<(Vec<u8>,)> = query("SELECT secret FROM disclosure_keys WHERE id = 1")
            .fetch_optional(self)
            .await?;
        row.map(|(bytes,)| {
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| StoreError::Corrupt(format!("the disclosure key has {} bytes, not 32", bytes.len())))
        })
        .transpose()
    }
}

//! The residents' audience index as a cache of the register: built from the store, caught up
//! from it before every use, never the source of truth. Every write to a resident takes the next
//! number of the register's change counter, so the cache reads exactly the changes after the last
//! number it saw (and nothing when there are none). Each server instance holds one; each sees the
//! others' writes on its next use.

use chrono::NaiveDate;
use consult_core::{ConsultationId, FatigueRules, InvitationPlan, Matching, ResidentIndex};
use consult_store::{Store, StoreError};
use std::sync::RwLock;

/// The audience index of the residents' register, kept fresh from the store.
#[derive(Debug, Default)]
pub struct ResidentCache {
    index: RwLock<ResidentIndex>,
    /// The last change number applied (`None` before the first load), locked for a whole
    /// catch-up: two at once could apply an older read after a newer one.
    seen: tokio::sync::Mutex<Option<i64>>,
}

fn poisoned() -> StoreError {
    StoreError::Corrupt("resident cache lock poisoned".into())
}

impl ResidentCache {
    /// An empty cache; the first [`ResidentCache::sync`] loads the register.
    pub fn new() -> Self {
        Self::default()
    }

    /// Brings the index up to date with the store. Returns how many residents were re-read or
    /// removed.
    pub async fn sync(&self, store: &Store) -> Result<usize, StoreError> {
        let mut seen = self.seen.lock().await;
        let changes = store.audience_changes(*seen).await?;
        let n = changes.changed.len() + changes.removed.len();
        if n > 0 {
            let mut index = self.index.write().map_err(|_| poisoned())?;
            for entry in changes.changed {
                index.upsert(entry);
            }
            for id in changes.removed {
                index.remove(id);
            }
        }
        *seen = (*seen).max(Some(changes.upto));
        Ok(n)
    }

    /// Residents indexed.
    pub fn len(&self) -> usize {
        self.index.read().map(|i| i.len()).unwrap_or(0)
    }

    /// True when nobody is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate heap memory held by the index, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.index.read().map(|i| i.memory_bytes()).unwrap_or(0)
    }

    /// The invitation plan of a stored activity matched by `matching`, after syncing: who is
    /// invited by which channel, and counts of who is left out and why.
    pub async fn plan(
        &self,
        store: &Store,
        consultation: ConsultationId,
        matching: &Matching,
        rules: &FatigueRules,
        today: NaiveDate,
    ) -> Result<InvitationPlan, StoreError> {
        self.sync(store).await?;
        let invited = store.invited_to(consultation).await?;
        let index = self.index.read().map_err(|_| poisoned())?;
        Ok(index.plan(matching, &invited, rules, today))
    }
}

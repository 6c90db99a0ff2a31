//! The overlap index as a cache of the register: built from the store, caught up from it before
//! every use (the activities changed after the last change number it saw), never the source of
//! truth. Any number of server instances (and the CLI) can each hold one; each catches up with
//! writes made by the others on its next query.

use crate::App;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use consult_core::{
    Actor, AreaHierarchy, Consultation, ConsultationId, ConsultationInput, ConsultationPlan, Dismissal, Organisation,
    OverlapConfig, OverlapContext, OverlapFinding, OverlapIndex, OverlapSubject, Status,
};
use consult_store::{Store, StoreError};
use std::sync::RwLock;

/// A finding, with its dismissal if someone has set it aside.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewedFinding {
    /// The finding.
    pub finding: OverlapFinding,
    /// Its dismissal.
    pub dismissal: Option<Dismissal>,
}

/// The overlap index of the register, kept fresh from the store.
#[derive(Debug, Default)]
pub struct OverlapCache {
    index: RwLock<OverlapIndex>,
    /// The last change number applied (`None` before the first load), locked for a whole
    /// catch-up: two at once could apply an older read after a newer one.
    seen: tokio::sync::Mutex<Option<i64>>,
    /// Thresholds and weights for queries.
    pub config: OverlapConfig,
}

impl OverlapCache {
    /// An empty cache; the first [`OverlapCache::sync`] loads the register.
    pub fn new(config: OverlapConfig) -> Self {
        Self {
            index: RwLock::new(OverlapIndex::new()),
            seen: tokio::sync::Mutex::new(None),
            config,
        }
    }

    /// Brings the index up to date with the store. Returns how many activities were re-indexed.
    pub async fn sync(&self, store: &Store) -> Result<usize, StoreError> {
        let mut seen = self.seen.lock().await;
        let after = *seen;
        let (changed, upto) = store.changed_after(after).await?;
        if !changed.is_empty() {
            let mut index = self
                .index
                .write()
                .map_err(|_| StoreError::Corrupt("overlap cache lock poisoned".into()))?;
            for c in &changed {
                index.upsert(OverlapSubject::from_consultation(c));
            }
            if after.is_none() {
                index.refresh_norms();
            }
        }
        *seen = (*seen).max(Some(upto));
        Ok(changed.len())
    }

    /// Number of activities indexed.
    pub fn len(&self) -> usize {
        self.index.read().map(|i| i.len()).unwrap_or(0)
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Findings for a subject (a draft or a stored activity), after syncing.
    pub async fn query(
        &self,
        store: &Store,
        subject: &OverlapSubject,
        today: NaiveDate,
    ) -> Result<Vec<OverlapFinding>, StoreError> {
        self.sync(store).await?;
        let areas = AreaHierarchy::new(store.list_areas().await?);
        let ctx = OverlapContext {
            today,
            areas: &areas,
            config: &self.config,
        };
        let index = self
            .index
            .read()
            .map_err(|_| StoreError::Corrupt("overlap cache lock poisoned".into()))?;
        Ok(index.query(subject, &ctx))
    }

    /// Findings for a stored activity, each with its dismissal if any.
    pub async fn review(
        &self,
        store: &Store,
        c: &Consultation,
        today: NaiveDate,
    ) -> Result<Vec<ReviewedFinding>, StoreError> {
        let findings = self.query(store, &OverlapSubject::from_consultation(c), today).await?;
        let dismissals = store.dismissals(c.id).await?;
        Ok(findings
            .into_iter()
            .map(|finding| {
                let dismissal = dismissals.iter().find(|d| d.other == finding.consultation_id).cloned();
                ReviewedFinding { finding, dismissal }
            })
            .collect())
    }

    /// The undismissed findings of a stored activity, described for the checklist. Only findings
    /// its owner can see count: published activities and the owner's own (a partner's unpublished
    /// draft cannot be acted on, so it does not block).
    pub async fn unresolved(
        &self,
        store: &Store,
        c: &Consultation,
        today: NaiveDate,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .review(store, c, today)
            .await?
            .into_iter()
            .filter(|r| r.dismissal.is_none())
            .filter(|r| r.finding.status.is_public() || &r.finding.organisation == c.plan.organisation())
            .map(|r| r.finding.describe())
            .collect())
    }
}

/// Who may see a finding: officers see partners' published activities and all of their own;
/// coordinators see all.
fn visible(actor: &Actor, orgs: &[Organisation], f: &OverlapFinding) -> bool {
    let org = orgs.iter().find(|o| o.slug == f.organisation);
    org.is_some_and(|o| actor.may_read(o.id, f.status))
}

impl App {
    /// The activities across the partnership that overlap a plan not yet registered, as
    /// `actor` may see them, best first.
    pub async fn check_overlap(&self, actor: &Actor, input: ConsultationInput) -> AppResult<Vec<OverlapFinding>> {
        let snapshot = self.store.register_snapshot().await?;
        let plan = ConsultationPlan::parse(input, snapshot.context())?;
        let subject = OverlapSubject::from_plan(ConsultationId(uuid::Uuid::nil()), &plan, Status::Draft);
        let findings = self.overlap.query(&self.store, &subject, self.today()).await?;
        Ok(findings
            .into_iter()
            .filter(|f| visible(actor, &snapshot.organisations, f))
            .collect())
    }

    /// The overlap findings of a stored activity `actor` may change, with any dismissals, as
    /// `actor` may see them.
    pub async fn overlaps(&self, actor: &Actor, id: ConsultationId) -> AppResult<Vec<ReviewedFinding>> {
        let c = self.writable_consultation(actor, id).await?;
        self.reviewed_findings(actor, &c).await
    }

    async fn reviewed_findings(&self, actor: &Actor, c: &Consultation) -> AppResult<Vec<ReviewedFinding>> {
        let orgs = self.store.list_organisations().await?;
        let reviewed = self.overlap.review(&self.store, c, self.today()).await?;
        Ok(reviewed
            .into_iter()
            .filter(|r| visible(actor, &orgs, &r.finding))
            .collect())
    }

    /// Sets aside one finding of an activity with a reason (recorded and audited): it then no
    /// longer counts against the "be coordinated" checks. Returns the findings after.
    pub async fn dismiss_overlap(
        &self,
        actor: &Actor,
        id: ConsultationId,
        other: ConsultationId,
        reason: Option<&str>,
    ) -> AppResult<Vec<ReviewedFinding>> {
        let c = self.writable_consultation(actor, id).await?;
        let dismissal = Dismissal::parse(other, reason, &actor.name, self.now())?;
        let current = self.overlap.review(&self.store, &c, self.today()).await?;
        if !current.iter().any(|r| r.finding.consultation_id == other) {
            return Err(AppError::NotFound(format!(
                "{other} is not an overlap finding of this activity"
            )));
        }
        self.store.dismiss(c.id, &dismissal, actor).await?;
        self.reviewed_findings(actor, &c).await
    }
}

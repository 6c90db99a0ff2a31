//! The annual review and quarterly updates, assembled from the store: the year's published activities, their
//! responses, feedback and dismissed overlap findings, and the equality of their respondents
//! against the population of the areas they covered (rules in `consult_core::engagement_review`).

use crate::AppError;
use chrono::NaiveDate;
use consult_core::{
    AreaCode, AreaHierarchy, Consultation, EngagementReview, Period, RemarkCounts, ReviewInput, engagement_review,
};
use consult_store::{ConsultationFilter, Reader, Store, StoreError};
use std::collections::BTreeSet;

/// What a review covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewScope {
    /// One organisation's activities (slug).
    pub organisation: Option<String>,
    /// Activities in an area, a ward or division for councillors (with the areas containing it
    /// and inside it).
    pub area: Option<AreaCode>,
}

impl ReviewScope {
    fn describe(&self) -> String {
        match (&self.organisation, &self.area) {
            (None, None) => "all organisations".into(),
            (Some(o), None) => o.clone(),
            (None, Some(a)) => format!("area {a}"),
            (Some(o), Some(a)) => format!("{o} in area {a}"),
        }
    }
}

/// Every published activity open at some time in the period, within the scope.
async fn activities(
    store: &Store,
    period: &Period,
    scope: &ReviewScope,
    hierarchy: &AreaHierarchy,
    today: NaiveDate,
) -> Result<Vec<Consultation>, StoreError> {
    let filter = ConsultationFilter {
        organisation: scope.organisation.clone(),
        areas: scope
            .area
            .as_ref()
            .map(|a| hierarchy.related(a).into_iter().collect())
            .unwrap_or_default(),
        from: Some(period.from),
        to: Some(period.to),
        ..Default::default()
    };
    store.list_all_consultations(&filter, &Reader::Public, today).await
}

/// The areas whose populations the equality summary compares with: every area the activities
/// name, less those inside another named one (their people are counted there already).
fn baseline_areas(cs: &[Consultation], hierarchy: &AreaHierarchy) -> Vec<AreaCode> {
    let named: BTreeSet<AreaCode> = cs
        .iter()
        .flat_map(|c| c.plan.audience().areas.iter().cloned())
        .collect();
    named
        .iter()
        .filter(|a| {
            !named
                .iter()
                .any(|outer| outer != *a && hierarchy.contains_area(outer, a))
        })
        .cloned()
        .collect()
}

/// The review of a period (a year, or a quarter for councillors) as of `today`, for the scope, with
/// `equality`, the public equality figures given to it. A public document: published
/// activities only.
pub(crate) async fn review(
    store: &Store,
    period: Period,
    scope: &ReviewScope,
    today: NaiveDate,
    equality: consult_core::EqualityReport,
) -> Result<EngagementReview, StoreError> {
    let hierarchy = AreaHierarchy::new(store.list_areas().await?);
    let cs = activities(store, &period, scope, &hierarchy, today).await?;
    let ids: Vec<_> = cs.iter().map(|c| c.id).collect();
    let responses = store.response_counts(&ids).await?;
    let feedback = store.feedback(&ids).await?;
    let dismissals = store.dismissal_counts(&ids).await?;
    let evaluations = store.evaluations(&ids).await?;
    let remarks = store.remark_counts(&ids).await?;
    let none = RemarkCounts::default();
    let inputs: Vec<ReviewInput<'_>> = cs
        .iter()
        .map(|c| {
            let evaluation = evaluations.get(&c.id);
            ReviewInput {
                consultation: c,
                responses: responses.get(&c.id).copied().unwrap_or(0),
                feedback: feedback.get(&c.id),
                dismissals: dismissals.get(&c.id).copied().unwrap_or(0),
                debrief: evaluation.and_then(|e| e.0.as_ref()),
                external: evaluation.is_some_and(|e| e.1),
                remarks: remarks.get(&c.id).unwrap_or(&none),
            }
        })
        .collect();
    Ok(engagement_review(period, today, &scope.describe(), &inputs, equality))
}

/// Draws (or completes) `year`'s sample of activities for external evaluation: from those that
/// opened in the year and have closed (rules in `consult_core::external_sample`), marks them in
/// one transaction and returns them.
pub(crate) async fn draw_external_sample(
    store: &Store,
    year: i32,
    size: usize,
    actor: &consult_core::Actor,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Consultation>, StoreError> {
    let filter = ConsultationFilter {
        from: NaiveDate::from_ymd_opt(year, 1, 1),
        to: NaiveDate::from_ymd_opt(year, 12, 31),
        ..Default::default()
    };
    let closed: Vec<Consultation> = store
        .list_all_consultations(&filter, &Reader::Everything, today)
        .await?
        .into_iter()
        .filter(|c| chrono::Datelike::year(&c.plan.opens_on()) == year && consult_core::may_debrief(c, today))
        .collect();
    let ids: Vec<_> = closed.iter().map(|c| c.id).collect();
    let marks = store.evaluations(&ids).await?;
    let candidates: Vec<_> = ids.iter().map(|id| (*id, marks.get(id).is_some_and(|m| m.1))).collect();
    let chosen = consult_core::external_sample(&candidates, year, size);
    store.mark_external(&chosen, year, actor, now).await?;
    Ok(closed.into_iter().filter(|c| chosen.contains(&c.id)).collect())
}

impl crate::App {
    /// The annual review or a quarterly update for a period, within a scope (an organisation,
    /// an area): a public document, published activities only, small numbers suppressed.
    pub async fn engagement_review(
        &self,
        period: consult_core::Period,
        scope: &ReviewScope,
    ) -> crate::AppResult<consult_core::EngagementReview> {
        if let Some(slug) = &scope.organisation {
            self.organisation(slug).await?;
        }
        // Who responded: the public figures of the fixed set the review falls in (the
        // organisation's or the partnership's year), whatever the quarter or area asked for,
        // so reviews of overlapping scopes cannot be subtracted from each other.
        let year = chrono::Datelike::year(&period.from);
        let set = match &scope.organisation {
            Some(organisation) => consult_core::PublicSet::Organisation {
                organisation: organisation.clone(),
                year,
            },
            None => consult_core::PublicSet::Partnership { year },
        };
        let hierarchy = AreaHierarchy::new(self.store.list_areas().await?);
        // Until the year's figures are final, the review shows none (no respondents counted).
        let members = match self.public_members(&set).await {
            Ok(members) => members,
            Err(AppError::Conflict(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        let equality = self
            .public_set_report(&set, &members, &baseline_areas(&members, &hierarchy))
            .await?;
        Ok(review(&self.store, period, scope, self.today(), equality).await?)
    }
}

//! Equality monitoring: who responded, against the population they were drawn from.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::organisations::require_coordinator;
use consult_core::{
    Actor, AreaCode, BaselineCounts, Consultation, ConsultationId, EqualityReport, MonitoringScheme, OrganisationKind,
    ReportSettings, SeldomHeard, Status, Tally, ValidationErrors, equality_report,
};
use consult_store::{Baseline, ConsultationFilter, Order, Store, StoreError};

/// What a representativeness report in `scheme` counts for the activities: answers given under
/// any stored scheme, translated into `scheme` where their categories map onto it.
pub async fn tally(store: &Store, ids: &[ConsultationId], scheme: &MonitoringScheme) -> Result<Tally, StoreError> {
    let (respondents, by_scheme) = store.monitoring_counts(ids).await?;
    let known = if by_scheme.keys().all(|id| id == &scheme.id()) {
        vec![scheme.clone()]
    } else {
        store.monitoring_schemes().await?
    };
    Ok(Tally::in_scheme(scheme, respondents, &by_scheme, |id| {
        known.iter().find(|s| s.id() == id)
    }))
}

/// Which activities a combined equality report counts.
#[derive(Debug, Clone, Default)]
pub struct ActivitySet {
    /// The owner organisation's slug.
    pub organisation: Option<String>,
    /// The owning service.
    pub service: Option<String>,
    /// Opened in this year.
    pub year: Option<i32>,
    /// Only these activities.
    pub ids: Option<Vec<ConsultationId>>,
}

/// The last activities run for a service or area, for finding who is seldom heard.
#[derive(Debug, Clone, Default)]
pub struct RecentRun {
    /// The owner organisation's slug.
    pub organisation: Option<String>,
    /// The owning service.
    pub service: Option<String>,
    /// In, around or inside this area.
    pub area: Option<AreaCode>,
    /// How many of the latest activities (2 to 50).
    pub last: usize,
}

/// The groups seldom heard across a run of activities, and who could help reach them.
#[derive(Debug, Clone)]
pub struct SeldomHeardReport {
    /// The activities looked at, oldest first.
    pub activities: Vec<Consultation>,
    /// The groups under-represented in most of them.
    pub seldom_heard: Vec<SeldomHeard>,
    /// The partner organisations' slugs.
    pub partners: Vec<String>,
}

/// A population baseline as given: every field checked by [`App::put_baseline`].
#[derive(Debug, Clone, Default)]
pub struct BaselineRequest {
    /// The area (GSS code).
    pub area: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Where the counts come from.
    pub source: Option<String>,
    /// Counts per characteristic and category, in the default scheme.
    pub counts: BaselineCounts,
}

/// Small numbers are hidden from everyone but coordinators.
fn suppress_for(caller: Option<&Actor>) -> bool {
    !caller.is_some_and(Actor::is_coordinator)
}

impl App {
    /// The scheme a report counts in: one named in the request, else the organisation's, else
    /// the default.
    async fn report_scheme(&self, requested: Option<&str>, organisation: Option<&str>) -> AppResult<MonitoringScheme> {
        if let Some(id) = requested.filter(|s| !s.trim().is_empty()) {
            return self.named_scheme("scheme", id).await;
        }
        if let Some(slug) = organisation.filter(|s| !s.is_empty()) {
            if let Some(org) = self.store.get_organisation(slug).await? {
                return Ok(self.store.organisation_scheme(org.id).await?);
            }
        }
        Ok(crate::responses::default_scheme()?.clone())
    }

    /// The representativeness report of one activity the caller may read: its respondents
    /// against the population of `baseline` areas (its audience's areas when `None`), in
    /// `scheme` (its owner's when `None`). Small numbers are suppressed except for coordinators.
    pub async fn equality_report(
        &self,
        caller: Option<&Actor>,
        id: ConsultationId,
        baseline: Option<Vec<AreaCode>>,
        scheme: Option<&str>,
    ) -> AppResult<(Consultation, EqualityReport)> {
        let c = self.readable_consultation(caller, id).await?;
        let areas = baseline.unwrap_or_else(|| c.plan.audience().areas.clone());
        let population = self.store.baseline(&areas).await?;
        let scheme = match scheme.filter(|s| !s.trim().is_empty()) {
            Some(id) => self.named_scheme("scheme", id).await?,
            None => self.store.organisation_scheme(c.organisation_id).await?,
        };
        let tally = tally(&self.store, &[c.id], &scheme).await?;
        let report = equality_report(
            &scheme,
            &tally,
            &population,
            &ReportSettings::default(),
            suppress_for(caller),
        );
        Ok((c, report))
    }

    /// One representativeness report over a set of activities the caller may read.
    pub async fn equality_set(
        &self,
        caller: Option<&Actor>,
        set: &ActivitySet,
        baseline: &[AreaCode],
        scheme: Option<&str>,
    ) -> AppResult<EqualityReport> {
        let filter = ConsultationFilter {
            organisation: set.organisation.clone(),
            ..Default::default()
        };
        let chosen: Vec<ConsultationId> = self
            .list_all_consultations(caller, &filter)
            .await?
            .iter()
            .filter(|c| {
                set.ids.as_ref().is_none_or(|ids| ids.contains(&c.id))
                    && set.service.as_deref().is_none_or(|s| c.plan.service() == Some(s))
                    && set.year.is_none_or(|y| chrono::Datelike::year(&c.plan.opens_on()) == y)
            })
            .map(|c| c.id)
            .collect();
        let population = self.store.baseline(baseline).await?;
        let scheme = self.report_scheme(scheme, set.organisation.as_deref()).await?;
        let tally = tally(&self.store, &chosen, &scheme).await?;
        Ok(equality_report(
            &scheme,
            &tally,
            &population,
            &ReportSettings::default(),
            suppress_for(caller),
        ))
    }

    /// The groups seldom heard in the last activities of a service or area that the caller
    /// may read, against the population of `baseline` areas.
    pub async fn seldom_heard(
        &self,
        caller: Option<&Actor>,
        run: &RecentRun,
        baseline: &[AreaCode],
        scheme: Option<&str>,
    ) -> AppResult<SeldomHeardReport> {
        let areas = match &run.area {
            None => vec![],
            Some(code) => self.area_hierarchy().await?.related(code).into_iter().collect(),
        };
        let filter = ConsultationFilter {
            organisation: run.organisation.clone(),
            areas,
            statuses: vec![
                Status::Open,
                Status::Closed,
                Status::ResultsPublished,
                Status::Evaluated,
            ],
            order: Order::ByOpening,
            ..Default::default()
        };
        let all: Vec<Consultation> = self
            .list_all_consultations(caller, &filter)
            .await?
            .into_iter()
            .filter(|c| run.service.as_deref().is_none_or(|s| c.plan.service() == Some(s)))
            .collect();
        let skip = all.len().saturating_sub(run.last);
        let activities: Vec<Consultation> = all.into_iter().skip(skip).collect();
        let population = self.store.baseline(baseline).await?;
        let scheme = self.report_scheme(scheme, run.organisation.as_deref()).await?;
        let mut reports = Vec::new();
        for c in &activities {
            let tally = tally(&self.store, &[c.id], &scheme).await?;
            reports.push(equality_report(
                &scheme,
                &tally,
                &population,
                &ReportSettings::default(),
                suppress_for(caller),
            ));
        }
        let partners = self
            .store
            .list_organisations()
            .await?
            .into_iter()
            .filter(|o| o.kind == OrganisationKind::Partner)
            .map(|o| o.slug.to_string())
            .collect();
        Ok(SeldomHeardReport {
            activities,
            seldom_heard: consult_core::seldom_heard(&reports),
            partners,
        })
    }

    /// Stores (or updates) one area's population baseline in the default scheme
    /// (coordinators).
    pub async fn put_baseline(&self, actor: &Actor, input: BaselineRequest) -> AppResult<()> {
        require_coordinator(actor)?;
        let scheme = crate::responses::default_scheme()?;
        let mut e = ValidationErrors::new();
        let areas = self.area_hierarchy().await?;
        let area = match input.area.as_deref().map(AreaCode::parse) {
            Some(Ok(a)) if areas.contains(&a) => Some(a),
            Some(Ok(a)) => {
                e.push("area", format!("unknown area {a}"));
                None
            }
            Some(Err(m)) => {
                e.push("area", m);
                None
            }
            None => {
                e.push("area", "is required");
                None
            }
        };
        let name = input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or_default()
            .to_owned();
        let source = input
            .source
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("unstated")
            .to_owned();
        if input.counts.is_empty() {
            e.push("counts", "give counts for at least one characteristic");
        }
        for (characteristic, categories) in &input.counts {
            let field = format!("counts.{characteristic}");
            match scheme.characteristics.iter().find(|c| &c.key == characteristic) {
                None => e.push(field, format!("unknown characteristic `{characteristic}`")),
                Some(c) => {
                    for category in categories.keys() {
                        if !c.categories.iter().any(|k| &k.key == category) {
                            e.push(
                                format!("{field}.{category}"),
                                format!("unknown category `{category}` for {characteristic}"),
                            );
                        }
                    }
                }
            }
        }
        let Some(area) = area.filter(|_| e.is_empty()) else {
            return Err(AppError::Invalid(e));
        };
        let baseline = Baseline {
            area,
            name,
            source,
            counts: input.counts,
        };
        Ok(self.store.put_baselines(&[baseline], actor, self.now()).await?)
    }

    /// Stores population baselines read from a census file, all in one transaction: every
    /// area must be in the register.
    pub async fn import_baselines(&self, actor: &Actor, baselines: &[Baseline]) -> AppResult<()> {
        require_coordinator(actor)?;
        Ok(self.store.put_baselines(baselines, actor, self.now()).await?)
    }
}

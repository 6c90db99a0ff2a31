//! Equality monitoring: who responded, against the population they were drawn from.
//!
//! Staff see exact figures: coordinators for any set, an organisation's officers for its own
//! activities. Everyone else sees public figures (docs/DOMAIN.md, "Disclosure control"): fixed
//! sets only (a closed activity, a service's or an organisation's year, the partnership's year),
//! in the default scheme, every count perturbed by `consult_core::perturb`, small ones hidden.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::organisations::require_coordinator;
use consult_core::{
    Actor, AreaCode, BaselineCounts, Consultation, ConsultationId, EqualityReport, MonitoringScheme, NoiseSettings,
    OrganisationKind, PublicSet, ReportSettings, SeldomHeard, Status, Tally, ValidationErrors, equality_report,
    public_report,
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
/// Coordinators see every set's exact figures.
fn exact_sets(caller: Option<&Actor>) -> bool {
    caller.is_some_and(Actor::is_coordinator)
}

/// The fixed public set a public request names: a service's, an organisation's or the
/// partnership's year. Lists of activities are for coordinators (two lists differing by one
/// activity would give that activity's figures by subtraction).
fn public_set(set: &ActivitySet) -> AppResult<PublicSet> {
    let mut e = ValidationErrors::new();
    if set.ids.is_some() {
        e.push(
            "ids",
            "public figures cover an activity, a service's or an organisation's year, or the partnership's year; lists of activities need a coordinator's token",
        );
    }
    if set.year.is_none() {
        e.push("year", "is required: public figures cover a year, e.g. 2026");
    }
    if set.service.is_some() && set.organisation.is_none() {
        e.push("service", "name the organisation too");
    }
    let (Some(year), true) = (set.year, e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    Ok(match (&set.organisation, &set.service) {
        (Some(organisation), Some(service)) => PublicSet::Service {
            organisation: organisation.clone(),
            service: service.clone(),
            year,
        },
        (Some(organisation), None) => PublicSet::Organisation {
            organisation: organisation.clone(),
            year,
        },
        _ => PublicSet::Partnership { year },
    })
}

/// A public request may not choose the scheme: public figures are in the default one.
fn public_scheme(requested: Option<&str>) -> AppResult<MonitoringScheme> {
    let default = crate::responses::default_scheme()?;
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default.clone()),
        Some(id) if id == default.key || id == default.id() => Ok(default.clone()),
        Some(_) => Err(AppError::field(
            "scheme",
            "public figures are in the default scheme (census2021); other schemes need a staff token",
        )),
    }
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
        // Its organisation's officers and coordinators see the exact figures, at any time.
        if caller.is_some_and(|a| a.may_change(&c)) {
            let scheme = match scheme.filter(|s| !s.trim().is_empty()) {
                Some(id) => self.named_scheme("scheme", id).await?,
                None => self.store.organisation_scheme(c.organisation_id).await?,
            };
            let tally = tally(&self.store, &[c.id], &scheme).await?;
            let report = equality_report(&scheme, &tally, &population, &ReportSettings::default(), false);
            return Ok((c, report));
        }
        let scheme = public_scheme(scheme)?;
        c.check_public_figures(self.today())?;
        // Who answered is a result of the activity too: as far as its sharing allows.
        crate::consultations::check_shared(&c, caller)?;
        let report = self
            .public_report(&PublicSet::Activity(c.id), &[c.id], &scheme, &population)
            .await?;
        Ok((c, report))
    }

    /// The public report of a fixed set: its perturbed tally (disclosure.rs), small counts hidden.
    async fn public_report(
        &self,
        set: &PublicSet,
        ids: &[ConsultationId],
        scheme: &MonitoringScheme,
        population: &consult_core::BaselineCounts,
    ) -> AppResult<EqualityReport> {
        let exact = tally(&self.store, ids, scheme).await?;
        let key = self.disclosure_key().await?;
        Ok(public_report(
            scheme,
            &exact,
            set,
            &key,
            population,
            &ReportSettings::default(),
            &NoiseSettings::default(),
        ))
    }

    /// The activities of a fixed public set: published, opened in the set's year, all closed;
    /// a conflict while the set is not final (docs/DOMAIN.md, "Disclosure control").
    pub(crate) async fn public_members(&self, set: &PublicSet) -> AppResult<Vec<Consultation>> {
        let (organisation, service, year) = match set {
            PublicSet::Activity(id) => {
                let c = self.readable_consultation(None, *id).await?;
                c.check_public_figures(self.today())?;
                return Ok(vec![c]);
            }
            PublicSet::Service {
                organisation,
                service,
                year,
            } => (Some(organisation.clone()), Some(service.as_str()), *year),
            PublicSet::Organisation { organisation, year } => (Some(organisation.clone()), None, *year),
            PublicSet::Partnership { year } => (None, None, *year),
        };
        let filter = ConsultationFilter {
            organisation,
            from: chrono::NaiveDate::from_ymd_opt(year, 1, 1),
            to: chrono::NaiveDate::from_ymd_opt(year, 12, 31),
            ..Default::default()
        };
        let today = self.today();
        let members: Vec<Consultation> = self
            .list_all_consultations(None, &filter)
            .await?
            .into_iter()
            .filter(|c| {
                chrono::Datelike::year(&c.plan.opens_on()) == year
                    && service.is_none_or(|s| c.plan.service() == Some(s))
            })
            .collect();
        // A year's figures are published once, when they are final: the year is over and
        // every activity that opened in it has closed. Until then each closing would draw new
        // noise for the same people: more looks, and the noise could be averaged away.
        let over = chrono::NaiveDate::from_ymd_opt(year, 12, 31).is_some_and(|end| today > end);
        if let Some(open) = members
            .iter()
            .find(|c| c.check_public_figures(today).is_err())
            .map(|c| c.status_on(today))
        {
            return Err(AppError::Conflict(format!(
                "the {year} figures are published once every activity that opened in {year} has closed; one is still {open}"
            )));
        }
        if !over {
            return Err(AppError::Conflict(format!(
                "the {year} figures are published once the year is over"
            )));
        }
        Ok(members)
    }

    /// The public report of a fixed set whose members are `members`, against the population of
    /// `baseline` areas.
    pub(crate) async fn public_set_report(
        &self,
        set: &PublicSet,
        members: &[Consultation],
        baseline: &[AreaCode],
    ) -> AppResult<EqualityReport> {
        let ids: Vec<ConsultationId> = members.iter().map(|c| c.id).collect();
        let scheme = crate::responses::default_scheme()?;
        let population = self.store.baseline(baseline).await?;
        self.public_report(set, &ids, scheme, &population).await
    }

    /// One representativeness report over a set of activities the caller may read.
    pub async fn equality_set(
        &self,
        caller: Option<&Actor>,
        set: &ActivitySet,
        baseline: &[AreaCode],
        scheme: Option<&str>,
    ) -> AppResult<EqualityReport> {
        if exact_sets(caller) {
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
            return Ok(equality_report(
                &scheme,
                &tally,
                &population,
                &ReportSettings::default(),
                false,
            ));
        }
        public_scheme(scheme)?;
        let fixed = public_set(set)?;
        if let Some(slug) = &set.organisation {
            self.organisation(slug).await.map_err(|e| match e {
                AppError::NotFound(_) => AppError::field("organisation", format!("unknown organisation `{slug}`")),
                other => other,
            })?;
        }
        let members = self.public_members(&fixed).await?;
        self.public_set_report(&fixed, &members, baseline).await
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
        let exact = exact_sets(caller);
        if !exact {
            public_scheme(scheme)?;
        }
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
        let today = self.today();
        let all: Vec<Consultation> = self
            .list_all_consultations(caller, &filter)
            .await?
            .into_iter()
            .filter(|c| run.service.as_deref().is_none_or(|s| c.plan.service() == Some(s)))
            // The public sees figures of closed activities only.
            .filter(|c| exact || c.check_public_figures(today).is_ok())
            .collect();
        let skip = all.len().saturating_sub(run.last);
        let activities: Vec<Consultation> = all.into_iter().skip(skip).collect();
        let population = self.store.baseline(baseline).await?;
        let mut reports = Vec::new();
        if exact {
            let scheme = self.report_scheme(scheme, run.organisation.as_deref()).await?;
            for c in &activities {
                let tally = tally(&self.store, &[c.id], &scheme).await?;
                reports.push(equality_report(
                    &scheme,
                    &tally,
                    &population,
                    &ReportSettings::default(),
                    false,
                ));
            }
        } else {
            let scheme = crate::responses::default_scheme()?;
            for c in &activities {
                let set = PublicSet::Activity(c.id);
                reports.push(self.public_report(&set, &[c.id], scheme, &population).await?);
            }
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
        let name = consult_core::text::optional_line(&mut e, "name", input.name.as_deref(), 200).unwrap_or_default();
        let source = consult_core::text::optional_line(&mut e, "source", input.source.as_deref(), 500)
            .unwrap_or_else(|| "unstated".to_owned());
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

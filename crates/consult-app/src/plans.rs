//! The council-wide consultation plan of a year, compiled from the store: the organisation's
//! service plans and recurring programme set against the activities it registered (rules in
//! `consult_core::compile_plan`).

use crate::App;
use crate::error::{AppError, AppResult};
use crate::organisations::require_coordinator;
use chrono::NaiveDate;
use consult_core::{
    Actor, CouncilPlan, Organisation, PlanReview, ProgrammeItem, ProgrammeItemInput, Registered, ServicePlan,
    ServicePlanInput, ValidationErrors, compile_plan,
};
use consult_store::{ConsultationFilter, Reader, Store, StoreError};

/// The council-wide plan of `org` for `year` as `reader` may see it on `today` (the public sees
/// registered activities once they are published; plans and the programme are public).
pub(crate) async fn council_plan(
    store: &Store,
    org: &Organisation,
    year: i32,
    reader: &Reader,
    today: NaiveDate,
) -> Result<CouncilPlan, StoreError> {
    let plans = store.service_plans(org, year).await?;
    let programme = store.programme(org.id).await?;
    let reviews = store.plan_reviews(org.id, year).await?;
    let filter = ConsultationFilter {
        organisation: Some(org.slug.to_string()),
        from: NaiveDate::from_ymd_opt(year, 1, 1),
        to: NaiveDate::from_ymd_opt(year, 12, 31),
        ..Default::default()
    };
    let registered: Vec<Registered> = store
        .list_all_consultations(&filter, reader, today)
        .await?
        .iter()
        .map(|c| Registered {
            id: c.id,
            service: c.plan.service().unwrap_or("(no service)").to_owned(),
            title: c.plan.title().to_owned(),
            level: c.plan.level(),
            opens_on: c.plan.opens_on(),
            status: c.status_on(today),
        })
        .collect();
    Ok(compile_plan(
        org.slug.as_str(),
        year,
        &plans,
        &programme,
        &registered,
        reviews,
        today,
    ))
}

/// Refuses anyone who may not plan for `org`.
fn require_planner(actor: &Actor, org: &Organisation) -> AppResult<()> {
    if actor.may_write(org.id) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "officers can only plan for their own organisation".into(),
        ))
    }
}

impl App {
    /// Saves a service's annual consultation plan (its officers, coordinators), replacing the
    /// previous version.
    pub async fn save_service_plan(
        &self,
        actor: &Actor,
        organisation: &str,
        year: i32,
        service: &str,
        input: &ServicePlanInput,
    ) -> AppResult<ServicePlan> {
        let org = self.organisation(organisation).await?;
        require_planner(actor, &org)?;
        if !org.services.iter().any(|s| s == service) {
            return Err(AppError::NotFound(format!("{organisation} has no service `{service}`")));
        }
        let plan = ServicePlan::parse(org.slug.as_str(), service, year, input, &actor.name, self.now())?;
        self.store.save_service_plan(org.id, &plan, actor).await?;
        Ok(plan)
    }

    /// A service's plan for a year.
    pub async fn service_plan(&self, organisation: &str, year: i32, service: &str) -> AppResult<ServicePlan> {
        let org = self.organisation(organisation).await?;
        self.store
            .service_plans(&org, year)
            .await?
            .into_iter()
            .find(|p| p.service == service)
            .ok_or_else(|| AppError::NotFound(format!("no {year} plan for {organisation} {service}")))
    }

    /// The council-wide plan of an organisation for a year, as the caller may see it.
    pub async fn council_plan(&self, caller: Option<&Actor>, organisation: &str, year: i32) -> AppResult<CouncilPlan> {
        let org = self.organisation(organisation).await?;
        Ok(council_plan(&self.store, &org, year, &Reader::for_actor(caller), self.today()).await?)
    }

    /// Records (or corrects) a six-monthly review of the council-wide plan (coordinators):
    /// `half` 1 at mid-year, 2 at year end. Returns the plan with it.
    pub async fn review_plan(
        &self,
        actor: &Actor,
        organisation: &str,
        year: i32,
        half: Option<u32>,
        notes: Option<&str>,
    ) -> AppResult<CouncilPlan> {
        require_coordinator(actor)?;
        let org = self.organisation(organisation).await?;
        let mut e = ValidationErrors::new();
        let half = half.filter(|h| matches!(h, 1 | 2));
        if half.is_none() {
            e.push("half", "must be 1 (mid-year) or 2 (year end)");
        }
        let notes = notes.map(str::trim).filter(|n| !n.is_empty());
        match notes {
            None => e.push("notes", "is required: what the review found and decided"),
            Some(n) if n.chars().count() > 5000 => e.push("notes", "must be at most 5000 characters"),
            Some(n) => {
                if let Some(problem) = consult_core::text_problem(n) {
                    e.push("notes", problem);
                }
            }
        }
        let (Some(half), Some(notes)) = (half, notes.filter(|_| e.is_empty())) else {
            return Err(AppError::Invalid(e));
        };
        let review = PlanReview {
            half,
            reviewed_on: self.today(),
            by: actor.name.clone(),
            notes: notes.to_owned(),
        };
        self.store
            .record_plan_review(org.id, year, &review, actor, self.now())
            .await?;
        Ok(council_plan(&self.store, &org, year, &Reader::for_actor(Some(actor)), self.today()).await?)
    }

    /// Replaces an organisation's recurring programme (coordinators): every item's service
    /// must be one of the organisation's.
    pub async fn save_programme(
        &self,
        actor: &Actor,
        organisation: &str,
        items: &[ProgrammeItemInput],
    ) -> AppResult<Vec<ProgrammeItem>> {
        require_coordinator(actor)?;
        let org = self.organisation(organisation).await?;
        let items = ProgrammeItem::parse_all(items)?;
        let mut e = ValidationErrors::new();
        for (i, item) in items.iter().enumerate() {
            if !org.services.iter().any(|s| s == &item.service) {
                e.push(
                    format!("items[{i}].service"),
                    format!("{organisation} has no service `{}`", item.service),
                );
            }
        }
        if !e.is_empty() {
            return Err(AppError::Invalid(e));
        }
        self.store.save_programme(org.id, &items, actor, self.now()).await?;
        Ok(items)
    }

    /// An organisation's recurring programme.
    pub async fn programme(&self, organisation: &str) -> AppResult<Vec<ProgrammeItem>> {
        let org = self.organisation(organisation).await?;
        Ok(self.store.programme(org.id).await?)
    }
}

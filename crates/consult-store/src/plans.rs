//! The council-wide consultation plan of a year, compiled from the store: the organisation's
//! service plans and recurring programme set against the activities it registered (rules in
//! `consult_core::compile_plan`).

use crate::{ConsultationFilter, Reader, Store, StoreError};
use chrono::NaiveDate;
use consult_core::{CouncilPlan, Organisation, Registered, compile_plan};

/// The council-wide plan of `org` for `year` as `reader` may see it on `today` (the public sees
/// registered activities once they are published; plans and the programme are public).
pub async fn council_plan(
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

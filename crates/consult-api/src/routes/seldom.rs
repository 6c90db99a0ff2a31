//! The groups seldom heard across the last activities of a service or an area.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::Caller;
use axum::Json;
use axum::extract::State;
use consult_app::RecentRun;
use serde::Serialize;
use utoipa::ToSchema;

/// Which run of activities to look across.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SeldomQuery {
    /// Owner organisation slug.
    organisation: Option<String>,
    /// Owning service (exact name).
    service: Option<String>,
    /// GSS area code: activities in it, in areas containing it or inside it.
    area: Option<String>,
    /// How many of the most recent activities (default 5, at most 50).
    #[param(value_type = Option<u32>)]
    last: Option<String>,
    /// GSS codes of the baseline areas, comma separated (required).
    baseline: Option<String>,
    /// Monitoring scheme compared in, `key@version` or `key` (default: the organisation's, else
    /// the default scheme; coordinators only: the public compares closed activities' public
    /// figures, in the default scheme).
    scheme: Option<String>,
}

/// One activity of the run.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunItem {
    /// Id.
    id: String,
    /// Title.
    title: String,
    /// Opening date.
    opens_on: chrono::NaiveDate,
}

/// Seldom-heard groups across a run of activities, with outreach options.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SeldomView {
    /// The activities looked at, oldest first.
    activities: Vec<RunItem>,
    /// Categories under-represented in at least half of them (and at least twice).
    seldom_heard: Vec<consult_core::SeldomHeard>,
    /// Partner bodies in the register who could help reach them.
    partners: Vec<String>,
}

/// Seldom-heard groups: categories under-represented across the last activities of an
/// organisation, service or area, as a trend, with outreach options (stakeholder groups, partner
/// bodies). Ratios come from the public (suppressed) view except for coordinators.
#[utoipa::path(get, path = "/api/v1/seldom-heard", tag = "responses", params(SeldomQuery),
    responses((status = 200, body = SeldomView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn seldom(
    State(state): State<AppState>,
    caller: Caller,
    super::ApiQuery(q): super::ApiQuery<SeldomQuery>,
) -> Result<Json<SeldomView>, ApiError> {
    let mut e = consult_core::ValidationErrors::new();
    let last = match q.last.as_deref() {
        None | Some("") => 5,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (2..=50).contains(n))
            .unwrap_or_else(|| {
                e.push("last", "must be a whole number from 2 to 50");
                5
            }),
    };
    let baseline: Vec<consult_core::AreaCode> = match q.baseline.as_deref().filter(|b| !b.trim().is_empty()) {
        None => {
            e.push("baseline", "name the baseline areas (GSS codes, comma separated)");
            vec![]
        }
        Some(list) => list
            .split(',')
            .filter_map(|a| consult_core::AreaCode::parse(a).map_err(|m| e.push("baseline", m)).ok())
            .collect(),
    };
    let area = match q.area.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => consult_core::AreaCode::parse(a).map_err(|m| e.push("area", m)).ok(),
    };
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let run = RecentRun {
        organisation: q.organisation.clone(),
        service: q.service.clone(),
        area,
        last,
    };
    let found = state
        .app
        .seldom_heard(caller.0.as_ref(), &run, &baseline, q.scheme.as_deref())
        .await?;
    Ok(Json(SeldomView {
        activities: found
            .activities
            .iter()
            .map(|c| RunItem {
                id: c.id.to_string(),
                title: c.plan.title().to_owned(),
                opens_on: c.plan.opens_on(),
            })
            .collect(),
        seldom_heard: found.seldom_heard,
        partners: found.partners,
    }))
}

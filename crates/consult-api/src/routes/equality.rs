//! Representativeness reports: who responded against the population, for one activity or a set.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use consult_app::ActivitySet;
use consult_core::{AreaCode, ConsultationId};

/// Baseline areas given as a comma-separated list of GSS codes.
fn area_list(list: &str, errors: &mut consult_core::ValidationErrors) -> Vec<AreaCode> {
    list.split(',')
        .filter_map(|a| AreaCode::parse(a).map_err(|m| errors.push("baseline", m)).ok())
        .collect()
}

/// Which baseline to compare with.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EqualityQuery {
    /// GSS codes of the baseline areas, comma separated (default: the activity's areas).
    baseline: Option<String>,
    /// `json` (default) or `html`: a page with a bar chart of respondents against population.
    format: Option<String>,
    /// Monitoring scheme of the report, `key@version` or `key` (default: the owner's). Staff
    /// only: public figures are in the default scheme.
    scheme: Option<String>,
}

/// The representativeness report of an activity's respondents against a population baseline.
/// The owner's officers and coordinators see every count, at any time. Everyone else sees the
/// public figures once the activity has closed (409 before): in the default scheme, every count
/// perturbed with noise drawn from the deployment's secret key (the same figure on every
/// request), counts below the threshold (zeros too) hidden, and every share, ratio, flag and
/// statistic computed from the perturbed counts (docs/DOMAIN.md, "Disclosure control").
#[utoipa::path(get, path = "/api/v1/consultations/{id}/equality", tag = "responses",
    params(("id" = String, Path, description = "consultation id"), EqualityQuery),
    responses((status = 200, body = consult_core::EqualityReport),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the public asked before the activity closed"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn equality(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    super::ApiQuery(q): super::ApiQuery<EqualityQuery>,
) -> Result<axum::response::Response, ApiError> {
    let html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => return Err(ApiError::field("format", format!("`{other}` is not json or html"))),
    };
    let baseline = match q.baseline.as_deref().filter(|b| !b.trim().is_empty()) {
        None => None,
        Some(list) => Some(
            list.split(',')
                .map(|a| AreaCode::parse(a).map_err(|m| ApiError::field("baseline", m)))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let (c, report) = state
        .app
        .equality_report(caller.0.as_ref(), id, baseline, q.scheme.as_deref())
        .await?;
    if html {
        let page = crate::chart::page(c.plan.title(), &report);
        return Ok(([(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response());
    }
    Ok(Json(report).into_response())
}

/// Which activities a combined report covers.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SetQuery {
    /// Owner organisation slug.
    organisation: Option<String>,
    /// Owning service (exact name).
    service: Option<String>,
    /// Year the activities opened in (required for public figures).
    #[param(value_type = Option<i32>)]
    year: Option<String>,
    /// Activity ids, comma separated (coordinators only).
    ids: Option<String>,
    /// GSS codes of the baseline areas, comma separated (required).
    baseline: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// Monitoring scheme of the report, `key@version` or `key` (default: the organisation's,
    /// else the default scheme; coordinators only). Answers given under other schemes are
    /// translated where their categories map onto it and counted as not comparable where they
    /// do not.
    scheme: Option<String>,
}

/// The representativeness report over a set of activities combined; as JSON or CSV.
/// Coordinators choose any set (an organisation, a service, a year, a list of ids) and see every
/// count. The public sees fixed sets only (a service's or an organisation's year, or the
/// partnership's year: the closed activities that opened in it) with the public figures'
/// disclosure control (docs/DOMAIN.md, "Disclosure control").
#[utoipa::path(get, path = "/api/v1/equality", tag = "responses", params(SetQuery),
    responses((status = 200, body = consult_core::EqualityReport),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the public asked for a year whose figures are not final"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn equality_set(
    State(state): State<AppState>,
    caller: Caller,
    super::ApiQuery(q): super::ApiQuery<SetQuery>,
) -> Result<axum::response::Response, ApiError> {
    let mut e = consult_core::ValidationErrors::new();
    let year = match q.year.as_deref().filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => y
            .parse::<i32>()
            .map_err(|_| e.push("year", "must be a year, e.g. 2026"))
            .ok(),
    };
    let baseline: Vec<AreaCode> = match q.baseline.as_deref().filter(|b| !b.trim().is_empty()) {
        None => {
            e.push("baseline", "name the baseline areas (GSS codes, comma separated)");
            vec![]
        }
        Some(list) => area_list(list, &mut e),
    };
    let csv_out = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            e.push("format", format!("`{other}` is not json or csv"));
            false
        }
    };
    let ids: Option<Vec<ConsultationId>> = q.ids.as_deref().map(|list| {
        list.split(',')
            .filter_map(|s| {
                s.trim()
                    .parse()
                    .map_err(|_| e.push("ids", format!("`{s}` is not an id")))
                    .ok()
            })
            .collect()
    });
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let set = ActivitySet {
        organisation: q.organisation.clone(),
        service: q.service.clone(),
        year,
        ids,
    };
    let report = state
        .app
        .equality_set(caller.0.as_ref(), &set, &baseline, q.scheme.as_deref())
        .await?;
    if !csv_out {
        return Ok(Json(report).into_response());
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let cell = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    let _ = w.write_record([
        "characteristic",
        "category",
        "respondents",
        "suppressed",
        "share",
        "population_share",
        "ratio",
        "flag",
    ]);
    for c in &report.characteristics {
        for k in &c.categories {
            let flag = match k.flag {
                Some(consult_core::Flag::Under) => "under",
                Some(consult_core::Flag::Over) => "over",
                None => "",
            };
            let _ = w.write_record([
                consult_app::render::neutralise(&c.characteristic),
                consult_app::render::neutralise(&k.category),
                k.respondents.map(|n| n.to_string()).unwrap_or_default(),
                k.suppressed.to_string(),
                cell(k.share),
                cell(k.population_share),
                cell(k.ratio),
                flag.to_owned(),
            ]);
        }
    }
    let body = w.into_inner().map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
}

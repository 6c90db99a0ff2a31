//! Public reports: the annual review of consultation and engagement.

use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use consult_app::ReviewScope;
use consult_app::render::{review_csv, review_html};
use consult_core::EngagementReview;

/// Which review.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReviewQuery {
    /// The year (required), e.g. 2026.
    #[param(value_type = i32)]
    year: Option<String>,
    /// One organisation's activities (slug).
    organisation: Option<String>,
    /// A ward, division or other area (GSS code): activities in it, in areas containing it or
    /// inside it (the councillors' view).
    area: Option<String>,
    /// The quarter (1 to 4) for the quarterly update; leave out for the annual review.
    #[param(value_type = Option<u32>)]
    quarter: Option<String>,
    /// `json` (default), `csv` or `html`.
    format: Option<String>,
}

/// How a report is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportFormat {
    Json,
    Csv,
    Html,
}

impl ReportFormat {
    /// Parses `json`, `csv` or `html` (absent: JSON).
    pub(crate) fn parse(s: Option<&str>) -> Result<ReportFormat, String> {
        match s {
            None | Some("") | Some("json") => Ok(ReportFormat::Json),
            Some("csv") => Ok(ReportFormat::Csv),
            Some("html") => Ok(ReportFormat::Html),
            Some(other) => Err(format!("`{other}` is not json, csv or html")),
        }
    }
}

/// The annual review of consultation and engagement (T 6.5, O action 6): activities by level,
/// service, method and area; "you said, we did" highlights; what was not done and why; the
/// measures of success; who responded against the population. Published activities only, small
/// numbers suppressed: it is a public document. JSON, CSV or an HTML page.
#[utoipa::path(get, path = "/api/v1/reports/annual", tag = "feedback", params(ReviewQuery),
    responses((status = 200, body = EngagementReview),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn annual(
    State(state): State<AppState>,
    super::ApiQuery(q): super::ApiQuery<ReviewQuery>,
) -> Result<Response, ApiError> {
    if q.quarter.as_deref().is_some_and(|x| !x.is_empty()) {
        return Err(ApiError::field(
            "quarter",
            "the annual review covers the whole year; see /reports/quarterly",
        ));
    }
    review(state, q, false).await
}

/// The quarterly update for councillors and managers (O action 25, R24): the same review for a
/// quarter, usually filtered to a ward or division with `area`. Published activities only.
#[utoipa::path(get, path = "/api/v1/reports/quarterly", tag = "feedback", params(ReviewQuery),
    responses((status = 200, body = EngagementReview),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn quarterly(
    State(state): State<AppState>,
    super::ApiQuery(q): super::ApiQuery<ReviewQuery>,
) -> Result<Response, ApiError> {
    review(state, q, true).await
}

async fn review(state: AppState, q: ReviewQuery, quarterly: bool) -> Result<Response, ApiError> {
    let mut e = consult_core::ValidationErrors::new();
    let year = match q.year.as_deref().map(str::trim) {
        None | Some("") => {
            e.push("year", "is required, e.g. 2026");
            None
        }
        Some(y) => y.parse::<i32>().ok().filter(|y| (1990..=2200).contains(y)).or_else(|| {
            e.push("year", "must be a year, e.g. 2026");
            None
        }),
    };
    let format = ReportFormat::parse(q.format.as_deref())
        .map_err(|m| e.push("format", m))
        .ok();
    let area = match q.area.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => consult_core::AreaCode::parse(a).map_err(|m| e.push("area", m)).ok(),
    };
    let quarter = match (quarterly, q.quarter.as_deref().map(str::trim)) {
        (false, _) => None,
        (true, None | Some("")) => {
            e.push("quarter", "is required: 1 to 4");
            None
        }
        (true, Some(x)) => x.parse::<u32>().ok().filter(|n| (1..=4).contains(n)).or_else(|| {
            e.push("quarter", "must be 1, 2, 3 or 4");
            None
        }),
    };
    let (Some(year), Some(format)) = (year, format) else {
        return Err(ApiError::Invalid(e));
    };
    let period = match quarter {
        Some(n) => consult_core::Period::quarter(year, n),
        None if quarterly => None,
        None => consult_core::Period::year(year),
    };
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let organisation = q.organisation.filter(|o| !o.is_empty());
    let scope = ReviewScope { organisation, area };
    let Some(period) = period else {
        return Err(ApiError::Invalid(e));
    };
    let review = state.app.engagement_review(period, &scope).await?;
    Ok(match format {
        ReportFormat::Json => Json(review).into_response(),
        ReportFormat::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            review_csv(&review).map_err(|e| ApiError::Internal(e.to_string()))?,
        )
            .into_response(),
        ReportFormat::Html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            review_html(&review),
        )
            .into_response(),
    })
}

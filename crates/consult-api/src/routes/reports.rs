//! Public reports: the annual review of consultation and engagement.

use crate::AppState;
use crate::chart::{document, escape, sections};
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use consult_core::EngagementReview;
use consult_store::review::ReviewScope;
use std::fmt::Write;

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
    if let Some(slug) = &organisation {
        if state.store.get_organisation(slug).await?.is_none() {
            return Err(ApiError::NotFound(format!("no organisation `{slug}`")));
        }
    }
    let scope = ReviewScope { organisation, area };
    let Some(period) = period else {
        return Err(ApiError::Invalid(e));
    };
    let review = consult_store::review::review(&state.store, period, &scope, state.clock.today()).await?;
    Ok(match format {
        ReportFormat::Json => Json(review).into_response(),
        ReportFormat::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            review_csv(&review)?,
        )
            .into_response(),
        ReportFormat::Html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            review_html(&review),
        )
            .into_response(),
    })
}

/// The review as CSV: `section,name,value`, text cells neutralised against formula injection.
pub fn review_csv(review: &EngagementReview) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::Internal(e.to_string());
    w.write_record(["section", "name", "value"]).map_err(fail)?;
    for row in consult_core::review_rows(review) {
        w.write_record(row.iter().map(|c| neutralise(c))).map_err(fail)?;
    }
    w.into_inner().map_err(|e| ApiError::Internal(e.to_string()))
}

/// Prefixes a cell a spreadsheet would read as a formula with an apostrophe.
fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

fn table(out: &mut String, caption: &str, map: &std::collections::BTreeMap<String, u64>) {
    let _ = write!(
        out,
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">What</th><th scope=\"col\">Activities</th></tr></thead><tbody>",
        escape(caption)
    );
    for (k, v) in map {
        let _ = write!(out, "<tr><td>{}</td><td>{v}</td></tr>", escape(k));
    }
    out.push_str("</tbody></table>");
}

/// "annual review 2026" or "quarterly update, quarter 3 2026".
fn title(r: &EngagementReview) -> String {
    match r.period.quarter {
        Some(q) => format!("quarterly update, quarter {q} {}", r.year),
        None => format!("annual review {}", r.year),
    }
}

/// The review as a page: summary, measures, what was asked, you said / we did, not done and why,
/// and who responded with its chart. Every value escaped.
pub fn review_html(r: &EngagementReview) -> String {
    document(&title(r), &review_body(r))
}

/// The review's content, headed by its `h1`, for a page of its own or the hub's: every value
/// escaped.
pub fn review_body(r: &EngagementReview) -> String {
    let m = &r.measures;
    let pct = |x: Option<f64>| x.map_or_else(|| "none due".to_owned(), |v| format!("{:.0}%", v * 100.0));
    let money = |x: f64| format!("£{x:.2}");
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Consultation and engagement: {title}</h1><p>Covering {scope}, {from} to {to}, as of {as_of}.</p>\
         <section><h2>The year in numbers</h2><ul>\
         <li>{acts} activities; {resp} responses to {with} of them</li>\
         <li>{methods} methods and {levels} levels of involvement used</li>\
         <li>Feedback published on time: {on_time} of {due} ({share}); {overdue} overdue</li>\
         <li>Recorded cost {cost}; cost per response {cpr}; paper and telephone surveys {paper}</li>\
         <li>Overlapping activities considered and answered: {dismissed}</li>\
         <li>Debriefs: {debriefs}; in the external evaluation sample: {external}</li>\
         <li>About how activities were run: {comments} comments, {compliments} compliments, {complaints} complaints ({resolved} resolved)</li></ul></section>",
        title = escape(&title(r)),
        from = r.period.from,
        to = r.period.to,
        scope = escape(&r.scope),
        as_of = r.as_of,
        acts = r.activities,
        resp = m.responses,
        with = m.activities_with_responses,
        methods = m.methods_used,
        levels = m.levels_used,
        on_time = m.feedback_on_time,
        due = m.feedback_due,
        share = pct(m.feedback_on_time_share),
        overdue = m.feedback_overdue,
        cost = money(m.cost),
        cpr = m.cost_per_response.map_or_else(|| "not known".to_owned(), money),
        paper = money(m.paper_and_phone_survey_cost),
        dismissed = m.overlap_findings_dismissed,
        debriefs = m.debriefs,
        external = m.external_evaluations,
        comments = r.remarks.comments,
        compliments = r.remarks.compliments,
        complaints = r.remarks.complaints,
        resolved = r.remarks.complaints_resolved,
    );
    b.push_str("<section><h2>What we asked</h2>");
    table(&mut b, "By level of involvement", &r.by_level);
    table(&mut b, "By organisation and service", &r.by_service);
    table(&mut b, "By method", &r.by_method);
    table(&mut b, "By area", &r.by_area);
    table(&mut b, "By status", &r.by_status);
    b.push_str("</section><section><h2>You said, we did</h2>");
    if r.you_said_we_did.is_empty() {
        b.push_str("<p>No feedback was published for this year's activities.</p>");
    }
    for t in &r.you_said_we_did {
        let _ = write!(
            b,
            "<article><h3>{}: {}</h3><p><strong>You said:</strong> {}</p><p><strong>We did:</strong> {}</p></article>",
            escape(&t.title),
            escape(&t.theme),
            escape(&t.you_said),
            escape(&t.response)
        );
    }
    b.push_str("</section><section><h2>What we did not do, and why</h2>");
    if r.not_done.is_empty() {
        b.push_str("<p>Nothing was recorded as not done.</p>");
    }
    for t in &r.not_done {
        let _ = write!(
            b,
            "<article><h3>{}: {}</h3><p><strong>You said:</strong> {}</p><p><strong>We did not:</strong> {}</p><p><strong>Because:</strong> {}</p></article>",
            escape(&t.title),
            escape(&t.theme),
            escape(&t.you_said),
            escape(&t.response),
            escape(t.reason.as_deref().unwrap_or_default())
        );
    }
    b.push_str("</section><section><h2>What we learned</h2>");
    if r.learning_points.is_empty() {
        b.push_str("<p>No debrief recorded a learning point.</p>");
    } else {
        b.push_str("<ul>");
        for l in &r.learning_points {
            let _ = write!(b, "<li>{} ({})</li>", escape(&l.point), escape(&l.title));
        }
        b.push_str("</ul>");
    }
    let _ = write!(
        b,
        "</section><section><h2>Who responded</h2><p>{} responses. Dark bars: share of respondents who answered; light bars: share of the population. Counts below 5 are suppressed.</p>",
        r.equality.respondents
    );
    b.push_str(&sections(&r.equality, 3));
    b.push_str("</section>");
    b
}

//! The results library, an activity's answers per question once its results are published, and
//! the annual review.

use super::forms::{field_error, next_link};
use super::text::{ENGLISH, Text};
use super::{not_found, page, public_activity};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

/// One activity in the results library as shown.
#[derive(Debug)]
struct ResultCard {
    id: String,
    title: String,
    organisation: String,
    published_on: Option<NaiveDate>,
    summary: Option<String>,
    themes: usize,
    documents: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "results.html")]
struct ResultsPage {
    text: &'static Text,
    errors: Vec<(String, String)>,
    q: String,
    topic: String,
    year: String,
    results: Vec<ResultCard>,
    next: Option<String>,
}

/// Filters of the results library, as its form sends them.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ResultsForm {
    q: Option<String>,
    topic: Option<String>,
    year: Option<String>,
    cursor: Option<String>,
}

/// The results library: published results, searchable by words, topic and year.
pub(super) async fn results(
    State(state): State<AppState>,
    Query(form): Query<ResultsForm>,
) -> Result<Response, ApiError> {
    let query = crate::routes::library::LibraryQuery {
        q: form.q.clone(),
        topic: form.topic.clone(),
        year: form.year.clone(),
        cursor: form.cursor.clone(),
        ..Default::default()
    };
    let (errors, found) = match crate::routes::library::find(&state, query).await {
        Ok(found) => (Vec::new(), Some(found)),
        Err(ApiError::Invalid(e)) => (e.errors().iter().map(field_error).collect(), None),
        Err(other) => return Err(other),
    };
    let orgs = state.app.list_organisations().await?;
    let (entries, next) = found.map_or_else(Default::default, |f| (f.entries, f.next.map(|c| c.encode())));
    let results = entries
        .into_iter()
        .map(|e| ResultCard {
            id: e.consultation.id.to_string(),
            title: e.consultation.plan.title().to_owned(),
            organisation: orgs
                .iter()
                .find(|o| o.id == e.consultation.organisation_id)
                .map_or_else(|| e.consultation.plan.organisation().to_string(), |o| o.name.clone()),
            published_on: e.feedback.as_ref().and_then(|f| f.published_on),
            summary: e.feedback.as_ref().and_then(|f| f.summary.clone()),
            themes: e.feedback.map_or(0, |f| f.items.len()),
            documents: e.documents.into_iter().map(|d| (d.id.to_string(), d.title)).collect(),
        })
        .collect();
    let next = next.map(|cursor| {
        next_link(
            "/results",
            cursor,
            &[("q", &form.q), ("topic", &form.topic), ("year", &form.year)],
        )
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut res = page(&ResultsPage {
        text: &ENGLISH,
        errors,
        q: form.q.unwrap_or_default(),
        topic: form.topic.unwrap_or_default(),
        year: form.year.unwrap_or_default(),
        results,
        next,
    })?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    text: &'static Text,
    title: String,
    /// The review's content, every value escaped by `review_body`.
    body: String,
    years: Vec<i32>,
}

/// The annual review of the current year so far.
pub(super) async fn annual_review_now(State(state): State<AppState>) -> Result<Response, ApiError> {
    review_page(&state, chrono::Datelike::year(&state.app.today())).await
}

/// The annual review of a year: what was asked, you said / we did, what was not done and why,
/// measures, and who responded against the population with its chart (small numbers suppressed).
pub(super) async fn annual_review(
    State(state): State<AppState>,
    Path(year): Path<String>,
) -> Result<Response, ApiError> {
    let this_year = chrono::Datelike::year(&state.app.today());
    match year.parse::<i32>() {
        Ok(y) if (1990..=this_year).contains(&y) => review_page(&state, y).await,
        _ => not_found(),
    }
}

async fn review_page(state: &AppState, year: i32) -> Result<Response, ApiError> {
    let Some(period) = consult_core::Period::year(year) else {
        return not_found();
    };
    let review = state
        .app
        .engagement_review(period, &consult_app::ReviewScope::default())
        .await?;
    let this_year = chrono::Datelike::year(&state.app.today());
    page(&ReviewPage {
        text: &ENGLISH,
        title: format!("{} {year}", ENGLISH.review_title),
        body: consult_app::render::review_body(&review),
        years: (this_year - 4..=this_year).rev().filter(|y| *y != year).collect(),
    })
}

#[derive(Template)]
#[template(path = "answers.html")]
struct AnswersPage {
    text: &'static Text,
    id: String,
    title: String,
    respondents: u64,
    note: &'static str,
    errors: Vec<(String, String)>,
    /// The characteristic chosen to break the answers down by ("" for none).
    by: String,
    /// The owner's monitoring characteristics: (key, label).
    characteristics: Vec<(String, String)>,
    /// The charts and tables, every value escaped by `analysis_sections`.
    body: String,
}

/// The public analysis of a published activity and its questionnaire, if the public may see
/// them: its results are published and it has a questionnaire (`None` otherwise).
pub(super) async fn public_answers(
    state: &AppState,
    id: consult_core::ConsultationId,
) -> Result<Option<(consult_core::Analysis, consult_core::Questionnaire)>, ApiError> {
    let analysis = match state.app.analysis(None, id, None).await {
        Ok(a) if !a.questions.is_empty() => a,
        // Not out yet, not there, or not shared with the public (the activity's page says so).
        Ok(_)
        | Err(
            consult_app::AppError::Conflict(_)
            | consult_app::AppError::NotFound(_)
            | consult_app::AppError::Unauthenticated(_),
        ) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match state.app.questionnaire(None, id).await {
        Ok(q) => Ok(Some((analysis, q))),
        Err(consult_app::AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The breakdown chosen on the page of what people answered.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AnswersForm {
    by: Option<String>,
}

/// What people answered to each question of a published activity's questionnaire, once its
/// results are published: per question a bar chart with a table of the same public figures
/// (perturbed, small counts said as "fewer than 5"), free text only counted with the themes the
/// public analysis lists; optionally broken down by one of the owner's monitoring
/// characteristics or by area (a table per question of groups by answers, public figures too). Not found
/// before, or without a questionnaire; an unknown characteristic is an error beside the choice.
pub(super) async fn activity_answers(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(form): Query<AnswersForm>,
) -> Result<Response, ApiError> {
    let Some(c) = public_activity(&state, &id).await? else {
        return not_found();
    };
    let Some((mut a, questionnaire)) = public_answers(&state, c.id).await? else {
        return not_found();
    };
    let by = form.by.unwrap_or_default().trim().to_owned();
    let mut errors = Vec::new();
    if !by.is_empty() {
        match state.app.analysis(None, c.id, Some(&by)).await {
            Ok(broken_down) => a = broken_down,
            Err(consult_app::AppError::Invalid(e)) => errors = e.errors().iter().map(field_error).collect(),
            Err(e) => return Err(e.into()),
        }
    }
    let t = &ENGLISH;
    // The owner's monitoring characteristics, then where respondents live.
    let characteristics = state
        .app
        .organisation_scheme(c.organisation_id)
        .await?
        .characteristics
        .into_iter()
        .map(|ch| (ch.key, ch.label))
        .chain([("area".to_owned(), t.answers_by_area.to_owned())])
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut res = page(&AnswersPage {
        text: t,
        id: c.id.to_string(),
        title: format!("{}: {}", t.answers_title, c.plan.title()),
        respondents: a.respondents,
        note: consult_app::analysis_render::analysis_note(&a, &t.analysis),
        errors,
        by,
        characteristics,
        body: consult_app::analysis_render::analysis_sections(&a, Some(&questionnaire), 2, &t.analysis),
    })?;
    *res.status_mut() = status;
    Ok(res)
}

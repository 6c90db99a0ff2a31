//! The principles checklist: assessments, attestations, frameworks and each organisation's
//! choice of them.

use super::consultations::load_for_write;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller};
use crate::views::Items;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::NaiveDate;
use consult_core::{Assessment, Attestation, AttestationInput, ElectionPeriod, Framework, FrameworkCatalogue, Status};
use consult_store::ChecklistSettings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The principles checklist of an activity against the frameworks its organisation has adopted.
/// Owner officers and coordinators.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/assessment", tag = "checklist",
    params(("id" = String, Path, description = "consultation id")), security(("bearer" = [])),
    responses((status = 200, body = Assessment),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Assessment>, ApiError> {
    let (c, _) = load_for_write(&state, &id, caller).await?;
    Ok(Json(state.overlap.assess(&state.store, &c, state.clock.today()).await?))
}

/// Answers to checks that need a person's evidence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttestationsInput {
    /// One answer per check.
    #[serde(default)]
    answers: Vec<AttestationInput>,
}

/// Answer attestations (and justify a shorter duration) before approval. Owner officers and
/// coordinators; drafts and submitted activities. Returns the new assessment.
#[utoipa::path(put, path = "/api/v1/consultations/{id}/attestations", tag = "checklist",
    params(("id" = String, Path, description = "consultation id")), request_body = AttestationsInput,
    security(("bearer" = [])),
    responses((status = 200, body = Assessment),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_attestations(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AttestationsInput>,
) -> Result<Json<Assessment>, ApiError> {
    let (c, actor) = load_for_write(&state, &id, caller).await?;
    let today = state.clock.today();
    let status = c.status_on(today);
    if !matches!(status, Status::Draft | Status::Submitted) {
        return Err(ApiError::Conflict(format!(
            "answers can be given before approval only; this activity is {status}"
        )));
    }
    let (catalogue, settings) = state.store.applicable_frameworks(c.organisation_id).await?;
    let frameworks: Vec<&Framework> = settings.frameworks.iter().filter_map(|k| catalogue.get(k)).collect();
    let answers = Attestation::parse_all(input.answers, &frameworks, &actor.name, state.clock.now())?;
    state.store.record_attestations(c.id, &answers, &actor).await?;
    Ok(Json(state.overlap.assess(&state.store, &c, today).await?))
}

/// Every version of every framework, built in and added.
#[utoipa::path(get, path = "/api/v1/frameworks", tag = "checklist", responses((status = 200, body = Items<Framework>)))]
pub(crate) async fn list_frameworks(State(state): State<AppState>) -> Result<Json<Items<Framework>>, ApiError> {
    Ok(Json(Items {
        items: state.store.framework_catalogue().await?.all().to_vec(),
    }))
}

/// The newest version of one framework.
#[utoipa::path(get, path = "/api/v1/frameworks/{key}", tag = "checklist",
    params(("key" = String, Path, description = "framework key")),
    responses((status = 200, body = Framework), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_framework(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Framework>, ApiError> {
    state
        .store
        .framework_catalogue()
        .await?
        .get(&key)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no framework `{key}`")))
}

/// Add an organisation's own framework, or a new version of one. Coordinators. The version is
/// assigned (previous + 1); older versions are kept so past assessments stay explainable.
#[utoipa::path(post, path = "/api/v1/frameworks", tag = "checklist", request_body = Framework,
    security(("bearer" = [])),
    responses((status = 201, body = Framework),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_framework(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<impl IntoResponse, ApiError> {
    // Who is calling before what they sent: nobody learns the shape of a framework by posting.
    let actor = caller.coordinator()?;
    let mut framework: Framework = crate::extract::from_value(body)?;
    framework.version = 1;
    framework.validate()?;
    if FrameworkCatalogue::is_builtin(&framework.key) {
        return Err(ApiError::Conflict(format!(
            "`{}` is a built-in framework; add yours under another key",
            framework.key
        )));
    }
    let stored = state.store.add_framework(&framework, &actor, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// An organisation's checklist: the frameworks it has adopted and its pre-election periods.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct ChecklistView {
    /// Framework keys (the newest version of each applies).
    frameworks: Vec<String>,
    /// Periods in which activities should not launch.
    election_periods: Vec<ElectionPeriod>,
}

/// A pre-election period as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ElectionPeriodInput {
    /// Name.
    name: Option<String>,
    /// First day (YYYY-MM-DD).
    #[schema(value_type = Option<String>, format = Date)]
    starts_on: Option<String>,
    /// Last day, the polling day (YYYY-MM-DD).
    #[schema(value_type = Option<String>, format = Date)]
    ends_on: Option<String>,
}

/// New checklist settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChecklistInput {
    /// Framework keys to adopt.
    #[serde(default)]
    frameworks: Vec<String>,
    /// Pre-election periods.
    #[serde(default)]
    election_periods: Vec<ElectionPeriodInput>,
}

/// An organisation's checklist settings.
#[utoipa::path(get, path = "/api/v1/organisations/{slug}/checklist", tag = "checklist",
    params(("slug" = String, Path, description = "organisation slug")),
    responses((status = 200, body = ChecklistView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_checklist(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<ChecklistView>, ApiError> {
    let org = super::organisation(&state, &slug).await?;
    let s = state.store.checklist_settings(org.id).await?;
    Ok(Json(ChecklistView {
        frameworks: s.frameworks,
        election_periods: s.election_periods,
    }))
}

/// Choose the frameworks that apply to an organisation's activities and set its pre-election
/// periods. Coordinators.
#[utoipa::path(put, path = "/api/v1/organisations/{slug}/checklist", tag = "checklist",
    params(("slug" = String, Path, description = "organisation slug")), request_body = ChecklistInput,
    security(("bearer" = [])),
    responses((status = 200, body = ChecklistView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_checklist(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<ChecklistInput>,
) -> Result<Json<ChecklistView>, ApiError> {
    let actor = caller.coordinator()?;
    let org = super::organisation(&state, &slug).await?;
    let catalogue = state.store.framework_catalogue().await?;
    let mut e = consult_core::ValidationErrors::new();
    let mut frameworks: Vec<String> = Vec::new();
    if input.frameworks.is_empty() {
        e.push("frameworks", "adopt at least one framework");
    }
    for (i, k) in input.frameworks.iter().enumerate() {
        if catalogue.get(k).is_none() {
            e.push(format!("frameworks[{i}]"), format!("unknown framework `{k}`"));
        } else if !frameworks.contains(k) {
            frameworks.push(k.clone());
        }
    }
    frameworks.sort();
    let mut periods = Vec::new();
    for (i, p) in input.election_periods.into_iter().enumerate() {
        let f = format!("election_periods[{i}]");
        let date = |e: &mut consult_core::ValidationErrors, name: &str, v: Option<&str>| match v
            .map(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d"))
        {
            Some(Ok(d)) => Some(d),
            _ => {
                e.push(format!("{f}.{name}"), "must be a date in the form YYYY-MM-DD");
                None
            }
        };
        let starts = date(&mut e, "starts_on", p.starts_on.as_deref());
        let ends = date(&mut e, "ends_on", p.ends_on.as_deref());
        let name = p
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().count() <= 200);
        if name.is_none() {
            e.push(format!("{f}.name"), "is required (at most 200 characters)");
        }
        match (name, starts, ends) {
            (Some(name), Some(s), Some(end)) if end >= s => periods.push(ElectionPeriod {
                name: name.to_owned(),
                starts_on: s,
                ends_on: end,
            }),
            (_, Some(_), Some(_)) => e.push(format!("{f}.ends_on"), "must be on or after starts_on"),
            _ => {}
        }
    }
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let settings = ChecklistSettings {
        frameworks,
        election_periods: periods,
    };
    state
        .store
        .set_checklist_settings(&org, &settings, &actor, state.clock.now())
        .await?;
    Ok(Json(ChecklistView {
        frameworks: settings.frameworks,
        election_periods: settings.election_periods,
    }))
}

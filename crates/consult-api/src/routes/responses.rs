//! Responses to open activities, with optional equality-monitoring answers.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use consult_core::{ConsultationId, MonitoringScheme, Response, ResponseInput, Status};
use serde::Serialize;
use std::sync::OnceLock;
use utoipa::ToSchema;
use uuid::Uuid;

/// The default monitoring scheme, parsed once: what baselines are counted in.
fn default_scheme() -> Result<&'static MonitoringScheme, ApiError> {
    static SCHEME: OnceLock<Result<MonitoringScheme, String>> = OnceLock::new();
    SCHEME
        .get_or_init(MonitoringScheme::census2021)
        .as_ref()
        .map_err(|e| ApiError::Internal(format!("monitoring scheme: {e}")))
}

/// A stored scheme named in a request (`key@version`, or `key` for the latest), or a 422 on
/// `field`.
async fn named_scheme(state: &AppState, field: &str, id: &str) -> Result<MonitoringScheme, ApiError> {
    state
        .store
        .monitoring_scheme(id.trim())
        .await?
        .ok_or_else(|| ApiError::field(field, format!("no monitoring scheme `{id}`")))
}

/// The scheme a report is given in: the one asked for, else the organisation's, else the default.
async fn report_scheme(
    state: &AppState,
    requested: Option<&str>,
    organisation: Option<&str>,
) -> Result<MonitoringScheme, ApiError> {
    if let Some(id) = requested.filter(|s| !s.trim().is_empty()) {
        return named_scheme(state, "scheme", id).await;
    }
    if let Some(slug) = organisation.filter(|s| !s.is_empty()) {
        if let Some(org) = state.store.get_organisation(slug).await? {
            return Ok(state.store.organisation_scheme(org.id).await?);
        }
    }
    Ok(default_scheme()?.clone())
}

/// Whose questions to show.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SchemeQuery {
    /// Organisation slug: the scheme it asks its respondents.
    organisation: Option<String>,
    /// Consultation id: the scheme its owner asks (what a response to it is checked against).
    consultation: Option<String>,
}

/// The monitoring questions and their categories: the default (Census 2021 based) scheme, or
/// the one an organisation or an activity's owner asks. Every question also takes
/// `prefer_not_to_say`.
#[utoipa::path(get, path = "/api/v1/monitoring-scheme", tag = "responses", params(SchemeQuery),
    responses((status = 200, body = MonitoringScheme),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn monitoring_scheme(
    State(state): State<AppState>,
    super::ApiQuery(q): super::ApiQuery<SchemeQuery>,
) -> Result<Json<MonitoringScheme>, ApiError> {
    if let Some(id) = q.consultation.as_deref().filter(|s| !s.is_empty()) {
        let not_found = || ApiError::NotFound(format!("no consultation `{id}`"));
        let cid: ConsultationId = id.parse().map_err(|_| not_found())?;
        let c = state.store.get_consultation(cid).await?.ok_or_else(not_found)?;
        if !c.status_on(state.clock.today()).is_public() {
            return Err(not_found());
        }
        return Ok(Json(state.store.organisation_scheme(c.organisation_id).await?));
    }
    if let Some(slug) = q.organisation.as_deref().filter(|s| !s.is_empty()) {
        let org = state
            .store
            .get_organisation(slug)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no organisation `{slug}`")))?;
        return Ok(Json(state.store.organisation_scheme(org.id).await?));
    }
    Ok(Json(default_scheme()?.clone()))
}

/// Every monitoring scheme: the default, then organisations' own, every version.
#[utoipa::path(get, path = "/api/v1/monitoring-schemes", tag = "responses",
    responses((status = 200, body = Vec<MonitoringScheme>)))]
pub(crate) async fn list_schemes(State(state): State<AppState>) -> Result<Json<Vec<MonitoringScheme>>, ApiError> {
    Ok(Json(state.store.monitoring_schemes().await?))
}

/// One monitoring scheme: `key@version`, or `key` for its latest version.
#[utoipa::path(get, path = "/api/v1/monitoring-schemes/{id}", tag = "responses",
    params(("id" = String, Path, description = "`key@version` or `key`")),
    responses((status = 200, body = MonitoringScheme),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_scheme(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MonitoringScheme>, ApiError> {
    state
        .store
        .monitoring_scheme(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no monitoring scheme `{id}`")))
}

/// Add an organisation's own monitoring scheme, or a new version of one: its own bands and merged
/// categories, each saying which default (Census 2021) categories it covers, so baselines roll up
/// and answers given under other schemes translate. Coordinators.
#[utoipa::path(post, path = "/api/v1/monitoring-schemes", tag = "responses", request_body = consult_core::SchemeInput,
    security(("bearer" = [])),
    responses((status = 201, body = MonitoringScheme),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_scheme(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<consult_core::SchemeInput>,
) -> Result<(StatusCode, Json<MonitoringScheme>), ApiError> {
    let actor = caller.coordinator()?;
    let scheme = MonitoringScheme::parse_own(input, default_scheme()?, 0)?;
    let stored = state
        .store
        .add_monitoring_scheme(&scheme, &actor, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Which scheme an organisation adopts.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdoptScheme {
    /// `key@version`, or `key` for its latest version; `census2021` returns to the default.
    scheme: Option<String>,
}

/// Adopt a monitoring scheme for an organisation's future responses (answers already stored
/// keep the scheme they answered). Coordinators.
#[utoipa::path(put, path = "/api/v1/organisations/{slug}/monitoring-scheme", tag = "responses",
    params(("slug" = String, Path, description = "organisation slug")), request_body = AdoptScheme,
    security(("bearer" = [])),
    responses((status = 200, body = MonitoringScheme),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn adopt_scheme(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<AdoptScheme>,
) -> Result<Json<MonitoringScheme>, ApiError> {
    let actor = caller.coordinator()?;
    let org = state
        .store
        .get_organisation(&slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no organisation `{slug}`")))?;
    let id = input
        .scheme
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::field("scheme", "is required"))?;
    let scheme = named_scheme(&state, "scheme", &id).await?;
    state
        .store
        .set_organisation_scheme(org.id, &scheme, &actor, state.clock.now())
        .await?;
    Ok(Json(scheme))
}

/// A stored response's receipt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Receipt {
    /// The response's id.
    id: String,
    /// The activity.
    consultation_id: String,
    /// How it arrived.
    channel: consult_core::ResponseChannel,
}

/// Respond to an open activity: comments and optional monitoring answers. Anyone, online;
/// officers of the owner organisation (and coordinators) also enter paper, email, event and phone
/// responses. An `Idempotency-Key` header makes a retry store the response once (the retry gets
/// 200 and the first response's id).
#[utoipa::path(post, path = "/api/v1/consultations/{id}/responses", tag = "responses",
    params(("id" = String, Path, description = "consultation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    request_body = ResponseInput,
    responses((status = 201, body = Receipt), (status = 200, body = Receipt, description = "a retry of a stored response"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn respond(
    State(state): State<AppState>,
    caller: Caller,
    client: crate::extract::ClientAddr,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ResponseInput>,
) -> Result<impl IntoResponse, ApiError> {
    if caller.0.is_none() {
        state.rate.check(client.0)?;
    }
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| ApiError::Malformed("Idempotency-Key must be 1 to 200 visible characters".into()))?
                .to_owned(),
        ),
    };
    let not_found = || ApiError::NotFound(format!("no consultation `{id}`"));
    let cid: ConsultationId = id.parse().map_err(|_| not_found())?;
    let c = state.store.get_consultation(cid).await?.ok_or_else(not_found)?;
    let status = c.status_on(state.clock.today());
    let officer = caller.0.as_ref().filter(|a| a.may_write(c.organisation_id));
    if !status.is_public() && officer.is_none() {
        return Err(not_found());
    }
    if status != Status::Open {
        return Err(ApiError::Conflict(format!(
            "this activity is {status}; it takes responses while open ({} to {})",
            c.plan.opens_on(),
            c.plan.closes_on()
        )));
    }
    let scheme = state.store.organisation_scheme(c.organisation_id).await?;
    let response = Response::parse(
        Uuid::now_v7(),
        c.id,
        input,
        &scheme,
        officer.map(|a| a.name.as_str()),
        state.clock.now(),
    )?;
    let (stored, new) = state.store.insert_response(&response, key.as_deref()).await?;
    let receipt = Receipt {
        id: stored.to_string(),
        consultation_id: c.id.to_string(),
        channel: response.channel,
    };
    let mut res = (if new { StatusCode::CREATED } else { StatusCode::OK }, Json(receipt)).into_response();
    if !new {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// A population baseline as sent (API.md "Baseline (JSON)").
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BaselineInput {
    /// GSS code of the area.
    area: Option<String>,
    /// Area name.
    name: Option<String>,
    /// Source, e.g. "ONS Census 2021".
    source: Option<String>,
    /// `{ characteristic: { category: count } }`.
    #[serde(default)]
    counts: consult_core::BaselineCounts,
}

/// Import a population baseline for an area. Coordinators.
#[utoipa::path(post, path = "/api/v1/baselines", tag = "responses", request_body = BaselineInput,
    security(("bearer" = [])),
    responses((status = 201, description = "stored"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn put_baseline(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<BaselineInput>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.coordinator()?;
    let scheme = default_scheme()?;
    let mut e = consult_core::ValidationErrors::new();
    let areas = consult_core::AreaHierarchy::new(state.store.list_areas().await?);
    let area = match input.area.as_deref().map(consult_core::AreaCode::parse) {
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
        return Err(ApiError::Invalid(e));
    };
    let baseline = consult_store::Baseline {
        area,
        name,
        source,
        counts: input.counts,
    };
    state
        .store
        .put_baselines(&[baseline], &actor, state.clock.now())
        .await?;
    Ok(StatusCode::CREATED)
}

/// Which baseline to compare with.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EqualityQuery {
    /// GSS codes of the baseline areas, comma separated (default: the activity's areas).
    baseline: Option<String>,
    /// `json` (default) or `html`: a page with a bar chart of respondents against population.
    format: Option<String>,
    /// Monitoring scheme of the report, `key@version` or `key` (default: the owner's).
    scheme: Option<String>,
}

/// The representativeness report of an activity's respondents against a population baseline.
/// Coordinators see every count; everyone else sees the public view, with counts below the
/// suppression threshold (and a second cell where one could be derived) hidden.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/equality", tag = "responses",
    params(("id" = String, Path, description = "consultation id"), EqualityQuery),
    responses((status = 200, body = consult_core::EqualityReport),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn equality(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    super::ApiQuery(q): super::ApiQuery<EqualityQuery>,
) -> Result<axum::response::Response, ApiError> {
    let html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => return Err(ApiError::field("format", format!("`{other}` is not json or html"))),
    };
    let not_found = || ApiError::NotFound(format!("no consultation `{id}`"));
    let cid: ConsultationId = id.parse().map_err(|_| not_found())?;
    let c = state.store.get_consultation(cid).await?.ok_or_else(not_found)?;
    let status = c.status_on(state.clock.today());
    let readable = match &caller.0 {
        None => status.is_public(),
        Some(a) => a.may_read(c.organisation_id, status),
    };
    if !readable {
        return Err(not_found());
    }
    let areas = match q.baseline.as_deref().filter(|b| !b.trim().is_empty()) {
        None => c.plan.audience().areas.clone(),
        Some(list) => list
            .split(',')
            .map(|a| consult_core::AreaCode::parse(a).map_err(|m| ApiError::field("baseline", m)))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let baseline = state.store.baseline(&areas).await?;
    let scheme = match q.scheme.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(id) => named_scheme(&state, "scheme", id).await?,
        None => state.store.organisation_scheme(c.organisation_id).await?,
    };
    let tally = state.store.tally(&[c.id], &scheme).await?;
    let coordinator = caller.0.as_ref().is_some_and(consult_core::Actor::is_coordinator);
    let report = consult_core::equality_report(
        &scheme,
        &tally,
        &baseline,
        &consult_core::ReportSettings::default(),
        !coordinator,
    );
    if html {
        let page = crate::chart::page(c.plan.title(), &report);
        return Ok(([(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response());
    }
    Ok(Json(report).into_response())
}

/// A survey tool's CSV export and how its columns map.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportInput {
    /// Column mapping.
    #[serde(default)]
    mapping: consult_core::ColumnMapping,
    /// The CSV text, with a header row.
    csv: Option<String>,
    /// `true`: store the valid rows and report the others; `false` (default): store nothing
    /// unless every row is valid.
    #[serde(default)]
    skip_invalid: bool,
}

/// The result of an import.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportResult {
    /// Responses stored.
    imported: u64,
    /// Rows left out (only with `skip_invalid`), by line (`line[n]`, the header being line 1).
    skipped: Vec<consult_core::FieldError>,
}

/// Import responses from a survey tool's CSV export, all or none. Owner officers and
/// coordinators; while the activity is open or closed.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/responses/import", tag = "responses",
    params(("id" = String, Path, description = "consultation id")), request_body = ImportInput,
    security(("bearer" = [])),
    responses((status = 201, body = ImportResult),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ImportInput>,
) -> Result<(StatusCode, Json<ImportResult>), ApiError> {
    let (c, actor) = super::consultations::load_for_write(&state, &id, caller).await?;
    let status = c.status_on(state.clock.today());
    if !matches!(status, Status::Open | Status::Closed) {
        return Err(ApiError::Conflict(format!(
            "responses can be imported while open or closed; this activity is {status}"
        )));
    }
    let text = input.csv.ok_or_else(|| ApiError::field("csv", "is required"))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::field("csv", e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::field("csv", e.to_string()))?;
    let mode = if input.skip_invalid {
        consult_core::ImportMode::GoodRows
    } else {
        consult_core::ImportMode::AllOrNothing
    };
    let scheme = state.store.organisation_scheme(c.organisation_id).await?;
    let (responses, skipped) = consult_core::import_responses(
        &scheme,
        &input.mapping,
        &header,
        &rows,
        c.id,
        &actor.name,
        state.clock.now(),
        mode,
        Uuid::now_v7,
    )?;
    state.store.insert_responses(&responses).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportResult {
            imported: responses.len() as u64,
            skipped: skipped.into_errors(),
        }),
    ))
}

/// Which activities a combined report covers.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SetQuery {
    /// Owner organisation slug.
    organisation: Option<String>,
    /// Owning service (exact name).
    service: Option<String>,
    /// Year the activities opened in.
    #[param(value_type = Option<i32>)]
    year: Option<String>,
    /// Activity ids, comma separated.
    ids: Option<String>,
    /// GSS codes of the baseline areas, comma separated (required).
    baseline: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// Monitoring scheme of the report, `key@version` or `key` (default: the organisation's,
    /// else the default scheme). Answers given under other schemes are translated where their
    /// categories map onto it and counted as not comparable where they do not.
    scheme: Option<String>,
}

/// The representativeness report over a set of activities: an organisation, a service, a year,
/// or a list of ids, combined; as JSON or CSV. Public views are suppressed; coordinators see
/// every count.
#[utoipa::path(get, path = "/api/v1/equality", tag = "responses", params(SetQuery),
    responses((status = 200, body = consult_core::EqualityReport),
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
    let today = state.clock.today();
    let reader = consult_store::Reader::for_actor(caller.0.as_ref());
    let filter = consult_store::ConsultationFilter {
        organisation: q.organisation.clone(),
        ..Default::default()
    };
    let chosen: Vec<ConsultationId> = state
        .store
        .list_all_consultations(&filter, &reader, today)
        .await?
        .iter()
        .filter(|c| {
            ids.as_ref().is_none_or(|ids| ids.contains(&c.id))
                && q.service.as_deref().is_none_or(|s| c.plan.service() == Some(s))
                && year.is_none_or(|y| chrono::Datelike::year(&c.plan.opens_on()) == y)
        })
        .map(|c| c.id)
        .collect();
    let population = state.store.baseline(&baseline).await?;
    let scheme = report_scheme(&state, q.scheme.as_deref(), q.organisation.as_deref()).await?;
    let tally = state.store.tally(&chosen, &scheme).await?;
    let coordinator = caller.0.as_ref().is_some_and(consult_core::Actor::is_coordinator);
    let report = consult_core::equality_report(
        &scheme,
        &tally,
        &population,
        &consult_core::ReportSettings::default(),
        !coordinator,
    );
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
                c.characteristic.clone(),
                k.category.clone(),
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
    /// the default scheme).
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
    let hierarchy = consult_core::AreaHierarchy::new(state.store.list_areas().await?);
    let areas = match q.area.as_deref().filter(|a| !a.is_empty()) {
        None => vec![],
        Some(a) => match consult_core::AreaCode::parse(a) {
            Ok(code) => hierarchy.related(&code).into_iter().collect(),
            Err(m) => {
                e.push("area", m);
                vec![]
            }
        },
    };
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let today = state.clock.today();
    let filter = consult_store::ConsultationFilter {
        organisation: q.organisation.clone(),
        areas,
        statuses: vec![
            Status::Open,
            Status::Closed,
            Status::ResultsPublished,
            Status::Evaluated,
        ],
        order: consult_store::Order::ByOpening,
        ..Default::default()
    };
    let reader = consult_store::Reader::for_actor(caller.0.as_ref());
    let all: Vec<consult_core::Consultation> = state
        .store
        .list_all_consultations(&filter, &reader, today)
        .await?
        .into_iter()
        .filter(|c| q.service.as_deref().is_none_or(|s| c.plan.service() == Some(s)))
        .collect();
    let run: Vec<consult_core::Consultation> = all
        .into_iter()
        .rev()
        .take(last)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let population = state.store.baseline(&baseline).await?;
    let suppress = !caller.0.as_ref().is_some_and(consult_core::Actor::is_coordinator);
    let scheme = report_scheme(&state, q.scheme.as_deref(), q.organisation.as_deref()).await?;
    let mut reports = Vec::new();
    for c in &run {
        let tally = state.store.tally(&[c.id], &scheme).await?;
        reports.push(consult_core::equality_report(
            &scheme,
            &tally,
            &population,
            &consult_core::ReportSettings::default(),
            suppress,
        ));
    }
    let partners = state
        .store
        .list_organisations()
        .await?
        .into_iter()
        .filter(|o| o.kind == consult_core::OrganisationKind::Partner)
        .map(|o| o.slug.to_string())
        .collect();
    Ok(Json(SeldomView {
        activities: run
            .iter()
            .map(|c| RunItem {
                id: c.id.to_string(),
                title: c.plan.title().to_owned(),
                opens_on: c.plan.opens_on(),
            })
            .collect(),
        seldom_heard: consult_core::seldom_heard(&reports),
        partners,
    }))
}

//! Population baselines: the counts respondents are compared with.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller};
use axum::extract::State;
use axum::http::StatusCode;
use consult_app::BaselineRequest;
use utoipa::ToSchema;

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
    let request = BaselineRequest {
        area: input.area,
        name: input.name,
        source: input.source,
        counts: input.counts,
    };
    state.app.put_baseline(&actor, request).await?;
    Ok(StatusCode::CREATED)
}

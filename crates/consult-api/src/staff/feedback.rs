//! "You said, we did" in the workspace: the feedback of an activity written theme by theme,
//! saved as a draft and published by the coordinator once it has closed, through the use case
//! the API's `PUT .../feedback` calls (`App::record_feedback`).

use super::{ActivityId, Staff, StaffForm, Who, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Text;
use crate::hub::forms::Posted;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use consult_app::AppError;
use consult_core::{ConsultationId, FeedbackInput, FeedbackItemInput, Status};

/// One field of a theme's row.
#[derive(Debug)]
struct RowField {
    id: String,
    label: &'static str,
    multiline: bool,
    value: String,
}

/// A theme's row.
#[derive(Debug)]
struct Row {
    blank: bool,
    fields: Vec<RowField>,
}

#[derive(Template)]
#[template(path = "staff/feedback.html")]
struct FeedbackPage {
    text: &'static Text,
    who: Who,
    id: ConsultationId,
    title: String,
    published_on: Option<String>,
    rows: Vec<Row>,
    summary: String,
    can_publish: bool,
    publish_note: String,
    errors: Vec<(String, String)>,
    done: Option<String>,
}

impl FeedbackPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn has_error(&self, id: &str) -> bool {
        self.errors.iter().any(|e| e.0 == id)
    }
}

/// A row's fields: (name, label, multi-line).
const FIELDS: &[(&str, &str, bool)] = &[
    ("theme", "Theme", false),
    ("you_said", "You said", true),
    ("we_did", "We did", true),
    ("we_did_not", "We did not (instead of we did)", true),
    ("reason", "Why not", true),
    (
        "theme_key",
        "Codeframe theme key (optional: shows how many responses raised it)",
        false,
    ),
];

/// Blank rows shown after the written ones.
const BLANK_ROWS: usize = 2;

fn rows(items: &[FeedbackItemInput]) -> Vec<Row> {
    let blank = FeedbackItemInput::default();
    items
        .iter()
        .map(|i| (i, false))
        .chain(std::iter::repeat_n((&blank, true), BLANK_ROWS))
        .enumerate()
        .map(|(n, (item, blank))| Row {
            blank,
            fields: FIELDS
                .iter()
                .map(|&(name, label, multiline)| RowField {
                    id: format!("{name}-{n}"),
                    label,
                    multiline,
                    value: match name {
                        "theme" => item.theme.clone(),
                        "you_said" => item.you_said.clone(),
                        "we_did" => item.we_did.clone(),
                        "we_did_not" => item.we_did_not.clone(),
                        "reason" => item.reason.clone(),
                        _ => item.theme_key.clone(),
                    }
                    .unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

/// The rows posted, in order, without the ones left empty.
fn posted_items(posted: &Posted) -> Vec<FeedbackItemInput> {
    let mut items = Vec::new();
    for n in 0..200 {
        let get = |name: &str| posted.one(&format!("{name}-{n}")).map(str::to_owned);
        if posted.raw(&format!("theme-{n}")).is_none() {
            break;
        }
        let item = FeedbackItemInput {
            theme: get("theme"),
            you_said: get("you_said"),
            we_did: get("we_did"),
            we_did_not: get("we_did_not"),
            reason: get("reason"),
            theme_key: get("theme_key"),
        };
        if item != FeedbackItemInput::default() {
            items.push(item);
        }
    }
    items
}

/// The form's field a refusal names (`items[2].you_said` is `you_said-2`).
fn anchor(field: &str) -> String {
    match field.strip_prefix("items[").and_then(|rest| rest.split_once("].")) {
        Some((n, name)) => format!("{name}-{n}"),
        None if field.starts_with("items") => "theme-0".to_owned(),
        None => field.to_owned(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn feedback_page(
    state: &AppState,
    staff: &Staff,
    id: ConsultationId,
    input: Option<FeedbackInput>,
    status: StatusCode,
    errors: Vec<(String, String)>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let c = match super::changeable(state, staff, id, "write this feedback").await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    let stored = match state.app.feedback(Some(actor), id).await {
        Ok((_, f)) => Some(f),
        Err(AppError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let input = input.unwrap_or_else(|| FeedbackInput {
        items: stored
            .iter()
            .flat_map(|f| f.items.iter())
            .map(|i| FeedbackItemInput {
                theme: Some(i.theme.clone()),
                you_said: Some(i.you_said.clone()),
                we_did: i.we_did.clone(),
                we_did_not: i.we_did_not.clone(),
                reason: i.reason.clone(),
                theme_key: i.theme_key.clone(),
            })
            .collect(),
        summary: stored.as_ref().and_then(|f| f.summary.clone()),
        publish: false,
    });
    let status_now = c.status_on(state.app.today());
    let closed = matches!(
        status_now,
        Status::Closed | Status::ResultsPublished | Status::Evaluated
    );
    let can_publish = closed && actor.is_coordinator();
    let publish_note = if !closed {
        "The results can be published once the activity has closed.".to_owned()
    } else {
        "Publishing the results is the partnership coordinator's: save a draft and ask them.".to_owned()
    };
    let page = FeedbackPage {
        text: text(),
        who: super::who(state, staff).await?,
        id,
        title: c.plan.title().to_owned(),
        published_on: stored
            .as_ref()
            .and_then(|f| f.published_on)
            .map(|d| d.format("%-d %B %Y").to_string()),
        rows: rows(&input.items),
        summary: input.summary.unwrap_or_default(),
        can_publish,
        publish_note,
        errors,
        done,
    };
    staff_page(&page, status, None)
}

/// `GET /staff/activities/{id}/feedback`.
pub(super) async fn form(
    State(state): State<AppState>,
    staff: Staff,
    ActivityId(id): ActivityId,
) -> Result<Response, ApiError> {
    feedback_page(&state, &staff, id, None, StatusCode::OK, vec![], None).await
}

/// `POST /staff/activities/{id}/feedback`: saved as a draft, or published (`publish=yes`).
pub(super) async fn submit(
    State(state): State<AppState>,
    ActivityId(id): ActivityId,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let input = FeedbackInput {
        items: posted_items(&posted),
        summary: posted.one("summary").map(str::to_owned),
        publish: posted.one("publish") == Some("yes"),
    };
    match state.app.record_feedback(&staff.session.actor, id, &input).await {
        Ok((_, f)) => {
            let done = if f.published_on.is_some() {
                "The results are published: the activity's public page shows what people said and what was done."
            } else {
                "The feedback is saved as a draft."
            };
            feedback_page(&state, &staff, id, None, StatusCode::OK, vec![], Some(done.to_owned())).await
        }
        Err(AppError::Invalid(e)) => {
            let errors = e
                .errors()
                .iter()
                .map(|f| (anchor(&f.field), f.message.clone()))
                .collect();
            feedback_page(
                &state,
                &staff,
                id,
                Some(input),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
            )
            .await
        }
        Err(AppError::Conflict(m)) | Err(AppError::Forbidden(m)) => {
            let errors = vec![("theme-0".to_owned(), m)];
            feedback_page(&state, &staff, id, Some(input), StatusCode::CONFLICT, errors, None).await
        }
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_point_at_their_row() {
        assert_eq!(super::anchor("items[2].you_said"), "you_said-2");
        assert_eq!(super::anchor("items"), "theme-0");
        assert_eq!(super::anchor("summary"), "summary");
    }
}

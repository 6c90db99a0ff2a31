//! The questionnaire builder in the workspace: sections and questions of every type added,
//! moved and removed, each change saved through the use case of the API's `PUT
//! .../questionnaire` (`App::set_questionnaire`, with the version the page showed, so two people
//! editing do not overwrite each other; refused once the activity has opened).

use super::{ActivityId, Staff, StaffForm, Who, message, see_other, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Text;
use crate::hub::forms::Posted;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use consult_app::AppError;
use consult_core::{
    ChoiceInput, ConsultationId, QuestionInput, QuestionnaireInput, ScaleInput, SectionInput, ShowIfInput,
    StatementInput, Status,
};

/// A question as the page lists it.
#[derive(Debug)]
struct QuestionRow {
    key: String,
    text: String,
    kind: String,
    required: bool,
    condition: Option<String>,
}

/// A section as the page lists it.
#[derive(Debug)]
struct SectionRow {
    title: String,
    intro: Option<String>,
    questions: Vec<QuestionRow>,
}

/// A field of the new question's form.
#[derive(Debug)]
struct Field {
    id: String,
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    multiline: bool,
    value: String,
}

/// The new question's form.
#[derive(Debug)]
struct NewQuestion {
    kind: String,
    required: bool,
    other: bool,
    fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "staff/builder.html")]
struct BuilderPage {
    text: &'static Text,
    who: Who,
    id: ConsultationId,
    title: String,
    version: u32,
    locked: bool,
    sections: Vec<SectionRow>,
    types: Vec<(&'static str, &'static str)>,
    new: NewQuestion,
    new_section: String,
    errors: Vec<(String, String)>,
    done: Option<String>,
}

impl BuilderPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn has_error(&self, id: &str) -> bool {
        self.errors.iter().any(|e| e.0 == id)
    }
}

/// The question types: (API name, label).
const TYPES: &[(&str, &str)] = &[
    ("single_choice", "One choice"),
    ("multiple_choice", "Several choices"),
    ("scale", "A scale"),
    ("ranking", "A ranking"),
    ("number", "A number"),
    ("date", "A date"),
    ("free_text", "Written text"),
    ("grid", "Several statements on one scale (grid)"),
];

/// The new question's text fields: (name, label, hint, multi-line).
const FIELDS: &[(&str, &str, &str, bool)] = &[
    (
        "key",
        "Key",
        "Short and stable: letters, digits and underscores, for example visit",
        false,
    ),
    ("text", "Question", "", false),
    ("hint", "Hint (optional)", "", false),
    (
        "options",
        "Options (choices and rankings)",
        "One per line: key = label, for example yes = Yes",
        true,
    ),
    ("max_choices", "Most choices (several choices, optional)", "", false),
    (
        "scale_min",
        "Scale: lowest point (scales and grids)",
        "For example 1",
        false,
    ),
    ("scale_max", "Scale: highest point", "For example 5", false),
    ("min_label", "Scale: what the lowest point means (optional)", "", false),
    ("max_label", "Scale: what the highest point means (optional)", "", false),
    ("min", "Number: the smallest answer (optional)", "", false),
    ("max", "Number: the largest answer (optional)", "", false),
    ("max_length", "Written text: the most characters (optional)", "", false),
    ("statements", "Statements (grids)", "One per line: key = text", true),
    (
        "show_if",
        "Shown only when (optional)",
        "An earlier question's key = its options, for example visit = yes",
        false,
    ),
];

/// `key = text` lines.
fn pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (
                l.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
                l.to_owned(),
            ),
        })
        .collect()
}

/// The question a posted form describes.
fn question_from(posted: &Posted) -> QuestionInput {
    let one = |n: &str| posted.one(n).map(str::to_owned);
    let int = |n: &str| posted.one(n).and_then(|v| v.parse::<i64>().ok());
    let float = |n: &str| posted.one(n).and_then(|v| v.parse::<f64>().ok());
    let kind = one("type").unwrap_or_default();
    let options = pairs(posted.raw("options").unwrap_or_default());
    let statements = pairs(posted.raw("statements").unwrap_or_default());
    let scaled = matches!(kind.as_str(), "scale" | "grid");
    let chosen = matches!(kind.as_str(), "single_choice" | "multiple_choice" | "ranking");
    QuestionInput {
        key: one("key"),
        kind: Some(kind.clone()),
        text: one("text"),
        hint: one("hint"),
        required: Some(posted.one("required") == Some("yes")),
        options: chosen.then(|| {
            options
                .iter()
                .map(|(k, l)| ChoiceInput {
                    key: Some(k.clone()),
                    label: Some(l.clone()),
                })
                .collect()
        }),
        other: matches!(kind.as_str(), "single_choice" | "multiple_choice").then(|| posted.one("other") == Some("yes")),
        max_choices: posted.one("max_choices").and_then(|v| v.parse().ok()),
        scale: scaled.then(|| ScaleInput {
            min: int("scale_min"),
            max: int("scale_max"),
            min_label: one("min_label"),
            max_label: one("max_label"),
        }),
        min: float("min"),
        max: float("max"),
        max_length: posted.one("max_length").and_then(|v| v.parse().ok()),
        statements: (kind == "grid").then(|| {
            statements
                .iter()
                .map(|(k, t)| StatementInput {
                    key: Some(k.clone()),
                    text: Some(t.clone()),
                })
                .collect()
        }),
        show_if: posted.one("show_if").map(|s| {
            let (q, any) = s.split_once('=').unwrap_or((s, ""));
            ShowIfInput {
                question: Some(q.trim().to_owned()),
                any_of: any
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect(),
            }
        }),
        ..QuestionInput::default()
    }
}

/// The new question's field a refusal of `sections[s].questions[q].FIELD` names.
fn new_field(rest: &str) -> String {
    let head = rest.split(['.', '[']).next().unwrap_or(rest);
    let id = match head {
        "type" | "kind" => "type",
        "scale" => "scale_min",
        "key" | "text" | "hint" | "options" | "max_choices" | "min" | "max" | "max_length" | "statements"
        | "show_if" => head,
        _ => "key",
    };
    format!("nq-{id}")
}

#[allow(clippy::too_many_arguments)]
async fn builder_page(
    state: &AppState,
    staff: &Staff,
    id: ConsultationId,
    posted: Option<&Posted>,
    status: StatusCode,
    errors: Vec<(String, String)>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let c = match super::changeable(state, staff, id, "change this questionnaire").await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    let current = super::found(state.app.questionnaire(Some(actor), id).await)?;
    let locked = !matches!(
        c.status_on(state.app.today()),
        Status::Draft | Status::Submitted | Status::Approved
    );
    let value = |n: &str| posted.and_then(|p| p.raw(n)).unwrap_or_default().to_owned();
    let page = BuilderPage {
        text: text(),
        who: super::who(state, staff).await?,
        id,
        title: c.plan.title().to_owned(),
        version: current.as_ref().map_or(0, |q| q.version),
        locked,
        sections: current
            .iter()
            .flat_map(|q| q.sections.iter())
            .map(|s| SectionRow {
                title: s.title.clone(),
                intro: s.intro.clone(),
                questions: s
                    .questions
                    .iter()
                    .map(|q| QuestionRow {
                        key: q.key.clone(),
                        text: q.text.clone(),
                        kind: q.kind.question_type().as_str().replace('_', " "),
                        required: q.required,
                        condition: q
                            .show_if
                            .as_ref()
                            .map(|c| format!("{} is {}", c.question, c.any_of.join(" or "))),
                    })
                    .collect(),
            })
            .collect(),
        types: TYPES.to_vec(),
        new: NewQuestion {
            kind: posted.and_then(|p| p.one("type")).unwrap_or("single_choice").to_owned(),
            required: posted.is_some_and(|p| p.one("required") == Some("yes")),
            other: posted.is_some_and(|p| p.one("other") == Some("yes")),
            fields: FIELDS
                .iter()
                .map(|&(name, label, hint, multiline)| Field {
                    id: format!("nq-{name}"),
                    name,
                    label,
                    hint,
                    multiline,
                    value: value(name),
                })
                .collect(),
        },
        new_section: value("new_section"),
        errors,
        done,
    };
    staff_page(&page, status, None)
}

/// `GET /staff/activities/{id}/questionnaire`.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    ActivityId(id): ActivityId,
    Query(q): Query<super::admin::Done>,
) -> Result<Response, ApiError> {
    let done = q.done().map(|_| "The questionnaire is saved.".to_owned());
    builder_page(&state, &staff, id, None, StatusCode::OK, vec![], done).await
}

/// `POST /staff/activities/{id}/questionnaire`: one change (`action`: `add_question`, in a
/// section or starting a new one; `up`, `down` or `remove` with the question's `key`), saved as
/// a whole.
pub(super) async fn change(
    State(state): State<AppState>,
    ActivityId(id): ActivityId,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let mut input = match state.app.questionnaire(Some(actor), id).await {
        Ok(q) => q.to_input(),
        Err(AppError::NotFound(_)) => QuestionnaireInput::default(),
        Err(e) => return Err(e.into()),
    };
    input.version = Some(posted.one("version").and_then(|v| v.parse().ok()).unwrap_or(0));
    let action = posted.one("action").unwrap_or_default();
    let key = posted.one("key").unwrap_or_default();
    let position = input.sections.iter().enumerate().find_map(|(s, sec)| {
        sec.questions
            .iter()
            .position(|q| q.key.as_deref() == Some(key))
            .map(|q| (s, q))
    });
    let mut new_at = None;
    match (action, position) {
        ("add_question", _) => {
            let chosen = posted
                .one("section")
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|s| *s < input.sections.len());
            let s = match chosen {
                Some(s) => s,
                None => {
                    input.sections.push(SectionInput {
                        title: posted.one("new_section").map(str::to_owned),
                        intro: None,
                        questions: vec![],
                    });
                    input.sections.len() - 1
                }
            };
            let section = &mut input.sections[s];
            section.questions.push(question_from(&posted));
            new_at = Some((s, section.questions.len() - 1));
        }
        ("up", Some((s, q))) if q > 0 => input.sections[s].questions.swap(q, q - 1),
        ("down", Some((s, q))) if q + 1 < input.sections[s].questions.len() => {
            input.sections[s].questions.swap(q, q + 1);
        }
        ("remove", Some((s, q))) => {
            input.sections[s].questions.remove(q);
        }
        ("up" | "down", Some(_)) => {}
        _ => {
            let errors = vec![("nq-key".to_owned(), "Choose a change from the page".to_owned())];
            return builder_page(
                &state,
                &staff,
                id,
                Some(&posted),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
            )
            .await;
        }
    }
    match state.app.set_questionnaire(actor, id, input).await {
        Ok(_) => see_other(&format!("/staff/activities/{id}/questionnaire?done=saved"), None),
        Err(AppError::Invalid(e)) => {
            let errors = e
                .errors()
                .iter()
                .map(|f| {
                    let field = match new_at {
                        Some((s, q)) => {
                            let prefix = format!("sections[{s}].questions[{q}].");
                            match f.field.strip_prefix(&prefix) {
                                Some(rest) => new_field(rest),
                                None if f.field.starts_with(&format!("sections[{s}]")) => "nq-new_section".to_owned(),
                                None => "nq-key".to_owned(),
                            }
                        }
                        None => "nq-key".to_owned(),
                    };
                    (field, format!("{}: {}", f.field, f.message))
                })
                .collect();
            builder_page(
                &state,
                &staff,
                id,
                Some(&posted),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            let field = if action == "add_section" {
                "section-title"
            } else {
                "nq-key"
            };
            builder_page(
                &state,
                &staff,
                id,
                Some(&posted),
                StatusCode::CONFLICT,
                vec![(field.to_owned(), m)],
                None,
            )
            .await
        }
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(AppError::Forbidden(m)) => message(
            StatusCode::FORBIDDEN,
            "You cannot change this questionnaire",
            &m,
            Some("/staff"),
        ),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_become_keys_and_labels() {
        assert_eq!(
            super::pairs("yes = Yes\n\n No way \n"),
            [
                ("yes".to_owned(), "Yes".to_owned()),
                ("no_way".to_owned(), "No way".to_owned())
            ]
        );
        assert_eq!(super::new_field("options[1].key"), "nq-options");
        assert_eq!(super::new_field("scale.min"), "nq-scale_min");
        assert_eq!(super::new_field("type"), "nq-type");
    }
}

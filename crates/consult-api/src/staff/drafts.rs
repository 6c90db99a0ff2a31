//! Registering and editing an activity in the workspace: one form over the plan's fields, checked
//! by the same use cases as the API (`App::create_consultation`, `App::patch_consultation`), every
//! refusal shown beside its field; and answering the principles checklist's questions in place.

use super::{Staff, StaffForm, Who, message, see_other, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Text;
use crate::hub::forms::Posted;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use consult_app::AppError;
use consult_core::{
    AttestationInput, AudienceInput, ConsultationId, ConsultationInput, DataProtectionInput, InvolvementLevel, METHODS,
    STAKEHOLDER_GROUPS,
};

/// One text field of the form.
#[derive(Debug)]
struct TextField {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    kind: &'static str,
    multiline: bool,
    value: String,
}

/// A choice of a group of checkboxes.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

/// A group of check boxes (any number chosen) or radio buttons (one).
#[derive(Debug)]
struct ChoiceGroup {
    /// `checkbox` or `radio`.
    kind: &'static str,
    name: &'static str,
    legend: &'static str,
    choices: Vec<Choice>,
}

/// What the form holds besides its text fields.
#[derive(Debug)]
struct Chosen {
    organisation: String,
}

#[derive(Template)]
#[template(path = "staff/activity_form.html")]
struct FormPage {
    version: Option<i64>,
    text: &'static Text,
    who: Who,
    heading: &'static str,
    action: String,
    button: &'static str,
    organisations: Vec<(String, String)>,
    f: Chosen,
    texts: Vec<TextField>,
    levels: Vec<(&'static str, &'static str, bool)>,
    /// The check boxes, then the radio choices (who the results are shared with, and the
    /// widest sharing the data-protection note allows).
    groups: Vec<ChoiceGroup>,
    errors: Vec<(String, String)>,
}

impl FormPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn has_error(&self, id: &str) -> bool {
        self.errors.iter().any(|e| e.0 == id)
    }

    fn describedby(&self, id: &str, hint: bool) -> String {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("{id}-hint"));
        }
        if self.has_error(id) {
            ids.push(format!("{id}-error"));
        }
        ids.join(" ")
    }
}

/// The text fields: (name, label, hint, input type, multi-line).
const TEXTS: &[(&str, &str, &str, &str, bool)] = &[
    (
        "title",
        "Title",
        "What residents will see in the register",
        "text",
        false,
    ),
    (
        "service",
        "Service (optional)",
        "One of the organisation's services",
        "text",
        false,
    ),
    ("summary", "Summary", "", "text", true),
    (
        "purpose",
        "Purpose",
        "Why you are asking, and what you want to find out",
        "text",
        true,
    ),
    ("decision", "The decision it informs", "", "text", false),
    (
        "decision_date",
        "When the decision is made",
        "For example 2027-03-31",
        "date",
        false,
    ),
    ("can_change", "What people can change", "One per line", "text", true),
    (
        "cannot_change",
        "What people cannot change",
        "One per line",
        "text",
        true,
    ),
    (
        "topics",
        "Topics",
        "Separated by commas, for example libraries, opening hours",
        "text",
        false,
    ),
    (
        "equality_groups",
        "Equality groups to reach (optional)",
        "One per line, for example young carers",
        "text",
        true,
    ),
    ("opens_on", "Opens on", "For example 2027-01-15", "date", false),
    ("closes_on", "Closes on", "For example 2027-04-09", "date", false),
    (
        "feedback_due_on",
        "Feedback due by",
        "When you will publish what people said and what you did",
        "date",
        false,
    ),
    (
        "legal_basis",
        "Legal basis (optional)",
        "A statutory duty to consult, if there is one",
        "text",
        false,
    ),
    ("lead_officer", "Lead officer (optional)", "", "text", false),
    (
        "accessible_formats",
        "Accessible formats",
        "How people can take part other than online, for example paper copies",
        "text",
        false,
    ),
    (
        "data_protection_note",
        "Data-protection note (optional)",
        "What is collected, why, how long it is kept and who it may be shared with; shown on the activity's public page",
        "text",
        true,
    ),
];

/// The sharing levels as radio choices: (value, label).
const SHARING: [(&str, &str); 3] = [
    ("public", "Everyone: on the public hub and the API"),
    ("partnership", "Staff of every partner organisation"),
    ("organisation", "This organisation's staff only"),
];

/// A field's value from a plan's input, as the form shows it.
fn text_value(input: &ConsultationInput, name: &str) -> String {
    let one = |v: &Option<String>| v.clone().unwrap_or_default();
    match name {
        "title" => one(&input.title),
        "service" => one(&input.service),
        "summary" => one(&input.summary),
        "purpose" => one(&input.purpose),
        "decision" => one(&input.decision),
        "decision_date" => one(&input.decision_date),
        "can_change" => input.can_change.join("\n"),
        "cannot_change" => input.cannot_change.join("\n"),
        "topics" => input.topics.join(", "),
        "equality_groups" => input.audience.equality_groups.join("\n"),
        "opens_on" => one(&input.opens_on),
        "closes_on" => one(&input.closes_on),
        "feedback_due_on" => one(&input.feedback_due_on),
        "legal_basis" => one(&input.legal_basis),
        "lead_officer" => one(&input.lead_officer),
        "accessible_formats" => one(&input.accessible_formats),
        "data_protection_note" => input
            .data_protection
            .as_ref()
            .and_then(|d| d.note.clone())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// A posted form as a plan's input, on top of `base` (an edited plan keeps what the form does
/// not show, such as its cost).
fn input_from(posted: &Posted, base: ConsultationInput) -> ConsultationInput {
    let one = |name: &str| posted.one(name).map(str::to_owned);
    let lines = |name: &str| -> Vec<String> {
        posted
            .raw(name)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    ConsultationInput {
        organisation: one("organisation"),
        service: one("service"),
        title: one("title"),
        summary: one("summary"),
        purpose: one("purpose"),
        decision: one("decision"),
        decision_date: one("decision_date"),
        can_change: lines("can_change"),
        cannot_change: lines("cannot_change"),
        level: one("level"),
        methods: posted.all("methods"),
        audience: AudienceInput {
            groups: posted.all("groups"),
            areas: posted.all("areas"),
            equality_groups: lines("equality_groups"),
        },
        topics: posted
            .raw("topics")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        opens_on: one("opens_on"),
        closes_on: one("closes_on"),
        feedback_due_on: one("feedback_due_on"),
        legal_basis: one("legal_basis"),
        lead_officer: one("lead_officer"),
        accessible_formats: one("accessible_formats"),
        results_sharing: one("results_sharing"),
        // A note is given by its text; what it allows without a text is an error beside it.
        data_protection: match (one("data_protection_note"), one("data_protection_allows")) {
            (None, None) => None,
            (note, allows) => Some(DataProtectionInput { note, allows }),
        },
        ..base
    }
}

/// The form's field an error names (`audience.areas[2]` is the areas' boxes).
fn anchor(field: &str) -> String {
    let head = field.split(['.', '[']).next().unwrap_or(field);
    if head == "data_protection" {
        let rest = field.trim_start_matches("data_protection.");
        return if rest.starts_with("allows") {
            "data_protection_allows".to_owned()
        } else {
            "data_protection_note".to_owned()
        };
    }
    if head == "audience" {
        let rest = field.trim_start_matches("audience.");
        let inner = rest.split(['.', '[']).next().unwrap_or(rest);
        return match inner {
            "areas" | "equality_groups" => inner.to_owned(),
            _ => "groups".to_owned(),
        };
    }
    head.to_owned()
}

async fn form_page(
    state: &AppState,
    staff: &Staff,
    input: &ConsultationInput,
    editing: Option<(ConsultationId, i64)>,
    status: StatusCode,
    errors: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let snapshot = state.app.register_snapshot().await?;
    let organisations: Vec<(String, String)> = snapshot
        .organisations
        .iter()
        .filter(|o| actor.may_write(o.id))
        .map(|o| (o.slug.to_string(), o.name.clone()))
        .collect();
    let own = staff
        .session
        .user
        .organisation
        .and_then(|id| snapshot.organisations.iter().find(|o| o.id == id))
        .map(|o| o.slug.to_string());
    let areas = state.app.list_areas().await?;
    let chosen = |list: &[String], v: &str| list.iter().any(|x| x == v);
    let groups = vec![
        ChoiceGroup {
            kind: "checkbox",
            name: "methods",
            legend: "Methods",
            choices: METHODS
                .iter()
                .map(|m| Choice {
                    value: m.slug.to_owned(),
                    label: m.name.to_owned(),
                    checked: chosen(&input.methods, m.slug),
                })
                .collect(),
        },
        ChoiceGroup {
            kind: "checkbox",
            name: "groups",
            legend: "Who it is for",
            choices: STAKEHOLDER_GROUPS
                .iter()
                .map(|g| Choice {
                    value: g.slug.to_owned(),
                    label: g.name.to_owned(),
                    checked: chosen(&input.audience.groups, g.slug),
                })
                .collect(),
        },
        ChoiceGroup {
            kind: "checkbox",
            name: "areas",
            legend: "Areas",
            choices: areas
                .iter()
                .map(|a| Choice {
                    value: a.code.to_string(),
                    label: format!("{} ({})", a.name, a.code),
                    checked: chosen(&input.audience.areas, a.code.as_str()),
                })
                .collect(),
        },
        ChoiceGroup {
            kind: "radio",
            name: "results_sharing",
            legend: "Results and documents shared with",
            choices: sharing_choices(input.results_sharing.as_deref()),
        },
        ChoiceGroup {
            kind: "radio",
            name: "data_protection_allows",
            legend: "The data-protection note allows sharing with at most (with a note only)",
            choices: sharing_choices(input.data_protection.as_ref().and_then(|d| d.allows.as_deref())),
        },
    ];
    let (heading, action, button) = match editing {
        Some((id, _)) => (
            "Edit the draft",
            format!("/staff/activities/{id}/edit"),
            "Save the draft",
        ),
        None => (
            "Register an activity",
            "/staff/activities/new".to_owned(),
            "Save as a draft",
        ),
    };
    let page = FormPage {
        version: editing.map(|(_, v)| v),
        text: text(),
        who: staff.who(own.clone()),
        heading,
        action,
        button,
        organisations,
        f: Chosen {
            organisation: input.organisation.clone().or(own).unwrap_or_default(),
        },
        texts: TEXTS
            .iter()
            .map(|&(name, label, hint, kind, multiline)| TextField {
                name,
                label,
                hint,
                kind,
                multiline,
                value: text_value(input, name),
            })
            .collect(),
        levels: InvolvementLevel::ALL
            .iter()
            .map(|l| (l.as_str(), l.label(), input.level.as_deref() == Some(l.as_str())))
            .collect(),
        groups,
        errors,
    };
    staff_page(&page, status, None)
}

/// The sharing levels as radio choices, `chosen` checked (none: nothing checked, the plan's
/// default applies).
fn sharing_choices(chosen: Option<&str>) -> Vec<Choice> {
    SHARING
        .iter()
        .map(|&(value, label)| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            checked: chosen == Some(value),
        })
        .collect()
}

fn read_only_refusal() -> Result<Response, ApiError> {
    message(
        StatusCode::FORBIDDEN,
        "Your account reads activities",
        "It cannot register or change them.",
        Some("/staff"),
    )
}

/// The errors of a refused plan, by the form's fields, each saying which field it is about.
fn field_errors(e: &consult_core::ValidationErrors) -> Vec<(String, String)> {
    e.errors()
        .iter()
        .map(|f| {
            let id = anchor(&f.field);
            let label = match id.as_str() {
                "organisation" => "Organisation",
                "level" => "Level of involvement",
                "methods" => "Methods",
                "groups" => "Who it is for",
                "areas" => "Areas",
                "results_sharing" => "Results and documents shared with",
                "data_protection_allows" => "The note allows sharing with",
                other => TEXTS
                    .iter()
                    .find(|t| t.0 == other)
                    .map_or(other, |t| t.1.trim_end_matches(" (optional)")),
            };
            let message = format!("{label}: {}", f.message);
            (id, message)
        })
        .collect()
}

/// `GET /staff/activities/new`.
pub(super) async fn new_form(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    if staff.session.actor.read_only() {
        return read_only_refusal();
    }
    let input = ConsultationInput {
        service: staff.session.user.service.clone(),
        ..ConsultationInput::default()
    };
    form_page(&state, &staff, &input, None, StatusCode::OK, vec![]).await
}

/// `POST /staff/activities/new`: a draft registered, or the form again with every refusal.
pub(super) async fn new_submit(
    State(state): State<AppState>,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let input = input_from(&posted, ConsultationInput::default());
    match state.app.create_consultation(&staff.session.actor, input.clone()).await {
        Ok(c) => see_other(&format!("/staff/activities/{}?done=created", c.id), None),
        Err(AppError::Invalid(e)) => {
            form_page(
                &state,
                &staff,
                &input,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                field_errors(&e),
            )
            .await
        }
        Err(AppError::Forbidden(m)) => {
            let errors = vec![("organisation".to_owned(), m)];
            form_page(&state, &staff, &input, None, StatusCode::FORBIDDEN, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The draft at `id` the member of staff may change, or the page saying why not.
async fn editable(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<Result<consult_core::Consultation, Response>, ApiError> {
    let Ok(id) = id.parse::<ConsultationId>() else {
        return Ok(Err(super::not_found()?));
    };
    match state.app.writable_consultation(&staff.session.actor, id).await {
        Ok(c) => match consult_core::check_edit(&c, &staff.session.actor, state.app.today()) {
            Ok(()) => Ok(Ok(c)),
            Err(e) => Ok(Err(message(
                StatusCode::CONFLICT,
                "This activity cannot be edited now",
                &e.to_string(),
                Some(&format!("/staff/activities/{id}")),
            )?)),
        },
        Err(AppError::NotFound(_)) => Ok(Err(super::not_found()?)),
        Err(AppError::Forbidden(m)) => Ok(Err(message(
            StatusCode::FORBIDDEN,
            "You cannot change this activity",
            &m,
            Some(&format!("/staff/activities/{id}")),
        )?)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /staff/activities/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let c = match editable(&state, &staff, &id).await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    form_page(
        &state,
        &staff,
        &c.plan.to_input(),
        Some((c.id, c.version)),
        StatusCode::OK,
        vec![],
    )
    .await
}

/// `POST /staff/activities/{id}/edit`: the plan replaced by the form's (what the form does not
/// show kept), checked as a new plan would be.
pub(super) async fn edit_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let c = match editable(&state, &staff, &id).await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    let input = input_from(&posted, c.plan.to_input());
    // Someone saved it since this form was opened: their change is not overwritten.
    if posted.one("version") != Some(c.version.to_string().as_str()) {
        let errors = vec![(
            "title".to_owned(),
            "Someone saved this draft after you opened it: this form now shows their version. \
             Make your changes again."
                .to_owned(),
        )];
        return form_page(
            &state,
            &staff,
            &c.plan.to_input(),
            Some((c.id, c.version)),
            StatusCode::CONFLICT,
            errors,
        )
        .await;
    }
    let patch = serde_json::to_value(&input).map_err(|e| ApiError::Internal(e.to_string()))?;
    match state.app.patch_consultation(&staff.session.actor, c.id, patch).await {
        Ok(_) => see_other(&format!("/staff/activities/{}?done=saved", c.id), None),
        Err(AppError::Invalid(e)) => {
            form_page(
                &state,
                &staff,
                &input,
                Some((c.id, c.version)),
                StatusCode::UNPROCESSABLE_ENTITY,
                field_errors(&e),
            )
            .await
        }
        Err(AppError::Forbidden(m)) | Err(AppError::Conflict(m)) => {
            let errors = vec![("title".to_owned(), m)];
            form_page(
                &state,
                &staff,
                &input,
                Some((c.id, c.version)),
                StatusCode::CONFLICT,
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /staff/activities/{id}/attestations`: one answer to a checklist question (`check`,
/// `answer` yes or no, `evidence`), recorded by `App::attest`; the activity's page again.
pub(super) async fn attest(
    State(state): State<AppState>,
    Path(id): Path<String>,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let Ok(cid) = id.parse::<ConsultationId>() else {
        return super::not_found();
    };
    let check = posted.one("check").unwrap_or_default().to_owned();
    let answer = AttestationInput {
        check: Some(check.clone()),
        answer: posted.one("answer").map(str::to_owned),
        evidence: posted.one("evidence").map(str::to_owned),
    };
    let anchor = format!("attest-{}", check.replace('/', "-"));
    match state.app.attest(&staff.session.actor, cid, vec![answer]).await {
        Ok(_) => {
            super::pages::activity_page(
                &state,
                &staff,
                cid,
                StatusCode::OK,
                vec![],
                Some("Your answer is recorded.".into()),
            )
            .await
        }
        Err(AppError::Invalid(e)) => {
            let errors = e.errors().iter().map(|f| (anchor.clone(), f.message.clone())).collect();
            super::pages::activity_page(&state, &staff, cid, StatusCode::UNPROCESSABLE_ENTITY, errors, None).await
        }
        Err(AppError::Conflict(m)) | Err(AppError::Forbidden(m)) => {
            super::pages::activity_page(&state, &staff, cid, StatusCode::CONFLICT, vec![(anchor, m)], None).await
        }
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::anchor;

    #[test]
    fn errors_point_at_the_form_fields() {
        assert_eq!(anchor("audience.areas[2]"), "areas");
        assert_eq!(anchor("audience.groups[0]"), "groups");
        assert_eq!(anchor("audience"), "groups");
        assert_eq!(anchor("methods[1]"), "methods");
        assert_eq!(anchor("opens_on"), "opens_on");
        assert_eq!(anchor("cost.amount"), "cost");
    }
}

//! Administration in the workspace: staff accounts listed, added, disabled and enabled, through
//! the use cases of the API's `/api/v1/users` (admins only; every change audited, a disabled
//! account signed out everywhere).

use super::{Staff, StaffForm, Who, message, see_other, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Text;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use consult_app::{AppError, UserPatch};
use consult_core::{StaffRole, StaffUserInput};

/// An account as the list shows it.
#[derive(Debug)]
struct Row {
    id: uuid::Uuid,
    name: String,
    email: String,
    role: &'static str,
    service: Option<String>,
    wards: String,
    organisation: Option<String>,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "staff/users.html")]
struct UsersPage {
    text: &'static Text,
    who: Who,
    users: Vec<Row>,
    fields: Vec<(&'static str, &'static str, String)>,
    roles: Vec<(&'static str, &'static str, bool)>,
    errors: Vec<(String, String)>,
    done: Option<String>,
}

impl UsersPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn has_error(&self, id: &str) -> bool {
        self.errors.iter().any(|e| e.0 == id)
    }
}

/// The add form's text fields: (name, label).
const FIELDS: &[(&str, &str)] = &[
    ("email", "E-mail address"),
    ("name", "Name"),
    ("organisation", "Organisation (its short name, for example tamworth)"),
    ("service", "Service (service leads)"),
    ("wards", "Wards (councillors: area codes separated by spaces)"),
];

async fn users_page(
    state: &AppState,
    staff: &Staff,
    input: &StaffUserInput,
    status: StatusCode,
    errors: Vec<(String, String)>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let users = match state.app.users(actor).await {
        Ok(u) => u,
        Err(AppError::Forbidden(_)) => {
            return message(
                StatusCode::FORBIDDEN,
                "Admins only",
                "Only an admin manages staff accounts.",
                Some("/staff"),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let value = |name: &str| match name {
        "email" => input.email.clone().unwrap_or_default(),
        "name" => input.name.clone().unwrap_or_default(),
        "organisation" => input.organisation.clone().unwrap_or_default(),
        "service" => input.service.clone().unwrap_or_default(),
        _ => input.wards.join(" "),
    };
    let page = UsersPage {
        text: text(),
        who: staff.who(None),
        users: users
            .into_iter()
            .map(|u| Row {
                id: u.id,
                name: u.name,
                email: u.email,
                role: super::role_label(u.role),
                service: u.service,
                wards: u.wards.join(", "),
                organisation: u.organisation,
                disabled: u.disabled,
            })
            .collect(),
        fields: FIELDS.iter().map(|&(n, l)| (n, l, value(n))).collect(),
        roles: StaffRole::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str(),
                    super::role_label(*r),
                    input.role.as_deref() == Some(r.as_str()),
                )
            })
            .collect(),
        errors,
        done,
    };
    staff_page(&page, status, None)
}

/// A page's query: what was just done (`?done=...`, after a form's redirect).
#[derive(Debug, serde::Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

impl Done {
    /// What was done, if the page came after a form.
    pub(super) fn done(&self) -> Option<&str> {
        self.done.as_deref()
    }
}

/// `GET /staff/admin/users`.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    let done = match q.done.as_deref() {
        Some("added") => Some("The account is added.".to_owned()),
        Some("disabled") => Some("The account is disabled and signed out everywhere.".to_owned()),
        Some("enabled") => Some("The account is enabled.".to_owned()),
        _ => None,
    };
    users_page(&state, &staff, &StaffUserInput::default(), StatusCode::OK, vec![], done).await
}

/// `POST /staff/admin/users`: an account added, or the form again with every refusal.
pub(super) async fn add(
    State(state): State<AppState>,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let one = |n: &str| posted.one(n).map(str::to_owned);
    let input = StaffUserInput {
        email: one("email"),
        name: one("name"),
        role: one("role"),
        organisation: one("organisation"),
        service: one("service"),
        wards: posted
            .raw("wards")
            .unwrap_or_default()
            .split([' ', ','])
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect(),
        stopped_messages: vec![],
    };
    match state.app.create_user(&staff.session.actor, &input).await {
        Ok(_) => see_other("/staff/admin/users?done=added", None),
        Err(AppError::Invalid(e)) => {
            let errors = e
                .errors()
                .iter()
                .map(|f| {
                    (
                        f.field.split('[').next().unwrap_or(&f.field).to_owned(),
                        f.message.clone(),
                    )
                })
                .collect();
            users_page(&state, &staff, &input, StatusCode::UNPROCESSABLE_ENTITY, errors, None).await
        }
        Err(AppError::Conflict(m)) => {
            users_page(
                &state,
                &staff,
                &input,
                StatusCode::CONFLICT,
                vec![("email".to_owned(), m)],
                None,
            )
            .await
        }
        Err(AppError::Forbidden(_)) => message(
            StatusCode::FORBIDDEN,
            "Admins only",
            "Only an admin manages staff accounts.",
            Some("/staff"),
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /staff/admin/users/{id}/disable` and `.../enable`.
pub(super) async fn set_disabled(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    StaffForm { staff, posted: _ }: StaffForm,
) -> Result<Response, ApiError> {
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return super::not_found(),
    };
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return super::not_found();
    };
    let patch = UserPatch {
        disabled: Some(disabled),
        ..UserPatch::default()
    };
    match state.app.update_user(&staff.session.actor, id, &patch).await {
        Ok(_) => see_other(&format!("/staff/admin/users?done={action}d"), None),
        Err(AppError::Forbidden(_)) => message(
            StatusCode::FORBIDDEN,
            "Admins only",
            "Only an admin manages staff accounts.",
            Some("/staff"),
        ),
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(e) => Err(e.into()),
    }
}

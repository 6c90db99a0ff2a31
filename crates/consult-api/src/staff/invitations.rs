//! Invitations in the workspace: for a coordinator, the plan for an activity's matching
//! residents (invitations per channel, who is left out and why, as counts) and the button that
//! commits it; for the owner's officers and coordinators, what became of the invitations queued
//! (the activity's outbox: counts per channel and status, and for coordinators the messages,
//! recipients masked). Through the use cases the API's invitations endpoints call
//! (`App::invite`, `App::invitation_deliveries`).

use super::{ActivityId, Staff, StaffForm, Who, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Text;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use consult_app::AppError;
use consult_app::PageRequest;
use consult_core::{ConsultationId, Exclusion};

/// The plan's counts, in words.
#[derive(Debug)]
struct PlanView {
    invited: u64,
    by_channel: Vec<(&'static str, u64)>,
    excluded: Vec<(&'static str, u64)>,
}

/// One message of the activity's outbox.
#[derive(Debug)]
struct MessageRow {
    channel: &'static str,
    status: &'static str,
    recipient: String,
    created: String,
    last_error: String,
}

#[derive(Template)]
#[template(path = "staff/invitations.html")]
struct InvitationsPage {
    text: &'static Text,
    who: Who,
    id: ConsultationId,
    title: String,
    /// The plan, for coordinators.
    plan: Option<PlanView>,
    /// Whether the plan may be committed today (approved or open).
    can_send: bool,
    /// Why not, when it may not.
    send_note: String,
    total: u64,
    /// The statuses shown as columns.
    statuses: Vec<&'static str>,
    /// Per channel: its name and a count per status.
    rows: Vec<(&'static str, Vec<u64>)>,
    oldest_waiting: Option<String>,
    /// The messages, for coordinators (newest first, the first page).
    messages: Option<Vec<MessageRow>>,
    errors: Vec<(String, String)>,
    done: Option<String>,
}

/// The statuses of the deliveries table, in the order a message goes through them.
const STATUSES: [&str; 6] = ["queued", "sending", "sent", "failed", "suppressed", "cancelled"];

fn channel_name(channel: &str) -> &'static str {
    match channel {
        "email" => "E-mail",
        "sms" => "Text message",
        "phone" => "Telephone",
        "post" => "Letter",
        _ => "Other",
    }
}

fn exclusion_reason(e: Exclusion) -> &'static str {
    match e {
        Exclusion::NoConsent => "Consent withdrawn",
        Exclusion::NoChannel => "No way to reach them",
        Exclusion::AlreadyInvited => "Already invited to this activity",
        Exclusion::FatigueMaxContacts => "Invited too often in the fatigue window",
        Exclusion::FatigueMinGap => "Invited too recently (the fatigue rules' gap)",
    }
}

fn status_name(status: &str) -> &'static str {
    match status {
        "queued" => "Waiting",
        "sending" => "Sending",
        "sent" => "Sent",
        "failed" => "Failed",
        "suppressed" => "Suppressed",
        "cancelled" => "Cancelled",
        _ => "Other",
    }
}

async fn invitations_page(
    state: &AppState,
    staff: &Staff,
    id: ConsultationId,
    status: StatusCode,
    errors: Vec<(String, String)>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let c = match super::changeable(state, staff, id, "see this activity's invitations").await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    let coordinator = actor.is_coordinator();
    let plan = if coordinator {
        let planned = state.app.invite(actor, id, true).await?.plan;
        Some(PlanView {
            invited: planned.invited.len() as u64,
            by_channel: planned
                .by_channel
                .iter()
                .map(|(ch, n)| (channel_name(ch.as_str()), *n))
                .collect(),
            excluded: planned
                .excluded
                .iter()
                .map(|(e, n)| (exclusion_reason(*e), *n))
                .collect(),
        })
    } else {
        None
    };
    let takes = c.check_takes_invitations(state.app.today());
    let send_note = match (&takes, coordinator) {
        (Err(e), _) => format!("Invitations go out once the activity is approved and until it closes: {e}."),
        (Ok(()), false) => {
            "Sending the invitations is the partnership coordinator's: ask them when the activity is ready.".to_owned()
        }
        (Ok(()), true) => String::new(),
    };
    let deliveries = state
        .app
        .invitation_deliveries(
            actor,
            id,
            &PageRequest {
                limit: 50,
                cursor: None,
            },
        )
        .await?;
    let rows = deliveries
        .by_channel
        .iter()
        .map(|(ch, counts)| {
            (
                channel_name(ch),
                STATUSES.iter().map(|s| counts.get(*s).copied().unwrap_or(0)).collect(),
            )
        })
        .collect();
    let messages = deliveries.messages.map(|list| {
        list.into_iter()
            .map(|m| MessageRow {
                channel: channel_name(m.channel.as_str()),
                status: status_name(m.status.as_str()),
                recipient: m.recipient.unwrap_or_else(|| "(erased)".to_owned()),
                created: m.created_at.format("%-d %b %Y %H:%M").to_string(),
                last_error: m.last_error.unwrap_or_default(),
            })
            .collect()
    });
    let page = InvitationsPage {
        text: text(),
        who: super::who(state, staff).await?,
        id,
        title: c.plan.title().to_owned(),
        plan,
        can_send: coordinator && takes.is_ok(),
        send_note,
        total: deliveries.total,
        statuses: STATUSES.iter().map(|s| status_name(s)).collect(),
        rows,
        oldest_waiting: deliveries
            .oldest_waiting
            .map(|t| t.format("%-d %B %Y %H:%M UTC").to_string()),
        messages,
        errors,
        done,
    };
    staff_page(&page, status, None)
}

/// `GET /staff/activities/{id}/invitations`.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    ActivityId(id): ActivityId,
) -> Result<Response, ApiError> {
    invitations_page(&state, &staff, id, StatusCode::OK, vec![], None).await
}

/// `POST /staff/activities/{id}/invitations`: the plan committed (coordinators): contacts
/// recorded and each invitation queued on its resident's channel, in one transaction.
pub(super) async fn send(
    State(state): State<AppState>,
    ActivityId(id): ActivityId,
    StaffForm { staff, .. }: StaffForm,
) -> Result<Response, ApiError> {
    match state.app.invite(&staff.session.actor, id, false).await {
        Ok(sent) => {
            let done = format!(
                "{} residents invited; {} invitations queued (one each, however often the plan is sent).",
                sent.plan.invited.len(),
                sent.queued
            );
            invitations_page(&state, &staff, id, StatusCode::OK, vec![], Some(done)).await
        }
        Err(AppError::Forbidden(m)) if !staff.session.actor.is_coordinator() => super::message(
            StatusCode::FORBIDDEN,
            "Your account cannot do this",
            &format!("You cannot send these invitations: {m}."),
            Some(&format!("/staff/activities/{id}/invitations")),
        ),
        Err(AppError::Conflict(m)) => {
            let errors = vec![("send".to_owned(), m)];
            invitations_page(&state, &staff, id, StatusCode::CONFLICT, errors, None).await
        }
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(e) => Err(e.into()),
    }
}

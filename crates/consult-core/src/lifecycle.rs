//! The lifecycle of an activity (API.md statuses), who may move it, and the dates that move it
//! without anyone acting. Pure: `today` and `now` are always passed in.

use crate::area::AreaCode;
use crate::consultation::Consultation;
use crate::error::ValidationErrors;
use crate::organisation::OrganisationId;
use crate::principles::{Assessment, CheckResult};
use crate::staff::StaffRole;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Where an activity is in its lifecycle.
// Read from text by `FromStr` (serde too), so an unknown status is refused with the list of
// known ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Status {
    /// Being planned by its owner; not public.
    Draft,
    /// Waiting for a coordinator's approval; not public.
    Submitted,
    /// Approved and in the forward plan; opens on its opening date.
    Approved,
    /// Taking part is possible now.
    Open,
    /// Closed to responses; results being analysed.
    Closed,
    /// "You said, we did" has been published.
    ResultsPublished,
    /// Evaluated after the event.
    Evaluated,
    /// Withdrawn before it ran its course; not public.
    Withdrawn,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 8] = [
        Self::Draft,
        Self::Submitted,
        Self::Approved,
        Self::Open,
        Self::Closed,
        Self::ResultsPublished,
        Self::Evaluated,
        Self::Withdrawn,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Approved => "approved",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::ResultsPublished => "results_published",
            Self::Evaluated => "evaluated",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// True for statuses the public can read (everything but draft, submitted and withdrawn).
    pub fn is_public(self) -> bool {
        !matches!(self, Self::Draft | Self::Submitted | Self::Withdrawn)
    }

    /// The status seen on `today` for an activity recorded as `self` with these dates: approved
    /// opens on `opens_on`; approved or open closes after `closes_on` (the closing day is open).
    ///
    /// ```
    /// use consult_core::Status;
    /// use chrono::NaiveDate;
    /// let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    /// let (o, c) = (d("2026-01-05"), d("2026-03-29"));
    /// assert_eq!(Status::Approved.on(o, c, d("2026-01-04")), Status::Approved);
    /// assert_eq!(Status::Approved.on(o, c, d("2026-03-29")), Status::Open);
    /// assert_eq!(Status::Approved.on(o, c, d("2026-03-30")), Status::Closed);
    /// ```
    pub fn on(self, opens_on: NaiveDate, closes_on: NaiveDate, today: NaiveDate) -> Status {
        match self {
            Self::Approved | Self::Open if today > closes_on => Self::Closed,
            Self::Approved if today >= opens_on => Self::Open,
            other => other,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Status {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| {
            format!("unknown status `{s}`; expected one of draft, submitted, approved, open, closed, results_published, evaluated, withdrawn")
        })
    }
}

/// What a token holder may do (API.md "Auth").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Every organisation's activities, approvals, reports (the corporate consultation officer).
    Coordinator,
    /// The activities of its own organisation.
    Officer,
}

impl Role {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Coordinator => "coordinator",
            Self::Officer => "officer",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(Self::Admin),
            "coordinator" => Ok(Self::Coordinator),
            "officer" => Ok(Self::Officer),
            other => Err(format!(
                "unknown role `{other}`; expected admin, coordinator or officer"
            )),
        }
    }
}

/// Who is acting: a named token holder with a role, scoped to an organisation for officers; or
/// a member of staff signed in to the workspace, whose account's role ([`StaffAccess`]) narrows
/// what the token role alone would allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Display name for the audit log.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The officer's organisation (coordinators and admins may have one too).
    pub organisation: Option<OrganisationId>,
    /// The staff account acting, when signed in to the workspace (`None` for bearer tokens,
    /// which keep the contract's three roles as they are).
    pub staff: Option<StaffAccess>,
}

/// What a signed-in member of staff's account adds to their [`Actor`]: the partnership role,
/// their service (service leads) and the areas their wards reach (councillors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccess {
    /// The account.
    pub user: uuid::Uuid,
    /// Its role.
    pub role: StaffRole,
    /// Its service (a service lead's activities are that service's).
    pub service: Option<String>,
    /// Every area a councillor's wards touch: the wards, the areas containing them and the
    /// areas inside them ([`crate::AreaHierarchy::related`]). Empty for other roles.
    pub reach: BTreeSet<AreaCode>,
}

impl Actor {
    /// True for coordinators and admins.
    pub fn is_coordinator(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Coordinator)
    }

    /// The staff role acting, if signed in to the workspace.
    pub fn staff_role(&self) -> Option<StaffRole> {
        self.staff.as_ref().map(|s| s.role)
    }

    /// True when the actor only reads (councillors and viewers).
    pub fn read_only(&self) -> bool {
        matches!(self.staff_role(), Some(StaffRole::Councillor | StaffRole::Viewer))
    }

    /// True when the actor may write activities of `org`: coordinators everywhere, officers,
    /// service leads and organisation coordinators in their own organisation; never councillors
    /// or viewers.
    pub fn may_write(&self, org: OrganisationId) -> bool {
        !self.read_only() && (self.is_coordinator() || self.organisation == Some(org))
    }

    /// True when the actor may change this activity: [`Actor::may_write`] for its organisation,
    /// and a service lead only their own service's.
    pub fn may_change(&self, c: &Consultation) -> bool {
        self.may_write(c.organisation_id) && self.within_service(c.plan.service())
    }

    /// True unless the actor is a service lead and `service` is not theirs.
    pub fn within_service(&self, service: Option<&str>) -> bool {
        match &self.staff {
            Some(s) if s.role == StaffRole::ServiceLead => {
                service.is_some_and(|svc| s.service.as_deref().is_some_and(|mine| mine.eq_ignore_ascii_case(svc)))
            }
            _ => true,
        }
    }

    /// True when the actor makes the coordinator's decisions of the lifecycle (approval,
    /// sending back to draft, closing early, marking evaluated) for `org`'s activities: the
    /// partnership's coordinators and admins everywhere, an organisation coordinator in their
    /// own organisation. Overrides and publishing results stay the partnership coordinator's
    /// ([`Actor::is_coordinator`]).
    pub fn coordinates(&self, org: OrganisationId) -> bool {
        self.is_coordinator()
            || (self.staff_role() == Some(StaffRole::OrganisationCoordinator) && self.organisation == Some(org))
    }

    /// True when the actor may read an activity in this status: public statuses for everyone,
    /// the rest for its own organisation's officers and for coordinators.
    pub fn may_read(&self, org: OrganisationId, status: Status) -> bool {
        status.is_public()
            || self.is_coordinator()
            || (self.organisation == Some(org) && self.staff_role() != Some(StaffRole::Councillor))
    }

    /// True when the actor may read this activity in this status before it is public (or
    /// after it is withdrawn): [`Actor::may_read`], narrowed to their service for a service
    /// lead, and for a councillor every activity whose areas touch their wards.
    pub fn may_read_activity(&self, c: &Consultation, status: Status) -> bool {
        if status.is_public() {
            return true;
        }
        match &self.staff {
            Some(s) if s.role == StaffRole::Councillor => c.plan.audience().areas.iter().any(|a| s.reach.contains(a)),
            Some(s) if s.role == StaffRole::ServiceLead => {
                self.may_read(c.organisation_id, status) && self.within_service(c.plan.service())
            }
            _ => self.may_read(c.organisation_id, status),
        }
    }

    /// The role and organisation the public record names this actor by.
    pub fn signer(&self) -> Signer {
        Signer {
            role: self.role,
            organisation: self.organisation,
        }
    }
}

/// Who made a change, as the public record names them: their role and organisation, never the
/// token holder's name (which staff see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer {
    /// Role.
    pub role: Role,
    /// Organisation, when the token has one.
    pub organisation: Option<OrganisationId>,
}

/// What the public record says for a change recorded before roles were kept.
pub const UNKNOWN_SIGNER: &str = "staff";

/// What the public record says for a change made by the dates.
pub const SCHEDULE: &str = "schedule";

impl Signer {
    /// The public label: the role, then the organisation's slug when there is one
    /// (`coordinator`, `officer, tamworth`).
    pub fn label(&self, organisation_slug: Option<&str>) -> String {
        match organisation_slug {
            Some(slug) => format!("{}, {slug}", self.role.as_str()),
            None => self.role.as_str().to_owned(),
        }
    }
}

/// The label the public record shows for who made a change: the schedule stays `schedule`, a
/// person is named by role and organisation (`slug_of` gives an organisation's slug), and a
/// change recorded before roles were kept is `staff`.
pub fn public_signature(
    by: &str,
    signer: Option<&Signer>,
    slug_of: impl Fn(OrganisationId) -> Option<String>,
) -> String {
    match signer {
        Some(s) => s.label(s.organisation.and_then(slug_of).as_deref()),
        None if by == SCHEDULE => SCHEDULE.to_owned(),
        None => UNKNOWN_SIGNER.to_owned(),
    }
}

/// One status change, as recorded in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    /// Status before.
    pub from: Status,
    /// Status after.
    pub to: Status,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: the token holder's name for staff, their role and organisation for the public
    /// (`coordinator`, `officer, tamworth`; `staff` when not recorded); `schedule` for opening
    /// and closing on the dates.
    pub by: String,
    /// The reason given.
    pub reason: Option<String>,
    /// A coordinator's recorded justification for approving despite failing checks.
    #[serde(rename = "override")]
    pub override_justification: Option<String>,
    /// Who made it by role and organisation (`None` for the schedule and for changes recorded
    /// before roles were kept): what the public record shows instead of `by`.
    #[serde(skip)]
    pub signer: Option<Signer>,
}

/// The record of an activity's approval: who approved it, any override, and the principles
/// checklist as it stood then, so the public record shows how it met the charter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    /// When.
    pub at: DateTime<Utc>,
    /// The approving coordinator: the token holder's name for staff, their role and
    /// organisation for the public (as in the status history).
    pub by: String,
    /// The justification recorded for approving despite failing blocking checks.
    #[serde(rename = "override")]
    pub override_justification: Option<String>,
    /// The assessment at approval.
    pub assessment: Assessment,
    /// Who approved it by role and organisation (`None` when recorded before roles were kept).
    #[serde(skip)]
    pub signer: Option<Signer>,
}

/// A request to move an activity to another status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransitionRequest {
    /// Target status.
    #[cfg_attr(feature = "openapi", schema(value_type = Status))]
    pub to: Option<Status>,
    /// Why (required to reject, close early or withdraw).
    pub reason: Option<String>,
    /// Justification for approving despite failing blocking checks (coordinators only).
    #[serde(rename = "override")]
    pub override_justification: Option<String>,
}

/// Why a transition cannot happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The request itself is malformed (unknown status, missing reason).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The actor's role or organisation does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// The activity's state does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// Approval refused: blocking checks of the principles checklist fail and no override was
    /// given.
    #[error("{message}")]
    Blocked {
        /// Plain-English summary.
        message: String,
        /// The failing blocking checks.
        failing: Vec<CheckResult>,
    },
}

/// What a transition is decided against besides the request: the date, and for approval the
/// principles checklist.
#[derive(Debug, Clone, Copy)]
pub struct TransitionContext<'a> {
    /// Today.
    pub today: NaiveDate,
    /// Now, for the history.
    pub now: DateTime<Utc>,
    /// The activity's assessment; required to approve.
    pub assessment: Option<&'a Assessment>,
    /// Whether its debrief is recorded; required to move to `evaluated`.
    pub debriefed: bool,
}

/// Which role a transition needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Owner,
    Coordinator,
}

/// The transitions a person can make: (from, to, who, reason required).
const TRANSITIONS: &[(Status, Status, Who, bool)] = &[
    (Status::Draft, Status::Submitted, Who::Owner, false),
    (Status::Submitted, Status::Draft, Who::Coordinator, true),
    (Status::Submitted, Status::Approved, Who::Coordinator, false),
    (Status::Open, Status::Closed, Who::Coordinator, true),
    (Status::Closed, Status::ResultsPublished, Who::Coordinator, false),
    (Status::ResultsPublished, Status::Evaluated, Who::Coordinator, false),
    (Status::Draft, Status::Withdrawn, Who::Owner, true),
    (Status::Submitted, Status::Withdrawn, Who::Owner, true),
    (Status::Approved, Status::Withdrawn, Who::Owner, true),
    (Status::Open, Status::Withdrawn, Who::Owner, true),
];

/// The statuses a person may move an activity to from `from`.
pub fn allowed_targets(from: Status) -> Vec<Status> {
    TRANSITIONS.iter().filter(|t| t.0 == from).map(|t| t.1).collect()
}

/// The changes the dates have made to an activity recorded as `recorded` by `today`, which the
/// history shows as made by `schedule`: opening at the start of `opens_on`, closing at the start of
/// the day after `closes_on`.
pub fn scheduled_changes(
    recorded: Status,
    opens_on: NaiveDate,
    closes_on: NaiveDate,
    today: NaiveDate,
) -> Vec<StatusChange> {
    let at = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_default();
    let change = |from, to, on| StatusChange {
        from,
        to,
        at: at(on),
        by: SCHEDULE.into(),
        reason: None,
        override_justification: None,
        signer: None,
    };
    let mut out = Vec::new();
    if recorded == Status::Approved && today >= opens_on {
        out.push(change(Status::Approved, Status::Open, opens_on));
    }
    if matches!(recorded, Status::Approved | Status::Open) && today > closes_on {
        let day_after = closes_on.checked_add_days(Days::new(1)).unwrap_or(closes_on);
        out.push(change(Status::Open, Status::Closed, day_after));
    }
    out
}

/// Decides a transition: checks the request, the actor's right and the activity's state, and
/// returns the changes to record (scheduled ones first, so the history stays complete).
pub fn plan_transition(
    consultation: &Consultation,
    request: &TransitionRequest,
    actor: &Actor,
    ctx: &TransitionContext<'_>,
) -> Result<Vec<StatusChange>, TransitionError> {
    let (today, now) = (ctx.today, ctx.now);
    let mut errors = ValidationErrors::new();
    let to = request.to;
    if to.is_none() {
        errors.push("to", "is required");
    }
    let reason = request.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        errors.push("reason", "must be at most 2000 characters");
    }
    if let Some(problem) = reason.and_then(crate::text::text_problem) {
        errors.push("reason", problem);
    }
    let justification = request
        .override_justification
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(problem) = justification.and_then(crate::text::text_problem) {
        errors.push("override_justification", problem);
    }
    let Some(to) = to else {
        return Err(TransitionError::Invalid(errors));
    };

    if actor.read_only() {
        return Err(TransitionError::Forbidden(
            "this account reads activities and changes none".into(),
        ));
    }
    if !actor.may_write(consultation.organisation_id) {
        return Err(TransitionError::Forbidden(
            "officers can only change their own organisation's activities".into(),
        ));
    }
    if !actor.may_change(consultation) {
        return Err(TransitionError::Forbidden(
            "a service lead can only change their own service's activities".into(),
        ));
    }
    let from = consultation.status_on(today);
    if to == Status::Open && from == Status::Approved {
        return Err(TransitionError::Conflict(format!(
            "an approved activity opens automatically on its opening date ({})",
            consultation.plan.opens_on()
        )));
    }
    if to == Status::ResultsPublished && from == Status::Closed {
        return Err(TransitionError::Conflict(
            "results are published by publishing the feedback (what people said and what was done): \
             see consult_core::plan_publication"
                .into(),
        ));
    }
    if to == Status::Evaluated && from == Status::ResultsPublished && !ctx.debriefed {
        return Err(TransitionError::Conflict(
            "record the debrief first: what worked, what did not, learning points".into(),
        ));
    }
    if to == Status::Closed && from == Status::Open && today > consultation.plan.closes_on() {
        return Err(TransitionError::Conflict("already closed on its closing date".into()));
    }
    let Some(&(_, _, who, needs_reason)) = TRANSITIONS.iter().find(|t| t.0 == from && t.1 == to) else {
        let allowed = allowed_targets(from);
        let allowed = if allowed.is_empty() {
            "none".to_owned()
        } else {
            allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        };
        return Err(TransitionError::Conflict(format!(
            "cannot move from {from} to {to}; allowed from {from}: {allowed}"
        )));
    };
    if who == Who::Coordinator && !actor.coordinates(consultation.organisation_id) {
        return Err(TransitionError::Forbidden(format!(
            "only the partnership's coordinator or this organisation's coordinator can move an activity from {from} to {to}"
        )));
    }
    if needs_reason && reason.is_none() {
        errors.push("reason", format!("a reason is required to move from {from} to {to}"));
    }
    if justification.is_some() && to != Status::Approved {
        errors.push("override", "an override justification only applies to approval");
    }
    if justification.is_some() && !actor.is_coordinator() {
        return Err(TransitionError::Forbidden(
            "only the partnership's coordinator can approve with an override".into(),
        ));
    }
    if !errors.is_empty() {
        return Err(TransitionError::Invalid(errors));
    }
    if matches!(to, Status::Submitted | Status::Approved) && consultation.plan.closes_on() < today {
        return Err(TransitionError::Conflict(format!(
            "its closing date {} has passed; change the dates first",
            consultation.plan.closes_on()
        )));
    }
    if to == Status::Approved {
        let Some(assessment) = ctx.assessment else {
            return Err(TransitionError::Conflict(
                "the principles checklist must be assessed before approval".into(),
            ));
        };
        let failing = assessment.blocking_failures();
        match (failing.is_empty(), justification) {
            (true, Some(_)) => {
                return Err(TransitionError::Invalid(ValidationErrors::single(
                    "override",
                    "no blocking check fails, so there is nothing to override",
                )));
            }
            (false, None) => {
                let ids: Vec<&str> = failing.iter().map(|c| c.id.as_str()).collect();
                return Err(TransitionError::Blocked {
                    message: format!(
                        "{} blocking check(s) fail: {}; fix the plan, or approve with an override and its justification",
                        failing.len(),
                        ids.join(", ")
                    ),
                    failing: failing.into_iter().cloned().collect(),
                });
            }
            _ => {}
        }
    }

    let mut changes = scheduled_changes(
        consultation.recorded_status,
        consultation.plan.opens_on(),
        consultation.plan.closes_on(),
        today,
    );
    changes.push(StatusChange {
        from,
        to,
        at: now,
        by: actor.name.clone(),
        reason: reason.map(str::to_owned),
        override_justification: justification.map(str::to_owned),
        signer: Some(actor.signer()),
    });
    Ok(changes)
}

/// Checks that `actor` may edit the plan of `consultation` on `today`: drafts only, by the owner
/// organisation's officers or a coordinator.
pub fn check_edit(consultation: &Consultation, actor: &Actor, today: NaiveDate) -> Result<(), TransitionError> {
    if actor.read_only() {
        return Err(TransitionError::Forbidden(
            "this account reads activities and changes none".into(),
        ));
    }
    if !actor.may_write(consultation.organisation_id) {
        return Err(TransitionError::Forbidden(
            "officers can only change their own organisation's activities".into(),
        ));
    }
    if !actor.may_change(consultation) {
        return Err(TransitionError::Forbidden(
            "a service lead can only change their own service's activities".into(),
        ));
    }
    match consultation.status_on(today) {
        Status::Draft => Ok(()),
        other => Err(TransitionError::Conflict(format!(
            "only a draft can be edited; this activity is {other} (a coordinator can return a submitted activity to draft)"
        ))),
    }
}

/// A step the activity's status does not allow today; the message says which statuses do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotNow(pub String);

impl Consultation {
    /// Whether the activity takes a response today: only while it is open.
    pub fn check_takes_responses(&self, today: NaiveDate) -> Result<(), NotNow> {
        match self.status_on(today) {
            Status::Open => Ok(()),
            status => Err(NotNow(format!(
                "this activity is {status}; it takes responses while open ({} to {})",
                self.plan.opens_on(),
                self.plan.closes_on()
            ))),
        }
    }

    /// Whether an officer can key a response that came by post, e-mail, telephone or at an event
    /// today: while open, and after closing for the plan's late-response days (14 by default).
    pub fn check_takes_keyed_responses(&self, today: NaiveDate) -> Result<(), NotNow> {
        let until = self.plan.late_responses_until();
        match self.status_on(today) {
            Status::Open => Ok(()),
            Status::Closed if today <= until => Ok(()),
            status => Err(NotNow(format!(
                "this activity is {status}; officers key offline responses while it is open ({} to {}) \
                 and until {until}, {} days after it closes",
                self.plan.opens_on(),
                self.plan.closes_on(),
                self.plan.late_responses_days()
            ))),
        }
    }

    /// Whether responses collected elsewhere (paper, a survey tool) can be imported today: while
    /// open, and after closing until the results are published.
    pub fn check_takes_imported_responses(&self, today: NaiveDate) -> Result<(), NotNow> {
        match self.status_on(today) {
            Status::Open | Status::Closed => Ok(()),
            status => Err(NotNow(format!(
                "responses can be imported while open or closed; this activity is {status}"
            ))),
        }
    }

    /// Whether "you said, we did" can be recorded today: once the activity has opened.
    pub fn check_takes_feedback(&self, today: NaiveDate) -> Result<(), NotNow> {
        match self.status_on(today) {
            Status::Open | Status::Closed | Status::ResultsPublished | Status::Evaluated => Ok(()),
            status => Err(NotNow(format!(
                "feedback is recorded once an activity has opened; this one is {status}"
            ))),
        }
    }

    /// Whether the public may see the activity's equality figures today: once it has closed, so
    /// nobody can add responses of their own and watch the figures move.
    pub fn check_public_figures(&self, today: NaiveDate) -> Result<(), NotNow> {
        match self.status_on(today) {
            Status::Closed | Status::ResultsPublished | Status::Evaluated => Ok(()),
            status => Err(NotNow(format!(
                "equality figures are published once an activity has closed; this one is {status}"
            ))),
        }
    }

    /// Whether the public may see the analysis of the activity's answers today: once its
    /// results are published (the figures are then fixed: nobody can add a response).
    pub fn check_public_analysis(&self, today: NaiveDate) -> Result<(), NotNow> {
        match self.status_on(today) {
            Status::ResultsPublished | Status::Evaluated => Ok(()),
            status => Err(NotNow(format!(
                "the analysis of answers is public once results are published; this activity is {status}"
            ))),
        }
    }

    /// Whether the activity can be debriefed today: after it closes.
    pub fn check_takes_debrief(&self, today: NaiveDate) -> Result<(), NotNow> {
        match self.status_on(today) {
            Status::Closed | Status::ResultsPublished | Status::Evaluated => Ok(()),
            status => Err(NotNow(format!(
                "an activity is debriefed after it closes; this one is {status}"
            ))),
        }
    }

    /// Whether checklist answers (attestations) can be given today: before approval only.
    pub fn check_takes_attestations(&self, today: NaiveDate) -> Result<(), NotNow> {
        match self.status_on(today) {
            Status::Draft | Status::Submitted => Ok(()),
            status => Err(NotNow(format!(
                "answers can be given before approval only; this activity is {status}"
            ))),
        }
    }

    /// Whether invitations can be sent today: once approved, until it closes.
    pub fn check_takes_invitations(&self, today: NaiveDate) -> Result<(), NotNow> {
        match self.status_on(today) {
            Status::Approved | Status::Open => Ok(()),
            status => Err(NotNow(format!(
                "invitations can be sent for approved or open activities; this one is {status}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::AreaHierarchy;
    use crate::consultation::{ConsultationId, ConsultationInput, ConsultationPlan, RegisterContext};
    use crate::organisation::{Organisation, OrganisationInput};
    use proptest::prelude::*;
    use uuid::Uuid;

    const OWN: OrganisationId = OrganisationId(Uuid::from_u128(1));

    #[test]
    fn the_public_record_names_roles_not_people() {
        let slug_of = |id: OrganisationId| (id == OWN).then(|| "tamworth".to_owned());
        let officer = Actor {
            name: "Olu Officer".into(),
            role: Role::Officer,
            organisation: Some(OWN),
            staff: None,
        };
        let coordinator = Actor {
            name: "Cora".into(),
            role: Role::Coordinator,
            organisation: None,
            staff: None,
        };
        assert_eq!(
            public_signature("Olu Officer", Some(&officer.signer()), slug_of),
            "officer, tamworth"
        );
        assert_eq!(
            public_signature("Cora", Some(&coordinator.signer()), slug_of),
            "coordinator"
        );
        // An organisation no longer known: the role alone.
        let stranger = Signer {
            role: Role::Officer,
            organisation: Some(OrganisationId(Uuid::from_u128(9))),
        };
        assert_eq!(public_signature("Sam", Some(&stranger), slug_of), "officer");
        // The dates' changes stay the schedule's; rows from before roles were kept are staff.
        assert_eq!(public_signature(SCHEDULE, None, slug_of), "schedule");
        assert_eq!(public_signature("Olu Officer", None, slug_of), UNKNOWN_SIGNER);
    }
    const OTHER: OrganisationId = OrganisationId(Uuid::from_u128(2));

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn consultation(status: Status) -> Consultation {
        let org = Organisation::parse(
            OWN,
            OrganisationInput {
                slug: Some("stevenage".into()),
                name: Some("Stevenage Borough Council".into()),
                kind: Some("council".into()),
                services: vec![],
            },
        )
        .unwrap();
        let areas = AreaHierarchy::default();
        let plan = ConsultationPlan::parse(
            ConsultationInput {
                organisation: Some("stevenage".into()),
                title: Some("Town centre regeneration".into()),
                level: Some("involve".into()),
                opens_on: Some("2026-03-01".into()),
                closes_on: Some("2026-04-30".into()),
                ..Default::default()
            },
            RegisterContext {
                organisations: &[org],
                areas: &areas,
            },
        )
        .unwrap();
        Consultation {
            id: ConsultationId(Uuid::from_u128(9)),
            organisation_id: OWN,
            plan,
            recorded_status: status,
            version: 1,
            created_at: DateTime::default(),
            updated_at: DateTime::default(),
            status_history: vec![],
            approval: None,
        }
    }

    /// An activity of `service` in `area`, under a hierarchy where ward W1 lies in district D.
    fn placed(service: &str, area: &str) -> (Consultation, AreaHierarchy) {
        use crate::area::{Area, AreaCode};
        let code = |s: &str| AreaCode::parse(s).unwrap();
        let areas = AreaHierarchy::new([
            Area {
                code: code("E07000001"),
                name: "District".into(),
                parent: None,
            },
            Area {
                code: code("E05000001"),
                name: "Ward one".into(),
                parent: Some(code("E07000001")),
            },
            Area {
                code: code("E05000002"),
                name: "Ward two".into(),
                parent: Some(code("E07000001")),
            },
            Area {
                code: code("E07000002"),
                name: "Elsewhere".into(),
                parent: None,
            },
        ]);
        let org = Organisation::parse(
            OWN,
            OrganisationInput {
                slug: Some("stevenage".into()),
                name: Some("Stevenage Borough Council".into()),
                kind: Some("council".into()),
                services: vec!["Libraries".into(), "Parks".into()],
            },
        )
        .unwrap();
        let mut input = ConsultationInput {
            organisation: Some("stevenage".into()),
            title: Some("Library hours".into()),
            level: Some("involve".into()),
            opens_on: Some("2026-03-01".into()),
            closes_on: Some("2026-04-30".into()),
            service: Some(service.into()),
            ..Default::default()
        };
        input.audience.areas = vec![area.into()];
        let plan = ConsultationPlan::parse(
            input,
            RegisterContext {
                organisations: &[org],
                areas: &areas,
            },
        )
        .unwrap();
        let c = Consultation {
            plan,
            ..consultation(Status::Submitted)
        };
        (c, areas)
    }

    fn staff(
        role: crate::StaffRole,
        org: Option<OrganisationId>,
        service: Option<&str>,
        wards: &[&str],
        areas: &AreaHierarchy,
    ) -> Actor {
        crate::StaffUser {
            id: Uuid::from_u128(77),
            email: "a@example.org".into(),
            name: "Staff".into(),
            role,
            organisation: org,
            service: service.map(Into::into),
            wards: wards.iter().map(|w| crate::AreaCode::parse(w).unwrap()).collect(),
            stopped_messages: Default::default(),
            created_at: DateTime::default(),
            disabled_at: None,
        }
        .actor(areas)
    }

    #[test]
    fn staff_roles_narrow_what_an_actor_reads_and_changes() {
        use crate::StaffRole as R;
        let (c, areas) = placed("Libraries", "E05000001");
        let submitted = Status::Submitted;
        // A councillor reads what touches their ward (the district above it too), never changes.
        let ward = staff(R::Councillor, None, None, &["E05000001"], &areas);
        assert!(ward.may_read_activity(&c, submitted) && !ward.may_change(&c) && ward.read_only());
        let (district_wide, _) = placed("Libraries", "E07000001");
        assert!(ward.may_read_activity(&district_wide, submitted));
        let neighbour = staff(R::Councillor, Some(OWN), None, &["E05000002"], &areas);
        assert!(
            !neighbour.may_read_activity(&c, submitted),
            "a sibling ward is not theirs"
        );
        assert!(
            neighbour.may_read_activity(&c, Status::Open),
            "public statuses are everyone's"
        );
        // A service lead reads and changes their service's only.
        let lead = staff(R::ServiceLead, Some(OWN), Some("libraries"), &[], &areas);
        let (parks, _) = placed("Parks", "E05000001");
        assert!(lead.may_read_activity(&c, submitted) && lead.may_change(&c));
        assert!(!lead.may_read_activity(&parks, submitted) && !lead.may_change(&parks));
        // A viewer reads their organisation's, changes nothing.
        let viewer = staff(R::Viewer, Some(OWN), None, &[], &areas);
        assert!(viewer.may_read_activity(&parks, submitted) && !viewer.may_change(&parks));
        let stranger = staff(R::Viewer, Some(OTHER), None, &[], &areas);
        assert!(!stranger.may_read_activity(&parks, submitted));
        // An organisation coordinator decides for their organisation only; overrides are the
        // partnership coordinator's.
        let ctx = TransitionContext {
            today: day("2026-02-01"),
            now: DateTime::default(),
            assessment: None,
            debriefed: false,
        };
        let org_coord = staff(R::OrganisationCoordinator, Some(OWN), None, &[], &areas);
        let other_coord = staff(R::OrganisationCoordinator, Some(OTHER), None, &[], &areas);
        assert!(org_coord.coordinates(OWN) && !other_coord.coordinates(OWN));
        let back = request(Status::Draft, Some("needs costs"));
        assert!(plan_transition(&c, &back, &org_coord, &ctx).is_ok());
        assert!(matches!(
            plan_transition(&c, &back, &other_coord, &ctx),
            Err(TransitionError::Forbidden(_))
        ));
        assert!(
            matches!(plan_transition(&c, &back, &ward, &ctx), Err(TransitionError::Forbidden(m)) if m.contains("reads"))
        );
        let override_request = TransitionRequest {
            override_justification: Some("urgent".into()),
            ..request(Status::Approved, None)
        };
        assert!(
            matches!(plan_transition(&c, &override_request, &org_coord, &ctx), Err(TransitionError::Forbidden(m)) if m.contains("override"))
        );
        let coordinator = staff(R::Coordinator, None, None, &[], &areas);
        assert!(coordinator.coordinates(OTHER) && coordinator.may_read_activity(&parks, submitted));
    }

    fn actor(role: Role, org: OrganisationId) -> Actor {
        Actor {
            name: format!("{} of {}", role.as_str(), org.0),
            role,
            organisation: Some(org),
            staff: None,
        }
    }

    fn request(to: Status, reason: Option<&str>) -> TransitionRequest {
        TransitionRequest {
            to: Some(to),
            reason: reason.map(Into::into),
            override_justification: None,
        }
    }

    fn attempt(
        status: Status,
        to: Status,
        who: &Actor,
        reason: Option<&str>,
        today: &str,
    ) -> Result<Vec<StatusChange>, TransitionError> {
        plan_transition(
            &consultation(status),
            &request(to, reason),
            who,
            &ctx(today, &passing()),
        )
    }

    fn passing() -> Assessment {
        Assessment {
            frameworks: vec![],
            checks: vec![],
            ready: true,
            approvable: true,
        }
    }

    fn ctx<'a>(today: &str, assessment: &'a Assessment) -> TransitionContext<'a> {
        TransitionContext {
            today: day(today),
            now: DateTime::default(),
            assessment: Some(assessment),
            debriefed: true,
        }
    }

    #[test]
    fn the_happy_path_runs_end_to_end() {
        let officer = actor(Role::Officer, OWN);
        let coord = actor(Role::Coordinator, OTHER);
        assert!(attempt(Status::Draft, Status::Submitted, &officer, None, "2026-01-10").is_ok());
        assert!(attempt(Status::Submitted, Status::Approved, &coord, None, "2026-01-10").is_ok());
        let close = attempt(
            Status::Approved,
            Status::Closed,
            &coord,
            Some("budget withdrawn"),
            "2026-03-10",
        )
        .unwrap();
        assert_eq!(
            close.len(),
            2,
            "the scheduled opening is recorded before the early close"
        );
        assert_eq!(
            (close[0].from, close[0].to, close[0].by.as_str()),
            (Status::Approved, Status::Open, "schedule")
        );
        assert_eq!((close[1].from, close[1].to), (Status::Open, Status::Closed));
        assert!(
            matches!(
                attempt(Status::Closed, Status::ResultsPublished, &coord, None, "2026-06-01"),
                Err(TransitionError::Conflict(_))
            ),
            "results are published with the feedback"
        );
        assert!(attempt(Status::ResultsPublished, Status::Evaluated, &coord, None, "2026-09-01").is_ok());
    }

    #[test]
    fn officers_cannot_approve_or_touch_other_organisations() {
        let officer = actor(Role::Officer, OWN);
        let stranger = actor(Role::Officer, OTHER);
        assert!(matches!(
            attempt(Status::Submitted, Status::Approved, &officer, None, "2026-01-10"),
            Err(TransitionError::Forbidden(_))
        ));
        assert!(matches!(
            attempt(Status::Draft, Status::Submitted, &stranger, None, "2026-01-10"),
            Err(TransitionError::Forbidden(_))
        ));
    }

    #[test]
    fn reasons_are_required_to_reject_close_and_withdraw() {
        let coord = actor(Role::Coordinator, OTHER);
        for (from, to, today) in [
            (Status::Submitted, Status::Draft, "2026-01-10"),
            (Status::Approved, Status::Closed, "2026-03-10"),
            (Status::Draft, Status::Withdrawn, "2026-01-10"),
        ] {
            match attempt(from, to, &coord, Some("   "), today) {
                Err(TransitionError::Invalid(e)) => assert_eq!(e.errors()[0].field, "reason"),
                other => panic!("{from} -> {to}: {other:?}"),
            }
        }
    }

    #[test]
    fn dates_guard_submission_and_opening() {
        let coord = actor(Role::Coordinator, OTHER);
        let late = attempt(Status::Draft, Status::Submitted, &coord, None, "2026-05-01");
        assert!(matches!(late, Err(TransitionError::Conflict(m)) if m.contains("2026-04-30")));
        let open = attempt(Status::Approved, Status::Open, &coord, None, "2026-02-01");
        assert!(matches!(open, Err(TransitionError::Conflict(m)) if m.contains("opens automatically")));
        let reclose = attempt(Status::Approved, Status::Closed, &coord, Some("x"), "2026-05-01");
        assert!(matches!(reclose, Err(TransitionError::Conflict(_))));
    }

    #[test]
    fn approval_is_gated_by_blocking_checks_and_overrides_are_recorded() {
        use crate::principles::{CheckResult, Outcome, Severity};
        let coord = actor(Role::Coordinator, OTHER);
        let officer = actor(Role::Officer, OWN);
        let failing = |severity| Assessment {
            frameworks: vec![],
            checks: vec![CheckResult {
                id: "gunning/closes_before_decision".into(),
                framework: "gunning".into(),
                principle: "Gunning 1".into(),
                check: "closes before decision".into(),
                severity,
                outcome: Outcome::Fail,
                reason: "closes after the decision".into(),
                question: None,
            }],
            ready: false,
            approvable: severity == Severity::Advisory,
        };
        let c = consultation(Status::Submitted);
        let approve = |who: &Actor, a: &Assessment, justification: Option<&str>| {
            let req = TransitionRequest {
                to: Some(Status::Approved),
                reason: None,
                override_justification: justification.map(Into::into),
            };
            plan_transition(&c, &req, who, &ctx("2026-01-10", a))
        };
        let blocked = failing(Severity::LegalRisk);
        match approve(&coord, &blocked, None) {
            Err(TransitionError::Blocked { failing, message }) => {
                assert_eq!(failing.len(), 1);
                assert!(message.contains("gunning/closes_before_decision"));
            }
            other => panic!("{other:?}"),
        }
        let changes = approve(&coord, &blocked, Some("Statutory deadline set by government")).unwrap();
        assert_eq!(
            changes[0].override_justification.as_deref(),
            Some("Statutory deadline set by government")
        );
        assert!(matches!(
            approve(&officer, &blocked, Some("x")),
            Err(TransitionError::Forbidden(_))
        ));
        // Advisory failures do not block; an override with nothing to override is refused.
        assert!(approve(&coord, &failing(Severity::Advisory), None).is_ok());
        assert!(matches!(
            approve(&coord, &passing(), Some("x")),
            Err(TransitionError::Invalid(_))
        ));
        // No assessment, no approval.
        let req = request(Status::Approved, None);
        let no_assessment = TransitionContext {
            today: day("2026-01-10"),
            now: DateTime::default(),
            assessment: None,
            debriefed: false,
        };
        assert!(matches!(
            plan_transition(&c, &req, &coord, &no_assessment),
            Err(TransitionError::Conflict(_))
        ));
    }

    #[test]
    fn scheduled_history_appears_as_time_passes() {
        let c = consultation(Status::Approved);
        assert!(c.history_on(day("2026-02-28")).is_empty());
        assert_eq!(c.history_on(day("2026-03-01")).len(), 1);
        let h = c.history_on(day("2026-05-01"));
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].at.date_naive(), day("2026-05-01"));
    }

    fn any_status() -> impl Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }
    fn any_role() -> impl Strategy<Value = Role> {
        proptest::sample::select(vec![Role::Admin, Role::Coordinator, Role::Officer])
    }

    proptest! {
        #[test]
        fn only_table_transitions_succeed(from in any_status(), to in any_status(), role in any_role(), own in any::<bool>(), offset in 0u64..200) {
            let today = day("2026-01-01") + Days::new(offset);
            let who = actor(role, if own { OWN } else { OTHER });
            let c = consultation(from);
            let effective = c.status_on(today);
            let a = passing();
            let context = TransitionContext { today, now: DateTime::default(), assessment: Some(&a), debriefed: false };
            let result = plan_transition(&c, &request(to, Some("because")), &who, &context);
            if let Ok(changes) = &result {
                let last = changes.last().unwrap();
                prop_assert_eq!((last.from, last.to), (effective, to));
                prop_assert!(allowed_targets(effective).contains(&to));
                prop_assert!(who.may_write(OWN));
                prop_assert!(to != Status::Open);
            }
            if !who.may_write(OWN) {
                prop_assert!(matches!(result, Err(TransitionError::Forbidden(_))), "{:?}", result);
            }
        }

        #[test]
        fn an_approved_activity_past_closing_is_never_open(offset in 0u64..400) {
            let today = day("2026-01-01") + Days::new(offset);
            let c = consultation(Status::Approved);
            let s = c.status_on(today);
            if today > c.plan.closes_on() {
                prop_assert_eq!(s, Status::Closed);
            } else if today >= c.plan.opens_on() {
                prop_assert_eq!(s, Status::Open);
            } else {
                prop_assert_eq!(s, Status::Approved);
            }
        }
    }
}

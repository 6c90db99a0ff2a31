//! Staff accounts (admins keep them) and the briefings consult sends them: a councillor's weekly
//! digest and a coordinator's daily alert, queued in the outbox by `consult serve`'s hourly
//! sweep or `consult briefings`, once per account and period, and stopped with the one-click
//! link in each.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::organisations::{require_admin, require_coordinator};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};
use consult_core::{
    Actor, BriefingActivity, DigestWeek, MessageKind, NewMessage, Organisation, StaffRole, StaffUser, StaffUserInput,
    coordinator_alert, councillor_digest,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// A staff account as the API answers it and the CLI prints it: the organisation by slug.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// Identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    /// E-mail address.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: StaffRole,
    /// The organisation's slug.
    pub organisation: Option<String>,
    /// The service.
    pub service: Option<String>,
    /// Ward or division codes (councillors).
    pub wards: Vec<String>,
    /// Kinds of consult's messages they do not receive.
    pub stopped_messages: Vec<MessageKind>,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// Whether it is disabled.
    pub disabled: bool,
    /// When it was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Changes to an account (`PATCH /users/{id}`): fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// E-mail address.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// The organisation's slug (`""` for none).
    pub organisation: Option<String>,
    /// The service (`""` for none).
    pub service: Option<String>,
    /// Ward codes (replacing the list).
    pub wards: Option<Vec<String>>,
    /// Kinds of message not to send them (replacing the list).
    pub stopped_messages: Option<Vec<String>>,
    /// `true` disables the account (its waiting messages are cancelled); `false` enables it.
    pub disabled: Option<bool>,
}

/// What one run of the briefings queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BriefingsQueued {
    /// Councillors' digests newly queued for the week.
    pub digests: u64,
    /// Coordinators' alerts newly queued for the day.
    pub alerts: u64,
}

/// The hour (UTC) from which the sweep queues the day's briefings: they arrive at the start of
/// the working day, not at midnight.
pub const BRIEFING_HOUR: u32 = 7;

impl App {
    fn user_view(&self, u: StaffUser, orgs: &HashMap<consult_core::OrganisationId, Organisation>) -> UserView {
        UserView {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            organisation: u.organisation.and_then(|o| orgs.get(&o)).map(|o| o.slug.to_string()),
            service: u.service,
            wards: u.wards.iter().map(ToString::to_string).collect(),
            stopped_messages: u.stopped_messages.into_iter().collect(),
            created_at: u.created_at,
            disabled: u.disabled_at.is_some(),
            disabled_at: u.disabled_at,
        }
    }

    async fn organisations_by_id(&self) -> AppResult<HashMap<consult_core::OrganisationId, Organisation>> {
        Ok(self
            .store
            .list_organisations()
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect())
    }

    async fn parse_user(&self, id: Uuid, input: &StaffUserInput, created_at: DateTime<Utc>) -> AppResult<StaffUser> {
        let org = match input.organisation.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(slug) => self.store.get_organisation(slug).await?,
            None => None,
        };
        let areas = self.area_hierarchy().await?;
        Ok(StaffUser::parse(id, input, org.as_ref(), &areas, created_at)?)
    }

    /// Adds a staff account (admins; audited). Every invalid field is named; an address already
    /// taken is a conflict.
    pub async fn create_user(&self, actor: &Actor, input: &StaffUserInput) -> AppResult<UserView> {
        require_admin(actor)?;
        let now = self.now();
        let user = self.parse_user(Uuid::now_v7(), input, now).await?;
        self.store.create_staff_user(&user, actor, now).await?;
        Ok(self.user_view(user, &self.organisations_by_id().await?))
    }

    /// Every staff account, by name (admins).
    pub async fn users(&self, actor: &Actor) -> AppResult<Vec<UserView>> {
        require_admin(actor)?;
        let orgs = self.organisations_by_id().await?;
        Ok(self
            .store
            .staff_users(&[])
            .await?
            .into_iter()
            .map(|u| self.user_view(u, &orgs))
            .collect())
    }

    async fn stored_user(&self, id: Uuid) -> AppResult<StaffUser> {
        self.store
            .staff_user(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no staff account {id}")))
    }

    /// One staff account (admins).
    pub async fn user(&self, actor: &Actor, id: Uuid) -> AppResult<UserView> {
        require_admin(actor)?;
        let u = self.stored_user(id).await?;
        Ok(self.user_view(u, &self.organisations_by_id().await?))
    }

    /// A staff account's id from its id or e-mail address (for the CLI's `ID|EMAIL`).
    pub async fn user_id(&self, actor: &Actor, id_or_email: &str) -> AppResult<Uuid> {
        require_admin(actor)?;
        if let Ok(id) = id_or_email.trim().parse::<Uuid>() {
            return Ok(id);
        }
        self.store
            .staff_user_by_email(id_or_email)
            .await?
            .map(|u| u.id)
            .ok_or_else(|| AppError::NotFound(format!("no staff account for {}", id_or_email.trim())))
    }

    /// Changes a staff account (admins; audited): the changed fields are checked as on creation,
    /// together with those kept. Disabling it, or stopping a kind of message, cancels what
    /// waits to be sent to it.
    pub async fn update_user(&self, actor: &Actor, id: Uuid, patch: &UserPatch) -> AppResult<UserView> {
        require_admin(actor)?;
        let orgs = self.organisations_by_id().await?;
        let only_disabled = UserPatch {
            disabled: None,
            ..patch.clone()
        } == UserPatch::default();
        if let (true, Some(disabled)) = (only_disabled, patch.disabled) {
            // Disabling or enabling touches nothing else (and checks nothing else).
            if !self.store.set_staff_disabled(id, disabled, actor, self.now()).await? {
                return Err(AppError::NotFound(format!("no staff account {id}")));
            }
            return Ok(self.user_view(self.stored_user(id).await?, &orgs));
        }
        let old = self.stored_user(id).await?;
        let keep_or = |new: &Option<String>, old: Option<String>| match new {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(v.clone()),
            None => old,
        };
        let input = StaffUserInput {
            email: Some(patch.email.clone().unwrap_or_else(|| old.email.clone())),
            name: Some(patch.name.clone().unwrap_or_else(|| old.name.clone())),
            role: Some(patch.role.clone().unwrap_or_else(|| old.role.as_str().to_owned())),
            organisation: keep_or(
                &patch.organisation,
                old.organisation.and_then(|o| orgs.get(&o)).map(|o| o.slug.to_string()),
            ),
            service: keep_or(&patch.service, old.service.clone()),
            wards: patch
                .wards
                .clone()
                .unwrap_or_else(|| old.wards.iter().map(ToString::to_string).collect()),
            stopped_messages: patch.stopped_messages.clone().unwrap_or_else(|| {
                // Kept where the (new) role still receives them.
                let role = patch.role.as_deref().and_then(StaffRole::parse).unwrap_or(old.role);
                old.stopped_messages
                    .iter()
                    .filter(|k| role.briefings().contains(k))
                    .map(|k| k.as_str().to_owned())
                    .collect()
            }),
        };
        let now = self.now();
        let mut user = self.parse_user(id, &input, old.created_at).await?;
        user.disabled_at = match patch.disabled {
            Some(true) => old.disabled_at.or(Some(now)),
            Some(false) => None,
            None => old.disabled_at,
        };
        if !self.store.update_staff_user(&user, actor, now).await? {
            return Err(AppError::NotFound(format!("no staff account {id}")));
        }
        Ok(self.user_view(user, &orgs))
    }

    /// Queues the briefings due on `today` (coordinators, or the server's own sweep): each
    /// councillor's digest of the week `today` is in, and each coordinator's alert for `today`,
    /// for those with something to say. One per account and period (the idempotency key names
    /// both), so running it again queues nothing more.
    pub async fn queue_briefings(&self, actor: &Actor, today: NaiveDate) -> AppResult<BriefingsQueued> {
        require_coordinator(actor)?;
        let users = self
            .store
            .staff_users(&[
                StaffRole::Councillor,
                StaffRole::Coordinator,
                StaffRole::OrganisationCoordinator,
            ])
            .await?;
        let week = DigestWeek::containing(today);
        let published_since = (week.starts_on - TimeDelta::days(7))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_default();
        let activities = self
            .store
            .briefing_activities(week.starts_on, week.ends_on(), published_since, today)
            .await?;
        let orgs = self.organisations_by_id().await?;
        let read: Vec<BriefingActivity<'_>> = activities
            .iter()
            .map(|c| BriefingActivity {
                activity: c,
                organisation: orgs.get(&c.organisation_id).map_or("", |o| o.name.as_str()),
            })
            .collect();
        let areas = self.area_hierarchy().await?;
        let (mut digests, mut alerts): (Vec<NewMessage>, Vec<NewMessage>) = (Vec::new(), Vec::new());
        for u in &users {
            digests.extend(councillor_digest(u, week, &read, &areas));
            alerts.extend(coordinator_alert(u, today, &read));
        }
        let now = self.now();
        let queued = BriefingsQueued {
            digests: self.store.queue_messages(&digests, now).await?,
            alerts: self.store.queue_messages(&alerts, now).await?,
        };
        if queued.digests + queued.alerts > 0 {
            self.wake_delivery();
        }
        Ok(queued)
    }

    /// The server's hourly sweep: on working days from [`BRIEFING_HOUR`] on, today's briefings
    /// (nothing before, nothing at weekends: a digest waits for Monday).
    /// `done` is the last day the sweep queued them: that day is not read again (the hourly
    /// sweep reads the register once a day), and the day queued is returned to pass next time.
    pub async fn sweep_briefings(&self, done: Option<NaiveDate>) -> AppResult<(BriefingsQueued, Option<NaiveDate>)> {
        let now = self.now();
        let today = now.date_naive();
        if now.hour() < BRIEFING_HOUR || now.weekday().number_from_monday() > 5 || done == Some(today) {
            // Briefings arrive on working days, from the start of the day, once.
            return Ok((BriefingsQueued::default(), done));
        }
        let system = Actor {
            name: "consult serve (briefings)".into(),
            role: consult_core::Role::Coordinator,
            organisation: None,
            staff: None,
        };
        Ok((self.queue_briefings(&system, today).await?, Some(today)))
    }

    /// The token of a staff account's one-click link stopping one kind of message.
    pub(crate) async fn staff_unsubscribe_token(&self, user: Uuid, kind: MessageKind) -> AppResult<String> {
        self.link_token("unsubscribe-staff", &[user.as_bytes(), kind.as_str().as_bytes()])
            .await
    }

    /// Whether `token` is the link token stopping `kind` for `user`, an account that exists.
    pub async fn staff_unsubscribe_link_valid(&self, user: Uuid, kind: MessageKind, token: &str) -> AppResult<bool> {
        Ok(self
            .link_token_valid("unsubscribe-staff", &[user.as_bytes(), kind.as_str().as_bytes()], token)
            .await?
            && self.store.staff_user(user).await?.is_some())
    }

    /// Stops one kind of message for the staff account whose one-click link this is (the link
    /// in each digest or alert and its `List-Unsubscribe` header), cancelling what waits. A
    /// wrong token or an unknown account is not found; stopping twice is the same as once.
    pub async fn stop_staff_messages_by_link(&self, user: Uuid, kind: MessageKind, token: &str) -> AppResult<()> {
        if !self.staff_unsubscribe_link_valid(user, kind, token).await? {
            return Err(AppError::NotFound("no account for this link".into()));
        }
        let u = self.stored_user(user).await?;
        let by = Actor {
            name: format!("{} (one-click link)", u.name),
            role: consult_core::Role::Officer,
            organisation: u.organisation,
            staff: None,
        };
        self.store.stop_staff_messages(user, kind, &by, self.now()).await?;
        Ok(())
    }
}

//! The register: registering, changing, moving and reading activities, and who may.

use crate::error::{AppError, AppResult};
use crate::{App, json};
use consult_core::{
    Actor, Approval, Consultation, ConsultationId, ConsultationInput, ConsultationPlan, Organisation, OrganisationId,
    Status, TransitionContext, TransitionRequest, check_edit, plan_transition,
};
use consult_store::{AuditEntry, ConsultationFilter, Page, PageRequest, Reader, RegisterSnapshot};
use std::collections::HashMap;
use uuid::Uuid;

/// An activity with what the register shows beside it: its owner and how many responded.
#[derive(Debug, Clone)]
pub struct RegisterEntry {
    /// The activity.
    pub consultation: Consultation,
    /// Its owner organisation (`None` only if the register lost it).
    pub owner: Option<Organisation>,
    /// Responses received.
    pub responses: u64,
    /// Every organisation's slug, to name who changed the activity in the public's view.
    pub slugs: std::sync::Arc<HashMap<OrganisationId, String>>,
}

impl RegisterEntry {
    /// The register's view of the entry as of `today`, as staff see it (with names).
    pub fn view(&self, today: chrono::NaiveDate) -> crate::views::ConsultationView {
        crate::views::ConsultationView::new(&self.consultation, self.owner.as_ref(), self.responses, today)
    }

    /// The view `caller` sees: staff (any token holder) see who changed it by name, the
    /// public by role and organisation ([`crate::views::ConsultationView::public`]).
    pub fn view_for(&self, caller: Option<&Actor>, today: chrono::NaiveDate) -> crate::views::ConsultationView {
        let view = self.view(today);
        if caller.is_some() {
            view
        } else {
            view.public(|id| self.slugs.get(&id).cloned())
        }
    }
}

fn forbidden_organisation(slug: &str) -> AppError {
    AppError::Forbidden(format!(
        "officers can only register activities for their own organisation, not {slug}"
    ))
}

impl App {
    /// An activity `caller` may read today (the public: published statuses only; officers also
    /// their own organisation's; coordinators everything). Anything else is "not found", so
    /// drafts do not leak.
    pub async fn readable_consultation(&self, caller: Option<&Actor>, id: ConsultationId) -> AppResult<Consultation> {
        let not_found = || AppError::NotFound(format!("no consultation {id}"));
        let c = self.store.get_consultation(id).await?.ok_or_else(not_found)?;
        let status = c.status_on(self.today());
        let readable = match caller {
            None => status.is_public(),
            Some(actor) => actor.may_read_activity(&c, status),
        };
        if readable { Ok(c) } else { Err(not_found()) }
    }

    /// An activity `actor` may change: not found when unknown or when `actor` may not even read
    /// it (another organisation's draft does not leak by a 403), forbidden when they may read
    /// it but their organisation does not own it.
    pub async fn writable_consultation(&self, actor: &Actor, id: ConsultationId) -> AppResult<Consultation> {
        let not_found = || AppError::NotFound(format!("no consultation {id}"));
        let c = self.store.get_consultation(id).await?.ok_or_else(not_found)?;
        if !actor.may_read_activity(&c, c.status_on(self.today())) {
            return Err(not_found());
        }
        if actor.read_only() {
            return Err(AppError::Forbidden(
                "this account reads activities and changes none".into(),
            ));
        }
        if !actor.may_write(c.organisation_id) {
            return Err(AppError::Forbidden(
                "officers can only change their own organisation's activities".into(),
            ));
        }
        if !actor.may_change(&c) {
            return Err(AppError::Forbidden(
                "a service lead can only change their own service's activities".into(),
            ));
        }
        Ok(c)
    }

    /// The register's entries for activities: owners and response counts read once for all.
    pub async fn register_entries(&self, cs: Vec<Consultation>) -> AppResult<Vec<RegisterEntry>> {
        let orgs = self.store.list_organisations().await?;
        let slugs: std::sync::Arc<HashMap<OrganisationId, String>> =
            std::sync::Arc::new(orgs.iter().map(|o| (o.id, o.slug.to_string())).collect());
        let ids: Vec<ConsultationId> = cs.iter().map(|c| c.id).collect();
        let counts = self.store.response_counts(&ids).await?;
        Ok(cs
            .into_iter()
            .map(|c| RegisterEntry {
                slugs: slugs.clone(),
                owner: orgs.iter().find(|o| o.id == c.organisation_id).cloned(),
                responses: counts.get(&c.id).copied().unwrap_or(0),
                consultation: c,
            })
            .collect())
    }

    /// One entry of the register.
    pub async fn register_entry(&self, c: Consultation) -> AppResult<RegisterEntry> {
        self.register_entries(vec![c])
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("a register entry went missing".into()))
    }

    /// The organisations and areas plans are checked against.
    pub async fn register_snapshot(&self) -> AppResult<RegisterSnapshot> {
        Ok(self.store.register_snapshot().await?)
    }

    /// Registers a draft activity for `actor`: officers for their own organisation,
    /// coordinators for any. Who may write for the organisation named is decided before the
    /// rest of the plan is checked, so a stranger learns nothing from the validation.
    pub async fn create_consultation(&self, actor: &Actor, input: ConsultationInput) -> AppResult<Consultation> {
        let snapshot = self.store.register_snapshot().await?;
        let named = input.organisation.as_deref().map(str::trim);
        if let Some(org) = snapshot.organisations.iter().find(|o| Some(o.slug.as_str()) == named) {
            if !actor.may_write(org.id) {
                return Err(forbidden_organisation(org.slug.as_str()));
            }
        }
        let plan = ConsultationPlan::parse(input, snapshot.context())?;
        let org = snapshot
            .organisations
            .iter()
            .find(|o| o.slug == *plan.organisation())
            .ok_or_else(|| AppError::field("organisation", "unknown organisation"))?;
        if !actor.may_write(org.id) {
            return Err(forbidden_organisation(org.slug.as_str()));
        }
        if !actor.within_service(plan.service()) {
            return Err(AppError::field(
                "service",
                "a service lead registers activities of their own service: name it",
            ));
        }
        let c = Consultation::new_draft(ConsultationId(Uuid::now_v7()), org.id, plan, self.now());
        self.store.insert_consultation(&c, actor).await?;
        Ok(c)
    }

    /// Changes a draft by a JSON merge patch (RFC 7396) of its plan. The merged plan is checked
    /// as a new one would be; moving it to another organisation needs the right to write there.
    pub async fn patch_consultation(
        &self,
        actor: &Actor,
        id: ConsultationId,
        patch: serde_json::Value,
    ) -> AppResult<Consultation> {
        if !patch.is_object() {
            return Err(AppError::field("body", "a merge patch must be a JSON object"));
        }
        let c = self.writable_consultation(actor, id).await?;
        check_edit(&c, actor, self.today())?;
        let mut merged = serde_json::to_value(c.plan.to_input()).map_err(|e| AppError::Internal(e.to_string()))?;
        json::merge_patch(&mut merged, patch);
        let input: ConsultationInput = json::from_value(merged)?;
        let snapshot = self.store.register_snapshot().await?;
        let plan = ConsultationPlan::parse(input, snapshot.context())?;
        if plan.organisation() != c.plan.organisation() {
            let target = snapshot.organisations.iter().find(|o| o.slug == *plan.organisation());
            if !target.is_some_and(|o| actor.may_write(o.id)) {
                return Err(AppError::Forbidden(
                    "officers cannot move an activity to another organisation".into(),
                ));
            }
        }
        if !actor.within_service(plan.service()) {
            return Err(AppError::field(
                "service",
                "a service lead keeps activities in their own service",
            ));
        }
        Ok(self
            .store
            .update_plan(c.id, c.version, &plan, actor, self.now())
            .await?)
    }

    /// Moves an activity through its lifecycle (submit, approve, reject, withdraw, close early,
    /// publish results, evaluate). Approval is given on the principles checklist as it stands
    /// (with unresolved overlap and fatigue findings), and refused while a blocking check fails
    /// unless overridden with a justification. Publishing results is publishing the feedback.
    pub async fn transition(
        &self,
        actor: &Actor,
        id: ConsultationId,
        request: &TransitionRequest,
    ) -> AppResult<Consultation> {
        let c = self.writable_consultation(actor, id).await?;
        let (today, now) = (self.today(), self.now());
        if request.to == Some(Status::ResultsPublished) {
            // One mechanism, one set of rules: publication goes through the feedback.
            match self.store.feedback(&[c.id]).await?.remove(&c.id) {
                Some(feedback) => return Ok(self.save_feedback(&c, actor, feedback, true).await?.0),
                None if c.status_on(today) == Status::Closed => {
                    return Err(AppError::Conflict(
                        "record the feedback first (PUT /consultations/{id}/feedback): what people said and what was done"
                            .into(),
                    ));
                }
                None => {}
            }
        }
        let assessment = match request.to {
            Some(Status::Approved) => Some(self.assess(&c).await?),
            _ => None,
        };
        let debriefed = request.to == Some(Status::Evaluated)
            && self
                .store
                .evaluations(&[c.id])
                .await?
                .get(&c.id)
                .is_some_and(|e| e.0.is_some());
        let ctx = TransitionContext {
            today,
            now,
            assessment: assessment.as_ref(),
            debriefed,
        };
        let changes = plan_transition(&c, request, actor, &ctx)?;
        let approval = match (assessment, changes.last()) {
            (Some(assessment), Some(last)) => Some(Approval {
                at: now,
                by: actor.name.clone(),
                override_justification: last.override_justification.clone(),
                assessment,
                signer: Some(actor.signer()),
            }),
            _ => None,
        };
        Ok(self
            .store
            .record_transition(c.id, c.version, &changes, approval.as_ref(), actor)
            .await?)
    }

    /// A page of the register matching `filter`, as `caller` may see it today.
    pub async fn list_consultations(
        &self,
        caller: Option<&Actor>,
        filter: &ConsultationFilter,
        page: &PageRequest,
    ) -> AppResult<Page<Consultation>> {
        Ok(self
            .store
            .list_consultations(filter, &Reader::for_actor(caller), self.today(), page)
            .await?)
    }

    /// Every activity matching `filter` that `caller` may see today (exports, reports).
    pub async fn list_all_consultations(
        &self,
        caller: Option<&Actor>,
        filter: &ConsultationFilter,
    ) -> AppResult<Vec<Consultation>> {
        Ok(self
            .store
            .list_all_consultations(filter, &Reader::for_actor(caller), self.today())
            .await?)
    }

    /// A page of the forward plan: published activities approved or open in the filter's
    /// window, by opening date, as the public sees them whoever asks.
    pub async fn forward_plan(&self, filter: &ConsultationFilter, page: &PageRequest) -> AppResult<Page<Consultation>> {
        Ok(self.store.forward_plan(filter, self.today(), page).await?)
    }

    /// The audit trail of an activity, newest first: for those who may change it.
    pub async fn consultation_audit(&self, actor: &Actor, id: ConsultationId) -> AppResult<Vec<AuditEntry>> {
        let c = self.writable_consultation(actor, id).await?;
        Ok(self
            .store
            .audit_log(Some(("consultation", &c.id.to_string())), 1000)
            .await?)
    }
}

/// One activity of a register import, as read from a file: every field checked by
/// [`App::import_register`].
#[derive(Debug, Clone)]
pub struct ImportedActivity {
    /// Where it was in the file (its line), for errors.
    pub line: u64,
    /// Its id, if the file gives one (a UUID).
    pub id: Option<String>,
    /// The status a person recorded, if the file gives one (default `draft`).
    pub status: Option<String>,
    /// The plan.
    pub input: ConsultationInput,
}

impl App {
    /// Registers the activities of a file (another register's export), all or none: every row
    /// is checked first and every invalid one named by its line (`line 6`); an id already
    /// registered is a conflict. Returns how many were registered.
    pub async fn import_register(&self, actor: &Actor, rows: Vec<ImportedActivity>, source: &str) -> AppResult<usize> {
        crate::organisations::require_coordinator(actor)?;
        let snapshot = self.store.register_snapshot().await?;
        let now = self.now();
        let mut problems = consult_core::ValidationErrors::new();
        let mut items = Vec::new();
        for row in rows {
            let line = format!("line {}", row.line);
            let id = match row.id.as_deref().map(Uuid::parse_str) {
                None => Uuid::now_v7(),
                Some(Ok(id)) => id,
                Some(Err(_)) => {
                    problems.push(line, "id is not a UUID");
                    continue;
                }
            };
            let status = match row.status.as_deref().map(str::parse::<Status>) {
                None => Status::Draft,
                // Opening and closing follow the dates: store what a person recorded.
                Some(Ok(Status::Open)) => Status::Approved,
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    problems.push(line, format!("status: {e}"));
                    continue;
                }
            };
            match ConsultationPlan::parse(row.input, snapshot.context()) {
                Ok(plan) => {
                    let Some(org) = snapshot.organisations.iter().find(|o| o.slug == *plan.organisation()) else {
                        continue;
                    };
                    let history = if status == Status::Draft {
                        vec![]
                    } else {
                        vec![consult_core::StatusChange {
                            from: Status::Draft,
                            to: status,
                            at: now,
                            by: actor.name.clone(),
                            reason: Some(format!("imported from {source}")),
                            override_justification: None,
                            signer: Some(actor.signer()),
                        }]
                    };
                    items.push(Consultation {
                        id: ConsultationId(id),
                        organisation_id: org.id,
                        plan,
                        recorded_status: status,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                        status_history: history,
                        approval: None,
                    });
                }
                Err(e) => problems.push(line, e.to_string()),
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        self.store.import_consultations(&items, actor).await?;
        Ok(items.len())
    }
}

/// Refuses a caller the activity's results and documents are not shared with
/// ([`consult_core::Consultation::results_shared_with`], which admits the owner's staff at every
/// level), saying who they are shared with: the one guard of the analysis, the documents, the
/// equality report and the feedback's theme counts.
pub(crate) fn check_shared(c: &Consultation, caller: Option<&Actor>) -> AppResult<()> {
    if c.results_shared_with(caller) {
        return Ok(());
    }
    let sharing = c.plan.results_sharing();
    let message = format!(
        "the results and documents of this activity are shared with {} only",
        sharing.audience()
    );
    Err(match caller {
        None => AppError::Unauthenticated(message),
        Some(_) => AppError::Forbidden(message),
    })
}

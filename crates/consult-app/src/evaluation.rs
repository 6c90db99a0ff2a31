//! Evaluation after the event, and comments, compliments and complaints about how an activity
//! was run.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::organisations::require_coordinator;
use consult_core::{
    Actor, Consultation, ConsultationId, Debrief, DebriefInput, Evaluation, Remark, RemarkInput, RemarkUpdate, Role,
    ValidationErrors,
};
use uuid::Uuid;

/// Who a remark from someone without a token is recorded as in the audit log.
fn public_actor() -> Actor {
    Actor {
        name: "public".into(),
        role: Role::Officer,
        organisation: None,
        staff: None,
    }
}

impl App {
    async fn evaluation_of(&self, c: &Consultation) -> AppResult<Evaluation> {
        let responses = self
            .store
            .response_counts(&[c.id])
            .await?
            .get(&c.id)
            .copied()
            .unwrap_or(0);
        let (debrief, external) = self
            .store
            .evaluations(&[c.id])
            .await?
            .remove(&c.id)
            .unwrap_or((None, false));
        Ok(Evaluation::of(c, responses, debrief, external))
    }

    /// Records (or replaces) the debrief of an activity that has closed.
    pub async fn debrief(&self, actor: &Actor, id: ConsultationId, input: DebriefInput) -> AppResult<Evaluation> {
        let c = self.writable_consultation(actor, id).await?;
        c.check_takes_debrief(self.today())?;
        let debrief = Debrief::parse(input, actor, self.now())?;
        self.store.save_debrief(c.id, &debrief, actor).await?;
        self.evaluation_of(&c).await
    }

    /// An activity's evaluation: its debrief and its numbers.
    pub async fn evaluation(&self, actor: &Actor, id: ConsultationId) -> AppResult<Evaluation> {
        let c = self.writable_consultation(actor, id).await?;
        self.evaluation_of(&c).await
    }

    /// Draws `size` of `year`'s closed activities for external evaluation (coordinators), marks
    /// them, and returns their evaluations. Already drawn activities stay drawn.
    pub async fn draw_external_sample(
        &self,
        actor: &Actor,
        year: Option<i32>,
        size: Option<u32>,
    ) -> AppResult<Vec<Evaluation>> {
        require_coordinator(actor)?;
        let mut e = ValidationErrors::new();
        let year = year.filter(|y| (1990..=2200).contains(y));
        if year.is_none() {
            e.push("year", "is required, e.g. 2026");
        }
        let size = size.filter(|s| (1..=500).contains(s));
        if size.is_none() {
            e.push("size", "must be a whole number from 1 to 500");
        }
        let (Some(year), Some(size)) = (year, size) else {
            return Err(AppError::Invalid(e));
        };
        let chosen =
            crate::review::draw_external_sample(&self.store, year, size as usize, actor, self.today(), self.now())
                .await?;
        let mut out = Vec::new();
        for c in &chosen {
            out.push(self.evaluation_of(c).await?);
        }
        Ok(out)
    }

    /// Receives a comment, compliment or complaint about how a published activity was run,
    /// from anyone. Its contact details are seen by the owner only.
    pub async fn post_remark(
        &self,
        caller: Option<&Actor>,
        id: ConsultationId,
        input: RemarkInput,
    ) -> AppResult<Remark> {
        let c = self.readable_consultation(None, id).await?;
        let remark = Remark::parse(Uuid::now_v7(), c.id, input, self.now())?;
        let actor = caller.cloned().unwrap_or_else(public_actor);
        self.store.insert_remark(&remark, &actor).await?;
        Ok(remark)
    }

    /// The remarks about an activity, with contact details: for those who may change it.
    pub async fn remarks(&self, actor: &Actor, id: ConsultationId) -> AppResult<Vec<Remark>> {
        let c = self.writable_consultation(actor, id).await?;
        Ok(self.store.remarks(c.id).await?)
    }

    /// Answers a remark: a new status and a reply. The reply is sent to the contact the remark
    /// left when that is an e-mail address or mobile number, once per reply text.
    pub async fn update_remark(&self, actor: &Actor, id: Uuid, input: &RemarkUpdate) -> AppResult<Remark> {
        let remark = self
            .store
            .remark(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no remark `{id}`")))?;
        let c = self.writable_consultation(actor, remark.consultation_id).await?;
        let updated = remark.update(input, self.now())?;
        let reply = consult_core::reply_message(&updated, c.plan.title());
        self.store.update_remark(&updated, reply.as_ref(), actor).await?;
        if reply.is_some() {
            self.wake_delivery();
        }
        Ok(updated)
    }
}

//! "You said, we did": an activity's feedback, drafted by its owner and published once it closes.

use crate::App;
use crate::error::{AppError, AppResult};
use consult_core::{Actor, Consultation, ConsultationId, Feedback, FeedbackInput, Status};

impl App {
    /// Saves feedback and, when `publish`, publishes it: the activity moves to
    /// `results_published` in the same transaction (the publication date is kept once set).
    pub(crate) async fn save_feedback(
        &self,
        c: &Consultation,
        actor: &Actor,
        mut feedback: Feedback,
        publish: bool,
    ) -> AppResult<(Consultation, Feedback)> {
        let (today, now) = (self.today(), self.now());
        let changes = if publish {
            let changes = consult_core::plan_publication(c, &feedback, actor, today, now)?;
            feedback.published_on.get_or_insert(today);
            changes
        } else {
            Vec::new()
        };
        let owner = self.organisation(c.plan.organisation().as_str()).await?;
        let notice =
            |request, channel, address| consult_core::results_notice(c, &owner.name, request, channel, address);
        let updated = self
            .store
            .save_feedback(
                c.id,
                c.version,
                &feedback,
                &changes,
                publish.then_some(&notice as &(dyn Fn(_, _, _) -> _ + Sync)),
                actor,
            )
            .await?;
        if publish {
            self.wake_delivery();
        }
        Ok((updated, feedback))
    }

    /// Records an activity's feedback: per theme what people said and what was done, or what
    /// was not and why. From opening on, as a draft (owner officers, coordinators); with
    /// `publish` once it has closed (coordinators: publishing results is theirs). Saving again
    /// after publishing corrects the public record (and keeps it published), so it is a
    /// coordinator's too.
    pub async fn record_feedback(
        &self,
        actor: &Actor,
        id: ConsultationId,
        input: &FeedbackInput,
    ) -> AppResult<(Consultation, Feedback)> {
        let c = self.writable_consultation(actor, id).await?;
        let today = self.today();
        c.check_takes_feedback(today)?;
        let previous = self.store.feedback(&[c.id]).await?.remove(&c.id);
        let feedback = Feedback::parse(input, previous.as_ref(), actor, self.now())?;
        if feedback.items.iter().any(|i| i.theme_key.is_some()) {
            feedback.check_theme_keys(&self.store.themes(c.id).await?)?;
        }
        let already_published = matches!(c.status_on(today), Status::ResultsPublished | Status::Evaluated);
        let (c, feedback) = self
            .save_feedback(&c, actor, feedback, input.publish || already_published)
            .await?;
        let feedback = self.with_theme_counts(&c, feedback, true).await?;
        Ok((c, feedback))
    }

    /// Adds to each item naming a theme how many responses raised it (coded with it, or with a
    /// theme nested under it, in any free-text answer; each response once). Staff of the owner
    /// and coordinators (`exact`) see the count; everyone else the public figure
    /// (`consult_core::public_theme_count`: with the noise of public counts, hidden below 5).
    async fn with_theme_counts(&self, c: &Consultation, mut feedback: Feedback, exact: bool) -> AppResult<Feedback> {
        if feedback.items.iter().all(|i| i.theme_key.is_none()) {
            return Ok(feedback);
        }
        let counts = self.store.theme_responses(c.id).await?;
        let key = if exact {
            None
        } else {
            Some(self.disclosure_key().await?)
        };
        let respondents = self
            .store
            .response_counts(&[c.id])
            .await?
            .get(&c.id)
            .copied()
            .unwrap_or(0);
        for item in &mut feedback.items {
            let Some(theme) = &item.theme_key else { continue };
            let n = counts.get(theme).copied().unwrap_or(0);
            item.responses = Some(match &key {
                None => consult_core::RaisedBy {
                    count: Some(n),
                    hidden: false,
                    noisy: false,
                },
                Some(k) => {
                    let shown = consult_core::public_theme_count(k, c.id, theme, respondents, n);
                    consult_core::RaisedBy {
                        count: shown,
                        hidden: shown.is_none(),
                        noisy: true,
                    }
                }
            });
        }
        Ok(feedback)
    }

    /// An activity's feedback: public once published; the owner's officers and coordinators
    /// also see the draft.
    pub async fn feedback(&self, caller: Option<&Actor>, id: ConsultationId) -> AppResult<(Consultation, Feedback)> {
        let not_found = || AppError::NotFound(format!("no feedback for consultation `{id}`"));
        let c = self.store.get_consultation(id).await?.ok_or_else(not_found)?;
        let feedback = self
            .store
            .feedback(&[c.id])
            .await?
            .remove(&c.id)
            .ok_or_else(not_found)?;
        let insider = caller.is_some_and(|a| a.may_change(&c));
        if feedback.published_on.is_none() && !insider {
            return Err(not_found());
        }
        // The public record names no member of staff (as in the status history).
        let feedback = if caller.is_none() {
            Feedback {
                updated_by: consult_core::UNKNOWN_SIGNER.to_owned(),
                ..feedback
            }
        } else {
            feedback
        };
        // How many responses raised a theme is a result of the answers: only for those the
        // results are shared with ("you said, we did" itself is for everyone).
        if !c.results_shared_with(caller) {
            return Ok((c, feedback));
        }
        let feedback = self.with_theme_counts(&c, feedback, insider).await?;
        Ok((c, feedback))
    }
}

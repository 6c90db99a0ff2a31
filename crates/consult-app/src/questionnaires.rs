//! An activity's questionnaire: set by its organisation's officers and coordinators until it
//! opens (then only wording corrections), read by whoever may read the activity.

use crate::App;
use crate::error::{AppError, AppResult};
use consult_core::{Actor, Analysis, ConsultationId, Questionnaire, QuestionnaireInput, Status};
use consult_store::QuestionnaireChange;

impl App {
    /// Sets the questionnaire of an activity `actor` may change, as its next version. Before the
    /// activity opens any valid questionnaire may replace the current one; from its opening
    /// only a wording correction (the same sections, questions, types, keys, bounds and
    /// conditions) is accepted, audited as such, and anything else is a conflict. `input.version`,
    /// if sent, must be the current version (0 or absent for the first). Each write is one
    /// transaction with its audit entry.
    pub async fn set_questionnaire(
        &self,
        actor: &Actor,
        id: ConsultationId,
        input: QuestionnaireInput,
    ) -> AppResult<Questionnaire> {
        let c = self.writable_consultation(actor, id).await?;
        let expected = input.version;
        let questionnaire = Questionnaire::parse(input)?;
        let current = self.store.questionnaire(c.id).await?;
        let current_version = current.as_ref().map_or(0, |q| q.version);
        if let Some(v) = expected {
            if v != current_version {
                return Err(AppError::Conflict(format!(
                    "the questionnaire is at version {current_version}, not {v}; read it again"
                )));
            }
        }
        let status = c.status_on(self.today());
        let open = !matches!(status, Status::Draft | Status::Submitted | Status::Approved);
        let change = match (&current, open) {
            (_, false) => QuestionnaireChange::Set,
            (Some(q), true) if q.same_structure(&questionnaire) => QuestionnaireChange::WordingCorrection,
            (_, true) => {
                return Err(AppError::Conflict(format!(
                    "the questionnaire is locked since the activity opened ({}): only wording corrections \
                     (text, hints and labels, with the same questions, options and keys) are allowed",
                    status.as_str()
                )));
            }
        };
        Ok(self
            .store
            .save_questionnaire(actor, self.now(), c.id, &questionnaire, current_version, change)
            .await?)
    }

    /// The current questionnaire of an activity the caller may read (the public: once it is
    /// published); not found when it has none.
    pub async fn questionnaire(&self, caller: Option<&Actor>, id: ConsultationId) -> AppResult<Questionnaire> {
        let c = self.readable_consultation(caller, id).await?;
        self.store
            .questionnaire(c.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("consultation {id} has no questionnaire")))
    }

    /// The analysis per question of an activity's answers (officers of the owner and
    /// coordinators): counted in SQL by the store, shaped by [`consult_core::analyse`] against
    /// the current questionnaire (whose keys cannot change once the activity opens). An activity
    /// without a questionnaire has its respondents and no questions.
    pub async fn analysis(&self, actor: &Actor, id: ConsultationId) -> AppResult<Analysis> {
        let c = self.writable_consultation(actor, id).await?;
        let counts = self.store.analysis_counts(c.id).await?;
        Ok(match self.store.questionnaire(c.id).await? {
            Some(q) => consult_core::analyse(&q, &counts),
            None => Analysis {
                respondents: counts.respondents,
                questions: Vec::new(),
            },
        })
    }
}

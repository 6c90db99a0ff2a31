//! Coding free-text answers: the codeframe, codes, suggestions and coding progress. Officers of
//! the owner organisation and coordinators (the write guard, as for reading responses and the
//! analysis); every change is audited by the store in its transaction.

use crate::App;
use crate::error::{AppError, AppResult};
use consult_core::{
    Actor, AnswerCode, CodeInput, Coding, CodingProgress, ConsultationId, DeleteRefusal, QuestionKind, Questionnaire,
    SuggestionDecision, Theme, ThemeInput, ThemePatch, ThemeSuggestion,
};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The suggestions for one free-text question, with its coding progress.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestionList {
    /// Coding progress of the question.
    pub progress: CodingProgress,
    /// The suggestions, most answers first.
    pub suggestions: Vec<ThemeSuggestion>,
}

/// What accepting a suggestion did.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accepted {
    /// The theme the answers were coded with (new, or an existing one named by `key`).
    pub theme: Theme,
    /// True when the theme was created.
    pub created: bool,
    /// The answers coded.
    pub coded: u64,
}

impl App {
    /// An activity's codeframe.
    pub async fn themes(&self, actor: &Actor, id: ConsultationId) -> AppResult<Vec<Theme>> {
        let c = self.writable_consultation(actor, id).await?;
        Ok(self.store.themes(c.id).await?)
    }

    /// Adds a theme to an activity's codeframe.
    pub async fn create_theme(&self, actor: &Actor, id: ConsultationId, input: &ThemeInput) -> AppResult<Theme> {
        let c = self.writable_consultation(actor, id).await?;
        let frame = self.store.themes(c.id).await?;
        let theme = Theme::create(input, &frame, actor, self.now())?;
        Ok(self.store.create_theme(actor, c.id, &theme).await?)
    }

    /// Changes a theme's label, description or parent (its key never changes).
    pub async fn update_theme(
        &self,
        actor: &Actor,
        id: ConsultationId,
        key: &str,
        patch: &ThemePatch,
    ) -> AppResult<Theme> {
        let c = self.writable_consultation(actor, id).await?;
        let frame = self.store.themes(c.id).await?;
        let theme = frame
            .iter()
            .find(|t| t.key == key)
            .ok_or_else(|| AppError::NotFound(format!("no theme `{key}` in the codeframe of {id}")))?;
        let changed = theme.patched(patch, &frame, actor, self.now())?;
        Ok(self.store.update_theme(actor, c.id, &changed).await?)
    }

    /// Deletes a theme (`consult_core::plan_theme_delete`): refused (conflict) while it has
    /// nested themes, or while answers are coded with it unless `move_to` names another theme,
    /// which then codes them instead. Returns how many answers were recoded.
    pub async fn delete_theme(
        &self,
        actor: &Actor,
        id: ConsultationId,
        key: &str,
        move_to: Option<&str>,
    ) -> AppResult<u64> {
        let c = self.writable_consultation(actor, id).await?;
        let frame = self.store.themes(c.id).await?;
        if !frame.iter().any(|t| t.key == key) {
            return Err(AppError::NotFound(format!("no theme `{key}` in the codeframe of {id}")));
        }
        let used = self.store.theme_use(c.id, key).await?;
        let move_to = consult_core::plan_theme_delete(key, used, move_to, &frame).map_err(|r| match r {
            DeleteRefusal::BadTarget(m) => AppError::field("move_to", m),
            other => AppError::Conflict(other.to_string()),
        })?;
        Ok(self.store.delete_theme(actor, self.now(), c.id, key, move_to).await?)
    }

    /// Codes one response's answer to a free-text question with themes and a note (no themes:
    /// removes the coding). Returns the response's codes after the change.
    pub async fn code_answer(
        &self,
        actor: &Actor,
        id: ConsultationId,
        response: Uuid,
        input: &CodeInput,
    ) -> AppResult<Vec<AnswerCode>> {
        let c = self.writable_consultation(actor, id).await?;
        self.store
            .get_response(c.id, response)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no response {response} to {id}")))?;
        let answered: BTreeSet<String> = self
            .store
            .response_answers(response)
            .await?
            .into_iter()
            .filter(|r| r.item.is_none() && r.text.is_some())
            .map(|r| r.question)
            .collect();
        let questionnaire = self.store.questionnaire(c.id).await?;
        let frame = self.store.themes(c.id).await?;
        let coding = Coding::parse(input, questionnaire.as_ref(), &answered, &frame)?;
        self.store
            .set_coding(actor, self.now(), c.id, response, &coding)
            .await?;
        Ok(self
            .store
            .codes_of(&[response])
            .await?
            .remove(&response)
            .unwrap_or_default())
    }

    /// The free-text question `question` of the activity's questionnaire, or a 422 naming
    /// `question`.
    async fn free_text_question(&self, id: ConsultationId, question: Option<&str>) -> AppResult<String> {
        let q = question
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .ok_or_else(|| AppError::field("question", "is required"))?;
        let questionnaire: Option<Questionnaire> = self.store.questionnaire(id).await?;
        match questionnaire.as_ref().and_then(|qn| qn.question(q)) {
            Some(found) if matches!(found.kind, QuestionKind::FreeText { .. }) => Ok(q.to_owned()),
            Some(_) => Err(AppError::field(
                "question",
                format!("`{q}` is not a free-text question: only free-text answers are coded"),
            )),
            None => Err(AppError::field(
                "question",
                format!("no question `{q}` in this activity's questionnaire"),
            )),
        }
    }

    /// Coding progress of every free-text question of the activity.
    pub async fn coding_progress(&self, actor: &Actor, id: ConsultationId) -> AppResult<Vec<CodingProgress>> {
        self.writable_consultation(actor, id).await?;
        let a = self.analysis(Some(actor), id, None).await?;
        Ok(a.questions
            .into_iter()
            .filter_map(|q| {
                q.coded.map(|coded| CodingProgress {
                    question: q.key,
                    coded,
                    total: q.answered.unwrap_or(0),
                })
            })
            .collect())
    }

    /// Theme suggestions for the uncoded answers of one free-text question
    /// (`consult_core::suggest_themes`), without those rejected for it, with its progress.
    pub async fn theme_suggestions(
        &self,
        actor: &Actor,
        id: ConsultationId,
        question: Option<&str>,
    ) -> AppResult<SuggestionList> {
        let c = self.writable_consultation(actor, id).await?;
        let question = self.free_text_question(c.id, question).await?;
        let suggestions = self.compute_suggestions(c.id, &question).await?;
        let (coded, _) = self.store.coding_counts(c.id).await?;
        let counts = self.store.analysis_counts(c.id).await?;
        Ok(SuggestionList {
            progress: CodingProgress {
                coded: coded.get(&question).copied().unwrap_or(0),
                total: counts.answered.get(&question).copied().unwrap_or(0),
                question,
            },
            suggestions,
        })
    }

    async fn compute_suggestions(&self, id: ConsultationId, question: &str) -> AppResult<Vec<ThemeSuggestion>> {
        let answers = self.store.uncoded_answers(id, question).await?;
        let rejected = self.store.rejected_suggestions(id, question).await?;
        let taken: BTreeSet<String> = self.store.themes(id).await?.into_iter().map(|t| t.key).collect();
        let texts: Vec<(Uuid, &str)> = answers.iter().map(|(r, t)| (*r, t.as_str())).collect();
        Ok(consult_core::suggest_themes(&texts, &rejected, &taken))
    }

    async fn decided_suggestion(
        &self,
        id: ConsultationId,
        decision: &SuggestionDecision,
    ) -> AppResult<(String, ThemeSuggestion)> {
        let question = self.free_text_question(id, decision.question.as_deref()).await?;
        let wanted = decision
            .suggestion
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AppError::field("suggestion", "is required"))?;
        let found = self
            .compute_suggestions(id, &question)
            .await?
            .into_iter()
            .find(|s| s.id == wanted)
            .ok_or_else(|| {
                AppError::field(
                    "suggestion",
                    format!("`{wanted}` is not a current suggestion for `{question}`: list them again"),
                )
            })?;
        Ok((question, found))
    }

    /// Accepts a suggestion, optionally renamed (`key`, `label`): the theme is created (or, when
    /// `key` names an existing theme, reused) and the answers the suggestion covers are coded
    /// with it, as coded by `actor`, in one transaction.
    pub async fn accept_suggestion(
        &self,
        actor: &Actor,
        id: ConsultationId,
        decision: &SuggestionDecision,
    ) -> AppResult<Accepted> {
        let c = self.writable_consultation(actor, id).await?;
        let (question, s) = self.decided_suggestion(c.id, decision).await?;
        let frame = self.store.themes(c.id).await?;
        let key = decision
            .key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .unwrap_or(&s.key)
            .to_owned();
        let (theme, created) = match frame.iter().find(|t| t.key == key) {
            Some(existing) => (existing.clone(), false),
            None => {
                let input = ThemeInput {
                    key: Some(key),
                    label: Some(decision.label.clone().unwrap_or_else(|| s.label.clone())),
                    description: None,
                    parent: None,
                };
                (Theme::create(&input, &frame, actor, self.now())?, true)
            }
        };
        let coded = self
            .store
            .accept_suggestion(actor, self.now(), c.id, &question, &s.id, &theme, &s.responses)
            .await?;
        Ok(Accepted { theme, created, coded })
    }

    /// Rejects a suggestion for a question: it is not offered again.
    pub async fn reject_suggestion(
        &self,
        actor: &Actor,
        id: ConsultationId,
        decision: &SuggestionDecision,
    ) -> AppResult<()> {
        let c = self.writable_consultation(actor, id).await?;
        if decision.key.is_some() || decision.label.is_some() {
            return Err(AppError::field(
                "key",
                "a rejection takes only `question` and `suggestion`",
            ));
        }
        let (question, s) = self.decided_suggestion(c.id, decision).await?;
        Ok(self
            .store
            .reject_suggestion(actor, self.now(), c.id, &question, &s.id)
            .await?)
    }
}

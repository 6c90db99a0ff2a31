//! Questionnaires: every version of an activity's questionnaire, and the per-question answer rows
//! of responses (written with the response, in `responses.rs`).
//!
//! Answers are stored one row per part ([`consult_core::AnswerRow`]) rather than as one JSON
//! document per response: analysis counts, averages and cross-tabulations then run in SQL over
//! the `response_answers_analysis` index (activity, question, item, number) on both backends.

use crate::db::{Tx, query};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use consult_core::{Actor, AnswerRow, ConsultationId, Questionnaire, Response};
use serde_json::json;
use uuid::Uuid;

/// What a questionnaire write is, for its audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionnaireChange {
    /// The first version, or any change before the activity opens.
    Set,
    /// A correction of wording only (same structure and keys), allowed after opening.
    WordingCorrection,
}

impl QuestionnaireChange {
    fn action(self) -> &'static str {
        match self {
            Self::Set => "questionnaire.set",
            Self::WordingCorrection => "questionnaire.correct_wording",
        }
    }
}

#[derive(sqlx::FromRow)]
struct AnswerRowRecord {
    question: String,
    item: String,
    number: Option<f64>,
    text: Option<String>,
}

impl Tx {
    /// Writes a response's answer rows.
    pub(crate) async fn write_answers(&mut self, r: &Response) -> Result<(), StoreError> {
        for row in r.answers.rows() {
            query(
                "INSERT INTO response_answers (response_id, consultation_id, question, item, number, text) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(r.id)
            .bind(r.consultation_id.0)
            .bind(&row.question)
            .bind(row.item.as_deref().unwrap_or(""))
            .bind(row.number)
            .bind(row.text)
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }
}

impl Store {
    /// The current (latest) version of an activity's questionnaire, if it has one.
    pub async fn questionnaire(&self, id: ConsultationId) -> Result<Option<Questionnaire>, StoreError> {
        let row: Option<(i64, String)> = query(
            "SELECT version, definition FROM questionnaires WHERE consultation_id = $1 \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(id.0)
        .fetch_optional(self)
        .await?;
        row.map(|(version, definition)| {
            let mut q: Questionnaire = serde_json::from_str(&definition)
                .map_err(|e| StoreError::Corrupt(format!("questionnaire of {id}: {e}")))?;
            q.version = u32::try_from(version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(q)
        })
        .transpose()
    }

    /// Stores `questionnaire` as the next version of the activity's questionnaire, with its audit
    /// entry, in one transaction. `current` is the version the caller decided on (0: none yet); a
    /// different latest version is a conflict (another write came first).
    pub async fn save_questionnaire(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        id: ConsultationId,
        questionnaire: &Questionnaire,
        current: u32,
        change: QuestionnaireChange,
    ) -> Result<Questionnaire, StoreError> {
        let mut tx = self.begin().await?;
        let (latest,): (Option<i64>,) = query("SELECT MAX(version) FROM questionnaires WHERE consultation_id = $1")
            .bind(id.0)
            .fetch_one(&mut tx)
            .await?;
        if latest.unwrap_or(0) != i64::from(current) {
            return Err(StoreError::Conflict(format!(
                "the questionnaire of {id} changed meanwhile (now version {}); read it again",
                latest.unwrap_or(0)
            )));
        }
        let mut stored = questionnaire.clone();
        stored.version = current + 1;
        let definition = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        query(
            "INSERT INTO questionnaires (consultation_id, version, definition, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(i64::from(stored.version))
        .bind(definition)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut tx)
        .await?;
        let detail = json!({ "version": stored.version, "questions": stored.questions().count() });
        tx.audit(actor, now, change.action(), "consultation", &id.to_string(), &detail)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The stored answer rows of one response, in question then item order.
    pub async fn response_answers(&self, response: Uuid) -> Result<Vec<AnswerRow>, StoreError> {
        let rows: Vec<AnswerRowRecord> = query(
            "SELECT question, item, number, text FROM response_answers WHERE response_id = $1 ORDER BY question, item",
        )
        .bind(response)
        .fetch_all(self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AnswerRow {
                question: r.question,
                item: Some(r.item).filter(|i| !i.is_empty()),
                number: r.number,
                text: r.text,
            })
            .collect())
    }
}

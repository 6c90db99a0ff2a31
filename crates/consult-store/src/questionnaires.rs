//! Questionnaires: every version of an activity's questionnaire, and the per-question answer rows
//! of responses (written with the response, in `responses.rs`).
//!
//! Answers are stored one row per part ([`consult_core::AnswerRow`]) rather than as one JSON
//! document per response: analysis counts, averages and cross-tabulations then run in SQL over
//! the `response_answers_analysis` index (activity, question, item, number) on both backends.

use crate::consultations::escape_like;
use crate::db::{Sql, Tx, query};
use crate::{Cursor, Page, PageRequest, Store, StoreError};
use chrono::{DateTime, Utc};
use consult_core::{Actor, AnalysisCounts, AnswerCell, AnswerRow, ConsultationId, Questionnaire, Response};
use serde_json::json;
use std::collections::HashMap;
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

/// One stored response as staff read it: never its monitoring answers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResponseRecord {
    /// Its id (UUID v7: time-ordered, the key of the listing's pages).
    pub id: Uuid,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// How it arrived (`online`, `paper`, ...).
    pub channel: String,
    /// The respondent's comments.
    pub comments: Option<String>,
    /// The officer who entered it, for staff-entered ones.
    pub recorded_by: Option<String>,
    /// The version of the questionnaire answered.
    pub questionnaire_version: Option<i64>,
}

const RESPONSE_COLUMNS: &str = "r.id, r.received_at, r.channel, r.comments, r.recorded_by, r.questionnaire_version";

#[derive(sqlx::FromRow)]
struct PageAnswerRow {
    response_id: Uuid,
    question: String,
    item: String,
    number: Option<f64>,
    text: Option<String>,
}

impl Store {
    /// One version of an activity's questionnaire.
    pub async fn questionnaire_version(
        &self,
        id: ConsultationId,
        version: u32,
    ) -> Result<Option<Questionnaire>, StoreError> {
        let row: Option<(String,)> =
            query("SELECT definition FROM questionnaires WHERE consultation_id = $1 AND version = $2")
                .bind(id.0)
                .bind(i64::from(version))
                .fetch_optional(self)
                .await?;
        row.map(|(definition,)| {
            let mut q: Questionnaire = serde_json::from_str(&definition)
                .map_err(|e| StoreError::Corrupt(format!("questionnaire of {id}: {e}")))?;
            q.version = version;
            Ok(q)
        })
        .transpose()
    }

    /// An activity's responses in the order received (by id), a page at a time; with `text`,
    /// only those whose comments or a text answer contain it (case-insensitive, `%` and `_`
    /// literal).
    pub async fn list_responses(
        &self,
        id: ConsultationId,
        text: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ResponseRecord>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.consultation_id = "
        ));
        let c = sql.arg(id.0);
        sql.push(&c);
        if let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) {
            let a = sql.arg(escape_like(t));
            let b = sql.arg(escape_like(t));
            sql.push(&format!(
                " AND (LOWER(r.comments) LIKE {a} ESCAPE '\\' OR EXISTS (SELECT 1 FROM response_answers x \
                 WHERE x.response_id = r.id AND LOWER(x.text) LIKE {b} ESCAPE '\\'))"
            ));
        }
        if let Some(cursor) = &page.cursor {
            let i = sql.arg(cursor.id);
            sql.push(&format!(" AND r.id > {i}"));
        }
        let limit = sql.arg(i64::from(page.limit) + 1);
        sql.push(&format!(" ORDER BY r.id LIMIT {limit}"));
        let mut items: Vec<ResponseRecord> = sql.fetch_all(self).await?;
        let more = items.len() > page.limit as usize;
        items.truncate(page.limit as usize);
        let next = if more {
            items.last().map(|r| Cursor {
                opens_on: None,
                id: r.id,
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// One response of an activity (none for a response of another activity).
    pub async fn get_response(&self, id: ConsultationId, response: Uuid) -> Result<Option<ResponseRecord>, StoreError> {
        query(format!(
            "SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.consultation_id = $1 AND r.id = $2"
        ))
        .bind(id.0)
        .bind(response)
        .fetch_optional(self)
        .await
    }

    /// The answer rows of several responses, read in one query, by response.
    pub async fn answers_of(&self, responses: &[Uuid]) -> Result<HashMap<Uuid, Vec<AnswerRow>>, StoreError> {
        let mut out: HashMap<Uuid, Vec<AnswerRow>> = HashMap::new();
        if responses.is_empty() {
            return Ok(out);
        }
        let mut sql =
            Sql::new("SELECT response_id, question, item, number, text FROM response_answers WHERE response_id IN (");
        let list = sql.list(responses.iter().copied());
        sql.push(&list);
        sql.push(") ORDER BY response_id, question, item");
        let rows: Vec<PageAnswerRow> = sql.fetch_all(self).await?;
        for r in rows {
            out.entry(r.response_id).or_default().push(AnswerRow {
                question: r.question,
                item: Some(r.item).filter(|i| !i.is_empty()),
                number: r.number,
                text: r.text,
            });
        }
        Ok(out)
    }

    /// A page of an activity's responses for an export, after the response `after` (in id
    /// order), with their answer rows: both read on one connection, the answers as one range
    /// of the answers' primary key (response id order) rather than a list of ids.
    pub async fn export_page(
        &self,
        id: ConsultationId,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<(Vec<ResponseRecord>, HashMap<Uuid, Vec<AnswerRow>>), StoreError> {
        let mut conn = self.hold().await?;
        let mut sql = Sql::new(&format!(
            "SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.consultation_id = "
        ));
        let c = sql.arg(id.0);
        sql.push(&c);
        if let Some(after) = after {
            let a = sql.arg(after);
            sql.push(&format!(" AND r.id > {a}"));
        }
        let l = sql.arg(i64::from(limit));
        sql.push(&format!(" ORDER BY r.id LIMIT {l}"));
        let records: Vec<ResponseRecord> = sql.fetch_all(&mut conn).await?;
        let mut out: HashMap<Uuid, Vec<AnswerRow>> = HashMap::with_capacity(records.len());
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Ok((records, out));
        };
        let rows: Vec<PageAnswerRow> = query(
            "SELECT response_id, question, item, number, text FROM response_answers \
             WHERE response_id >= $1 AND response_id <= $2 AND consultation_id = $3 \
             ORDER BY response_id, question, item",
        )
        .bind(first.id)
        .bind(last.id)
        .bind(id.0)
        .fetch_all(&mut conn)
        .await?;
        for r in rows {
            out.entry(r.response_id).or_default().push(AnswerRow {
                question: r.question,
                item: Some(r.item).filter(|i| !i.is_empty()),
                number: r.number,
                text: r.text,
            });
        }
        Ok((records, out))
    }

    /// Records that `actor` read responses (an audit entry of its own: reading respondents'
    /// free text is worth a trace).
    pub async fn audit_read(
        &self,
        actor: &Actor,
        at: DateTime<Utc>,
        action: &str,
        entity_id: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.audit(actor, at, action, "consultation", entity_id, detail).await?;
        tx.commit().await
    }
}

#[derive(sqlx::FromRow)]
struct CellRow {
    question: String,
    item: String,
    number: Option<f64>,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct GroupCellRow {
    grp: String,
    question: String,
    item: String,
    number: Option<f64>,
    n: i64,
}

/// The group of responses that gave no answer for a breakdown's characteristic or area.
pub const NOT_ANSWERED: &str = "not_answered";

/// What an analysis is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown<'a> {
    /// A monitoring characteristic's categories.
    Characteristic(&'a str),
    /// The respondents' areas.
    Area,
}

impl Store {
    /// The counts an activity's analysis needs, counted in SQL: its responses, the responses
    /// answering each question, and the answer rows by (question, item, number).
    pub async fn analysis_counts(&self, id: ConsultationId) -> Result<AnalysisCounts, StoreError> {
        let count = |n: i64| u64::try_from(n).map_err(|e| StoreError::Corrupt(e.to_string()));
        let (respondents,): (i64,) = query("SELECT COUNT(*) FROM responses WHERE consultation_id = $1")
            .bind(id.0)
            .fetch_one(self)
            .await?;
        let answered: Vec<(String, i64)> = query(
            "SELECT question, COUNT(DISTINCT response_id) FROM response_answers WHERE consultation_id = $1 \
             GROUP BY question",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        let cells: Vec<CellRow> = query(
            "SELECT question, item, number, COUNT(*) AS n FROM response_answers WHERE consultation_id = $1 \
             GROUP BY question, item, number",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        let (coded, themes) = self.coding_counts(id).await?;
        Ok(AnalysisCounts {
            coded,
            themes,
            respondents: count(respondents)?,
            answered: answered
                .into_iter()
                .map(|(q, n)| Ok((q, count(n)?)))
                .collect::<Result<_, StoreError>>()?,
            cells: cells
                .into_iter()
                .map(|c| {
                    Ok(AnswerCell {
                        question: c.question,
                        item: Some(c.item).filter(|i| !i.is_empty()),
                        number: c.number,
                        count: count(c.n)?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        })
    }

    /// The counts of an activity's analysis in each group of a breakdown: by a monitoring
    /// characteristic (the group is the response's category for it) or by the respondent's
    /// area (its GSS code); [`NOT_ANSWERED`] for responses without one. Counted in SQL like
    /// [`Store::analysis_counts`], the answer rows joined to their response's group.
    pub async fn analysis_counts_by(
        &self,
        id: ConsultationId,
        by: Breakdown<'_>,
    ) -> Result<Vec<(String, AnalysisCounts)>, StoreError> {
        // The group of a response `r` (responses) and of an answer row `a` (response_answers);
        // a characteristic is bound as $2.
        let (respondent_join, answer_join, group, characteristic) = match by {
            Breakdown::Characteristic(c) => (
                "LEFT JOIN monitoring_answers m ON m.response_id = r.id AND m.characteristic = $2",
                "LEFT JOIN monitoring_answers m ON m.response_id = a.response_id AND m.characteristic = $2",
                "COALESCE(m.category, 'not_answered')",
                Some(c),
            ),
            Breakdown::Area => (
                "",
                "JOIN responses r ON r.id = a.response_id",
                "COALESCE(r.area, 'not_answered')",
                None,
            ),
        };
        let sql = |text: String| {
            let q = query(text).bind(id.0);
            match characteristic {
                Some(c) => q.bind(c),
                None => q,
            }
        };
        let count = |n: i64| u64::try_from(n).map_err(|e| StoreError::Corrupt(e.to_string()));
        let respondents: Vec<(String, i64)> = sql(format!(
            "SELECT {group} AS grp, COUNT(*) FROM responses r {respondent_join} \
             WHERE r.consultation_id = $1 GROUP BY {group}"
        ))
        .fetch_all(self)
        .await?;
        let answered: Vec<(String, String, i64)> = sql(format!(
            "SELECT {group} AS grp, a.question, COUNT(DISTINCT a.response_id) \
             FROM response_answers a {answer_join} \
             WHERE a.consultation_id = $1 GROUP BY {group}, a.question"
        ))
        .fetch_all(self)
        .await?;
        let cells: Vec<GroupCellRow> = sql(format!(
            "SELECT {group} AS grp, a.question, a.item, a.number, COUNT(*) AS n \
             FROM response_answers a {answer_join} \
             WHERE a.consultation_id = $1 \
             GROUP BY {group}, a.question, a.item, a.number"
        ))
        .fetch_all(self)
        .await?;
        let mut groups: std::collections::BTreeMap<String, AnalysisCounts> = std::collections::BTreeMap::new();
        for (g, n) in respondents {
            groups.entry(g).or_default().respondents = count(n)?;
        }
        for (g, q, n) in answered {
            groups.entry(g).or_default().answered.insert(q, count(n)?);
        }
        for c in cells {
            groups.entry(c.grp).or_default().cells.push(AnswerCell {
                question: c.question,
                item: Some(c.item).filter(|i| !i.is_empty()),
                number: c.number,
                count: count(c.n)?,
            });
        }
        Ok(groups.into_iter().collect())
    }
}

//! Questionnaires: every version of an activity's questionnaire, and the per-question answer rows
//! of responses (written with the response, in `responses.rs`).
//!
//! Answers are stored one row per part ([`consult_core::AnswerRow`]) rather than as one JSON
//! document per response, and counted as they are written into `answer_tallies` (per activity,
//! group and answer part): analysis counts, averages and cross-tabulations read the tallies, not
//! the rows. The rows are found by response (primary key) or by activity and question.

use crate::consultations::escape_like;
use crate::db::{Held, Sql, Tx, query};
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
        let mut tallies = Tallies::default();
        tallies.add(std::slice::from_ref(r));
        for statement in tallies.statements() {
            statement.execute(&mut *self).await?;
        }
        Ok(())
    }
}

/// A tally's key: the activity, the group (a characteristic and category; both empty for all
/// respondents), the question (empty for the respondents themselves), the item and the number.
type TallyKey<'a> = (Uuid, &'a str, &'a str, &'a str, &'a str, Option<u64>);

/// Rows per tally statement (nine arguments each).
const TALLY_CHUNK: usize = 400;

/// What stored responses add to the analysis's tallies (`answer_tallies`, migration 0024):
/// answer rows and answers per key, counted here, then written as a few upserts.
#[derive(Debug, Default)]
pub(crate) struct Tallies(HashMap<OwnedTallyKey, (i64, i64)>);

/// A [`TallyKey`] that owns its text.
type OwnedTallyKey = (Uuid, String, String, String, String, Option<u64>);

impl Tallies {
    /// Counts `responses`: each respondent, and each answer row, for all respondents and for
    /// the group of each of its monitoring answers.
    pub(crate) fn add(&mut self, responses: &[Response]) {
        let rows: Vec<Vec<AnswerRow>> = responses.iter().map(|r| r.answers.rows()).collect();
        let mut here: HashMap<TallyKey<'_>, (i64, i64)> = HashMap::new();
        for (r, rows) in responses.iter().zip(&rows) {
            // Each answer is counted once, on its row with the smallest item.
            let mut lead: HashMap<&str, &str> = HashMap::new();
            for row in rows {
                let item = row.item.as_deref().unwrap_or("");
                lead.entry(row.question.as_str())
                    .and_modify(|l| *l = (*l).min(item))
                    .or_insert(item);
            }
            let groups = std::iter::once(("", ""))
                .chain(r.monitoring.iter().map(|(c, k)| (c.as_str(), k.as_str())))
                .chain(r.area.as_ref().map(|a| (AREA_GROUP, a.as_str())));
            for (characteristic, category) in groups {
                let cid = r.consultation_id.0;
                let t = here.entry((cid, characteristic, category, "", "", None)).or_default();
                *t = (t.0 + 1, t.1 + 1);
                for row in rows {
                    let item = row.item.as_deref().unwrap_or("");
                    let number = row.number.map(f64::to_bits);
                    let first = i64::from(lead.get(row.question.as_str()) == Some(&item));
                    let t = here
                        .entry((cid, characteristic, category, row.question.as_str(), item, number))
                        .or_default();
                    *t = (t.0 + 1, t.1 + first);
                }
            }
        }
        for ((cid, characteristic, category, question, item, number), (parts, answers)) in here {
            let key = (
                cid,
                characteristic.to_owned(),
                category.to_owned(),
                question.to_owned(),
                item.to_owned(),
                number,
            );
            let t = self.0.entry(key).or_default();
            *t = (t.0 + parts, t.1 + answers);
        }
    }

    /// The upserts adding the tallies, a chunk of keys each, in key order (so concurrent
    /// writers lock rows in the same order).
    pub(crate) fn statements(self) -> Vec<Sql> {
        let mut tallies: Vec<_> = self.0.into_iter().collect();
        tallies.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        tallies
            .chunks(TALLY_CHUNK)
            .map(|chunk| {
                let mut sql = Sql::new(
                    "INSERT INTO answer_tallies (consultation_id, characteristic, category, question, item, numbered, \
                     number, parts, answers) VALUES ",
                );
                for (i, ((cid, characteristic, category, question, item, number), (parts, answers))) in
                    chunk.iter().enumerate()
                {
                    let values = [
                        sql.arg(*cid),
                        sql.arg(characteristic),
                        sql.arg(category),
                        sql.arg(question),
                        sql.arg(item),
                        sql.arg(number.is_some()),
                        sql.arg(number.map_or(0.0, f64::from_bits)),
                        sql.arg(*parts),
                        sql.arg(*answers),
                    ];
                    sql.push(if i == 0 { "(" } else { ", (" })
                        .push(&values.join(", "))
                        .push(")");
                }
                sql.push(
                    " ON CONFLICT (consultation_id, characteristic, category, question, item, numbered, number) \
                     DO UPDATE SET parts = answer_tallies.parts + excluded.parts, \
                     answers = answer_tallies.answers + excluded.answers",
                );
                sql
            })
            .collect()
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

    /// A reader of an activity's responses for an export, holding one connection of the pool
    /// until it is dropped: every page is read on it, so an export fills one connection's page
    /// cache at most (a page read on whichever connection was free filled several on SQLite: up
    /// to 226 MiB for 100,000 responses against 90 MiB on one).
    pub async fn export_reader(&self, id: ConsultationId) -> Result<ExportReader, StoreError> {
        Ok(ExportReader {
            held: self.hold().await?,
            id,
        })
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
struct TallyRow {
    category: String,
    question: String,
    item: String,
    numbered: bool,
    number: f64,
    parts: i64,
    answers: i64,
}

/// The group of responses that gave no answer for a breakdown's characteristic or area.
pub const NOT_ANSWERED: &str = "not_answered";

/// The tallies' group name for the respondents' areas (the category is the GSS code): a name
/// no monitoring characteristic may take ([`consult_core::RESERVED_CHARACTERISTIC_PREFIX`]).
pub(crate) const AREA_GROUP: &str = "@area";

/// What an analysis is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown<'a> {
    /// A monitoring characteristic's categories.
    Characteristic(&'a str),
    /// The respondents' areas.
    Area,
}

/// Adds one tally row to `counts` (`sign` -1 takes it away).
fn add_tally(counts: &mut AnalysisCounts, row: &TallyRow, sign: i64) -> Result<(), StoreError> {
    let add = |n: &mut u64, by: i64| -> Result<(), StoreError> {
        *n = u64::try_from(i128::from(*n) + i128::from(sign) * i128::from(by))
            .map_err(|e| StoreError::Corrupt(format!("answer tallies: {e}")))?;
        Ok(())
    };
    if row.question.is_empty() {
        return add(&mut counts.respondents, row.parts);
    }
    add(counts.answered.entry(row.question.clone()).or_default(), row.answers)?;
    let item = Some(row.item.clone()).filter(|i| !i.is_empty());
    let number = row.numbered.then_some(row.number);
    match counts
        .cells
        .iter_mut()
        .find(|c| c.question == row.question && c.item == item && c.number == number)
    {
        Some(cell) => add(&mut cell.count, row.parts),
        None => {
            let mut count = 0;
            add(&mut count, row.parts)?;
            counts.cells.push(AnswerCell {
                question: row.question.clone(),
                item,
                number,
                count,
            });
            Ok(())
        }
    }
}

/// Drops what counts nothing (a group's cells and questions no response of it answered).
fn without_zeros(mut counts: AnalysisCounts) -> AnalysisCounts {
    counts.cells.retain(|c| c.count > 0);
    counts.answered.retain(|_, n| *n > 0);
    counts
}

impl Store {
    /// The tally rows of one group of an activity (`characteristic` empty: all respondents;
    /// otherwise every category of it).
    async fn tally_rows(&self, id: ConsultationId, characteristic: &str) -> Result<Vec<TallyRow>, StoreError> {
        query(
            "SELECT category, question, item, numbered, number, parts, answers FROM answer_tallies \
             WHERE consultation_id = $1 AND characteristic = $2 ORDER BY category, question, item, numbered, number",
        )
        .bind(id.0)
        .bind(characteristic)
        .fetch_all(self)
        .await
    }

    /// The counts an activity's analysis needs: its responses, the responses answering each
    /// question, and the answer rows by (question, item, number). Read from the tallies kept as
    /// responses are stored (`answer_tallies`), not counted from the answer rows on each read.
    pub async fn analysis_counts(&self, id: ConsultationId) -> Result<AnalysisCounts, StoreError> {
        let mut counts = AnalysisCounts::default();
        for row in self.tally_rows(id, "").await? {
            add_tally(&mut counts, &row, 1)?;
        }
        let (coded, themes) = self.coding_counts(id).await?;
        counts.coded = coded;
        counts.themes = themes;
        Ok(counts)
    }

    /// The counts of an activity's analysis in each group of a breakdown: by a monitoring
    /// characteristic (the group is the response's category for it) or by the respondent's area
    /// (its GSS code), both read from the tallies like [`Store::analysis_counts`];
    /// [`NOT_ANSWERED`] for responses without one.
    pub async fn analysis_counts_by(
        &self,
        id: ConsultationId,
        by: Breakdown<'_>,
    ) -> Result<Vec<(String, AnalysisCounts)>, StoreError> {
        let characteristic = match by {
            Breakdown::Area => AREA_GROUP,
            Breakdown::Characteristic(c) => c,
        };
        let mut not_answered = AnalysisCounts::default();
        for row in self.tally_rows(id, "").await? {
            add_tally(&mut not_answered, &row, 1)?;
        }
        let mut groups: std::collections::BTreeMap<String, AnalysisCounts> = std::collections::BTreeMap::new();
        if !characteristic.is_empty() {
            for row in self.tally_rows(id, characteristic).await? {
                add_tally(&mut not_answered, &row, -1)?;
                add_tally(groups.entry(row.category.clone()).or_default(), &row, 1)?;
            }
        }
        if not_answered.respondents > 0 {
            groups.insert(NOT_ANSWERED.to_owned(), not_answered);
        }
        Ok(groups.into_iter().map(|(g, c)| (g, without_zeros(c))).collect())
    }
}

/// One page of an export: the responses, their answer rows and their codes.
#[derive(Debug, Default)]
pub struct ExportPage {
    /// The responses, in id order.
    pub records: Vec<ResponseRecord>,
    /// Each response's answer rows.
    pub answers: HashMap<Uuid, Vec<AnswerRow>>,
    /// Each response's codes (themes per question).
    pub codes: HashMap<Uuid, Vec<consult_core::AnswerCode>>,
}

/// Reads an activity's responses page by page on one held connection
/// ([`Store::export_reader`]).
#[derive(Debug)]
pub struct ExportReader {
    held: Held,
    id: ConsultationId,
}

impl ExportReader {
    /// The page of responses after the response `after` (in id order), at most `limit`, with
    /// their answer rows (one range of the answers' key, response id order, rather than a list
    /// of ids) and their codes.
    pub async fn page(&mut self, after: Option<Uuid>, limit: u32) -> Result<ExportPage, StoreError> {
        let id = self.id;
        let conn = &mut self.held;
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
        let records: Vec<ResponseRecord> = sql.fetch_all(&mut *conn).await?;
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Ok(ExportPage::default());
        };
        // The range of the primary key, filtered by activity: on SQLite the `+` keeps the
        // planner off the index by activity and question (without statistics it takes that
        // index, then reads and sorts every answer row of the activity for each page: 55 s
        // against 9 s for 100,000 responses).
        let activity = match conn {
            Held::Sqlite(_) => "+consultation_id",
            Held::Postgres(_) => "consultation_id",
        };
        let rows: Vec<PageAnswerRow> = query(format!(
            "SELECT response_id, question, item, number, text FROM response_answers \
             WHERE response_id >= $1 AND response_id <= $2 AND {activity} = $3 \
             ORDER BY response_id, question, item"
        ))
        .bind(first.id)
        .bind(last.id)
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await?;
        let mut answers: HashMap<Uuid, Vec<AnswerRow>> = HashMap::with_capacity(records.len());
        for r in rows {
            answers.entry(r.response_id).or_default().push(AnswerRow {
                question: r.question,
                item: Some(r.item).filter(|i| !i.is_empty()),
                number: r.number,
                text: r.text,
            });
        }
        let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
        let codes = crate::coding::codes_in(&mut *conn, &ids).await?;
        Ok(ExportPage {
            records,
            answers,
            codes,
        })
    }
}

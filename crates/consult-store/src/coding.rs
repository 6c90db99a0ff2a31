//! Coding free-text answers: an activity's codeframe (`themes`), the themes of each coded
//! answer (`response_codes`, one row per theme) and the theme suggestions analysts rejected
//! (`theme_suggestion_rejections`); migration 0022. Every write is one transaction with its
//! audit entry.

use crate::db::{Conn, Sql, Tx, query};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use consult_core::{Actor, AnswerCode, Coding, ConsultationId, Theme};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ThemeRow {
    theme: String,
    label: String,
    description: Option<String>,
    parent: Option<String>,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl From<ThemeRow> for Theme {
    fn from(r: ThemeRow) -> Self {
        Theme {
            key: r.theme,
            label: r.label,
            description: r.description,
            parent: r.parent,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    response_id: Uuid,
    question: String,
    theme: String,
    note: Option<String>,
    coded_by: String,
    coded_at: DateTime<Utc>,
}

fn count(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Tx {
    async fn theme_exists(&mut self, id: ConsultationId, key: &str) -> Result<bool, StoreError> {
        let row: Option<(String,)> = query("SELECT theme FROM themes WHERE consultation_id = $1 AND theme = $2")
            .bind(id.0)
            .bind(key)
            .fetch_optional(&mut *self)
            .await?;
        Ok(row.is_some())
    }

    async fn insert_theme(&mut self, id: ConsultationId, t: &Theme) -> Result<(), StoreError> {
        query(
            "INSERT INTO themes (consultation_id, theme, label, description, parent, created_by, created_at, \
             updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.0)
        .bind(&t.key)
        .bind(&t.label)
        .bind(&t.description)
        .bind(&t.parent)
        .bind(&t.created_by)
        .bind(t.created_at)
        .bind(&t.updated_by)
        .bind(t.updated_at)
        .execute(&mut *self)
        .await?;
        Ok(())
    }
}

impl Store {
    /// An activity's codeframe: top-level themes by key, each followed by its nested themes.
    pub async fn themes(&self, id: ConsultationId) -> Result<Vec<Theme>, StoreError> {
        let rows: Vec<ThemeRow> = query(
            "SELECT theme, label, description, parent, created_by, created_at, updated_by, updated_at \
             FROM themes WHERE consultation_id = $1 \
             ORDER BY COALESCE(parent, theme), CASE WHEN parent IS NULL THEN 0 ELSE 1 END, theme",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        Ok(rows.into_iter().map(Theme::from).collect())
    }

    /// Adds a theme to an activity's codeframe, audited (`theme.create`). A theme with the same
    /// key added meanwhile is a conflict.
    pub async fn create_theme(&self, actor: &Actor, id: ConsultationId, theme: &Theme) -> Result<Theme, StoreError> {
        let mut tx = self.begin().await?;
        if tx.theme_exists(id, &theme.key).await? {
            return Err(StoreError::Conflict(format!("a theme `{}` already exists", theme.key)));
        }
        tx.insert_theme(id, theme).await?;
        let detail = json!({ "theme": theme.key, "label": theme.label, "parent": theme.parent });
        tx.audit(
            actor,
            theme.created_at,
            "theme.create",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(theme.clone())
    }

    /// Changes a theme's label, description and parent, audited (`theme.update`).
    pub async fn update_theme(&self, actor: &Actor, id: ConsultationId, theme: &Theme) -> Result<Theme, StoreError> {
        let mut tx = self.begin().await?;
        let changed = query(
            "UPDATE themes SET label = $3, description = $4, parent = $5, updated_by = $6, updated_at = $7 \
             WHERE consultation_id = $1 AND theme = $2",
        )
        .bind(id.0)
        .bind(&theme.key)
        .bind(&theme.label)
        .bind(&theme.description)
        .bind(&theme.parent)
        .bind(&theme.updated_by)
        .bind(theme.updated_at)
        .execute(&mut tx)
        .await?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no theme `{}`", theme.key)));
        }
        let detail = json!({ "theme": theme.key, "label": theme.label, "parent": theme.parent });
        tx.audit(
            actor,
            theme.updated_at,
            "theme.update",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(theme.clone())
    }

    /// How many answers (response and question) are coded with a theme.
    pub async fn theme_use(&self, id: ConsultationId, key: &str) -> Result<u64, StoreError> {
        let (n,): (i64,) = query("SELECT COUNT(*) FROM response_codes WHERE consultation_id = $1 AND theme = $2")
            .bind(id.0)
            .bind(key)
            .fetch_one(self)
            .await?;
        count(n)
    }

    /// Deletes a theme, audited (`theme.delete`). With `move_to`, the answers coded with it are
    /// first coded with that theme instead (an answer already coded with both keeps one row);
    /// without, answers coded with it make it a conflict (checked again inside the transaction,
    /// so a coding made meanwhile is never orphaned). Returns how many answers were recoded.
    pub async fn delete_theme(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        id: ConsultationId,
        key: &str,
        move_to: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        if !tx.theme_exists(id, key).await? {
            return Err(StoreError::NotFound(format!("no theme `{key}`")));
        }
        let (children,): (i64,) = query("SELECT COUNT(*) FROM themes WHERE consultation_id = $1 AND parent = $2")
            .bind(id.0)
            .bind(key)
            .fetch_one(&mut tx)
            .await?;
        if children > 0 {
            return Err(StoreError::Conflict(format!(
                "the theme `{key}` has nested themes: delete them or give them another parent first"
            )));
        }
        let (used,): (i64,) = query("SELECT COUNT(*) FROM response_codes WHERE consultation_id = $1 AND theme = $2")
            .bind(id.0)
            .bind(key)
            .fetch_one(&mut tx)
            .await?;
        let used = count(used)?;
        match move_to {
            None if used > 0 => {
                return Err(StoreError::Conflict(format!(
                    "{used} coded answer(s) use the theme `{key}`: pass move_to to recode them first"
                )));
            }
            None => {}
            Some(to) => {
                if !tx.theme_exists(id, to).await? {
                    return Err(StoreError::NotFound(format!("no theme `{to}` to move the codes to")));
                }
                query(
                    "INSERT INTO response_codes (response_id, consultation_id, question, theme, note, coded_by, coded_at) \
                     SELECT c.response_id, c.consultation_id, c.question, $3, c.note, $4, $5 FROM response_codes c \
                     WHERE c.consultation_id = $1 AND c.theme = $2 AND NOT EXISTS (SELECT 1 FROM response_codes d \
                     WHERE d.response_id = c.response_id AND d.question = c.question AND d.theme = $3)",
                )
                .bind(id.0)
                .bind(key)
                .bind(to)
                .bind(&actor.name)
                .bind(now)
                .execute(&mut tx)
                .await?;
                query("DELETE FROM response_codes WHERE consultation_id = $1 AND theme = $2")
                    .bind(id.0)
                    .bind(key)
                    .execute(&mut tx)
                    .await?;
            }
        }
        query("DELETE FROM themes WHERE consultation_id = $1 AND theme = $2")
            .bind(id.0)
            .bind(key)
            .execute(&mut tx)
            .await?;
        let detail = json!({ "theme": key, "move_to": move_to, "recoded": used });
        tx.audit(actor, now, "theme.delete", "consultation", &id.to_string(), &detail)
            .await?;
        tx.commit().await?;
        Ok(used)
    }

    /// Replaces the coding of one response's answer to one question (no themes: removes it),
    /// audited (`response.code`: the response, question and themes, never the answer).
    pub async fn set_coding(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        id: ConsultationId,
        response: Uuid,
        coding: &Coding,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query("DELETE FROM response_codes WHERE response_id = $1 AND question = $2")
            .bind(response)
            .bind(&coding.question)
            .execute(&mut tx)
            .await?;
        for theme in &coding.themes {
            if !tx.theme_exists(id, theme).await? {
                return Err(StoreError::Conflict(format!(
                    "the theme `{theme}` was deleted meanwhile"
                )));
            }
            query(
                "INSERT INTO response_codes (response_id, consultation_id, question, theme, note, coded_by, coded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(response)
            .bind(id.0)
            .bind(&coding.question)
            .bind(theme)
            .bind(&coding.note)
            .bind(&actor.name)
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        let detail = json!({ "response": response, "question": coding.question, "themes": coding.themes });
        tx.audit(actor, now, "response.code", "consultation", &id.to_string(), &detail)
            .await?;
        tx.commit().await
    }

    /// The codings of several responses, by response, each by question.
    pub async fn codes_of(&self, responses: &[Uuid]) -> Result<HashMap<Uuid, Vec<AnswerCode>>, StoreError> {
        codes_in(self, responses).await
    }

    /// The answers to a free-text question no theme codes yet: (response id, text).
    pub async fn uncoded_answers(&self, id: ConsultationId, question: &str) -> Result<Vec<(Uuid, String)>, StoreError> {
        query(
            "SELECT a.response_id, a.text FROM response_answers a WHERE a.consultation_id = $1 AND a.question = $2 \
             AND a.item = '' AND a.text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM response_codes c \
             WHERE c.response_id = a.response_id AND c.question = a.question) ORDER BY a.response_id",
        )
        .bind(id.0)
        .bind(question)
        .fetch_all(self)
        .await
    }

    /// The suggestions rejected for a question (their ids).
    pub async fn rejected_suggestions(
        &self,
        id: ConsultationId,
        question: &str,
    ) -> Result<BTreeSet<String>, StoreError> {
        let rows: Vec<(String,)> =
            query("SELECT suggestion FROM theme_suggestion_rejections WHERE consultation_id = $1 AND question = $2")
                .bind(id.0)
                .bind(question)
                .fetch_all(self)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Remembers that a suggestion was rejected for a question, audited
    /// (`theme.suggestion_reject`); rejecting it again changes nothing.
    pub async fn reject_suggestion(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        id: ConsultationId,
        question: &str,
        suggestion: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let known: Option<(String,)> = query(
            "SELECT suggestion FROM theme_suggestion_rejections WHERE consultation_id = $1 AND question = $2 \
             AND suggestion = $3",
        )
        .bind(id.0)
        .bind(question)
        .bind(suggestion)
        .fetch_optional(&mut tx)
        .await?;
        if known.is_none() {
            query(
                "INSERT INTO theme_suggestion_rejections (consultation_id, question, suggestion, rejected_by, rejected_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.0)
            .bind(question)
            .bind(suggestion)
            .bind(&actor.name)
            .bind(now)
            .execute(&mut tx)
            .await?;
            let detail = json!({ "question": question, "suggestion": suggestion });
            tx.audit(
                actor,
                now,
                "theme.suggestion_reject",
                "consultation",
                &id.to_string(),
                &detail,
            )
            .await?;
        }
        tx.commit().await
    }

    /// Accepts a suggestion: creates `new_theme` (unless the theme `key` exists already, whose
    /// answers are then added to it) and codes with it each of `responses`' answers to
    /// `question` not coded meanwhile, as coded by `actor`; audited
    /// (`theme.suggestion_accept`). Returns how many answers were coded.
    #[allow(clippy::too_many_arguments)]
    pub async fn accept_suggestion(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        id: ConsultationId,
        question: &str,
        suggestion: &str,
        theme: &Theme,
        responses: &[Uuid],
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let created = !tx.theme_exists(id, &theme.key).await?;
        if created {
            tx.insert_theme(id, theme).await?;
        }
        let mut coded = 0;
        for r in responses {
            coded += query(
                "INSERT INTO response_codes (response_id, consultation_id, question, theme, note, coded_by, coded_at) \
                 SELECT a.response_id, a.consultation_id, a.question, $4, NULL, $5, $6 FROM response_answers a \
                 WHERE a.response_id = $1 AND a.consultation_id = $2 AND a.question = $3 AND a.item = '' \
                 AND NOT EXISTS (SELECT 1 FROM response_codes c WHERE c.response_id = a.response_id \
                 AND c.question = a.question)",
            )
            .bind(*r)
            .bind(id.0)
            .bind(question)
            .bind(&theme.key)
            .bind(&actor.name)
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        let detail = json!({ "question": question, "suggestion": suggestion, "theme": theme.key,
            "created": created, "coded": coded });
        tx.audit(
            actor,
            now,
            "theme.suggestion_accept",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(coded)
    }

    /// Per free-text question: the answers coded, and per theme the answers coded with it (for
    /// a theme with nested themes, with it or any of them, each answer once). Counted in SQL.
    pub async fn coding_counts(
        &self,
        id: ConsultationId,
    ) -> Result<(BTreeMap<String, u64>, Vec<consult_core::ThemeCell>), StoreError> {
        let coded: Vec<(String, i64)> = query(
            "SELECT question, COUNT(DISTINCT response_id) FROM response_codes WHERE consultation_id = $1 \
             GROUP BY question",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        let direct: Vec<(String, String, i64)> = query(
            "SELECT question, theme, COUNT(DISTINCT response_id) FROM response_codes WHERE consultation_id = $1 \
             GROUP BY question, theme",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        let rolled: Vec<(String, String, i64)> = query(
            "SELECT c.question, COALESCE(t.parent, t.theme) AS top, COUNT(DISTINCT c.response_id) \
             FROM response_codes c JOIN themes t ON t.consultation_id = c.consultation_id AND t.theme = c.theme \
             WHERE c.consultation_id = $1 GROUP BY c.question, COALESCE(t.parent, t.theme)",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        let themes = self.themes(id).await?;
        let mut cells = Vec::new();
        for t in &themes {
            let source = if t.parent.is_some() { &direct } else { &rolled };
            for (question, key, n) in source {
                if key == &t.key {
                    cells.push(consult_core::ThemeCell {
                        question: question.clone(),
                        key: t.key.clone(),
                        label: t.label.clone(),
                        parent: t.parent.clone(),
                        count: count(*n)?,
                    });
                }
            }
        }
        let coded = coded
            .into_iter()
            .map(|(q, n)| Ok((q, count(n)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok((coded, cells))
    }

    /// Per theme, the responses coded with it in any question (for a theme with nested themes,
    /// with it or any of them), each response once: how many raised it.
    pub async fn theme_responses(&self, id: ConsultationId) -> Result<BTreeMap<String, u64>, StoreError> {
        let direct: Vec<(String, i64)> = query(
            "SELECT c.theme, COUNT(DISTINCT c.response_id) FROM response_codes c \
             JOIN themes t ON t.consultation_id = c.consultation_id AND t.theme = c.theme \
             WHERE c.consultation_id = $1 AND t.parent IS NOT NULL GROUP BY c.theme",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        let rolled: Vec<(String, i64)> = query(
            "SELECT COALESCE(t.parent, t.theme) AS top, COUNT(DISTINCT c.response_id) FROM response_codes c \
             JOIN themes t ON t.consultation_id = c.consultation_id AND t.theme = c.theme \
             WHERE c.consultation_id = $1 GROUP BY COALESCE(t.parent, t.theme)",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        // A nested theme's own count; a top-level theme's count with its nested themes.
        let mut out = BTreeMap::new();
        for (k, n) in direct.into_iter().chain(rolled) {
            out.insert(k, count(n)?);
        }
        Ok(out)
    }
}

/// The codes of responses (see [`Store::codes_of`]), read where `conn` says.
pub(crate) async fn codes_in<'c>(
    conn: impl Into<Conn<'c>>,
    responses: &[Uuid],
) -> Result<HashMap<Uuid, Vec<AnswerCode>>, StoreError> {
    let mut out: HashMap<Uuid, Vec<AnswerCode>> = HashMap::new();
    if responses.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::new(
        "SELECT response_id, question, theme, note, coded_by, coded_at FROM response_codes WHERE response_id IN (",
    );
    let list = sql.list(responses.iter().copied());
    sql.push(&list);
    sql.push(") ORDER BY response_id, question, theme");
    let rows: Vec<CodeRow> = sql.fetch_all(conn).await?;
    for r in rows {
        let codes = out.entry(r.response_id).or_default();
        match codes.last_mut() {
            Some(c) if c.question == r.question => c.themes.push(r.theme),
            _ => codes.push(AnswerCode {
                question: r.question,
                themes: vec![r.theme],
                note: r.note,
                coded_by: r.coded_by,
                coded_at: r.coded_at,
            }),
        }
    }
    Ok(out)
}

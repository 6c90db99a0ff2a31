//! Responses and equality monitoring: responses with their monitoring answers (one at a time or
//! imported in bulk), population baselines, monitoring schemes and the counts reports read.

use crate::checklist::MONITORING_SCHEMES;
use crate::db::{Pools, Sql, Tx, query};
use crate::questionnaires::Tallies;
use crate::{Baseline, Store, StoreError};
use chrono::{DateTime, Utc};
use consult_core::{Actor, AnswerCounts, AreaCode, ConsultationId, MonitoringScheme, OrganisationId, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct CountRow {
    consultation_id: Uuid,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct BaselineCountRow {
    characteristic: String,
    category: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct AnswerCountRow {
    scheme: String,
    characteristic: String,
    category: String,
    n: i64,
}

/// An idempotency key and what it is bound to.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKey<'a> {
    /// The key the client sent.
    pub key: &'a str,
    /// Who sent it and what they sent, as a keyed hash: the same for a true retry only.
    pub binding: &'a str,
}

/// What [`Store::insert_response`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored, with this id.
    New(Uuid),
    /// A retry of a stored response (the same key, caller and body): nothing stored.
    Replayed(Uuid),
    /// The key was already used by another caller or with another body: nothing stored.
    KeyReused,
}

impl Tx {
    /// Writes one response and its monitoring answers.
    async fn write_response(&mut self, r: &Response, key: Option<IdempotencyKey<'_>>) -> Result<(), StoreError> {
        query(
            "INSERT INTO responses (id, consultation_id, channel, comments, idempotency_key, idempotency_binding, \
             received_at, recorded_by, questionnaire_version, area) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(r.id)
        .bind(r.consultation_id.0)
        .bind(r.channel.as_str())
        .bind(&r.comments)
        .bind(key.map(|k| k.key))
        .bind(key.map(|k| k.binding))
        .bind(r.received_at)
        .bind(&r.recorded_by)
        .bind(r.questionnaire_version.map(i64::from))
        .bind(r.area.as_ref().map(AreaCode::as_str))
        .execute(&mut *self)
        .await?;
        if let Some((channel, address)) = &r.results_notice {
            // Apart from the response, and nothing links the two: a random id (a v7 id would
            // carry the instant), the day only.
            let day = r.received_at.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
            query(
                "INSERT INTO results_requests (id, consultation_id, channel, address, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(Uuid::new_v4())
            .bind(r.consultation_id.0)
            .bind(channel.as_str())
            .bind(address.clone())
            .bind(day)
            .execute(&mut *self)
            .await?;
        }
        self.write_answers(r).await?;
        for (characteristic, category) in &r.monitoring {
            query(
                "INSERT INTO monitoring_answers (response_id, consultation_id, scheme, characteristic, category) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(r.id)
            .bind(r.consultation_id.0)
            .bind(&r.scheme)
            .bind(characteristic)
            .bind(category)
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }
}

impl Store {
    // ----- responses -----

    /// Stores a response in one transaction with its monitoring answers. With an idempotency key,
    /// a retry stores nothing and returns the first one's id; the flag says whether it is new.
    /// The key is bound to `binding` (who sent it and what they sent, as a keyed hash): a key
    /// already stored with another binding is [`Stored::KeyReused`], and its response's id is
    /// not told.
    pub async fn insert_response(
        &self,
        response: &Response,
        idempotency: Option<IdempotencyKey<'_>>,
    ) -> Result<Stored, StoreError> {
        let first = self.insert_response_once(response, idempotency).await;
        match first {
            // Two retries raced: the other one stored it.
            Err(StoreError::Conflict(_)) if idempotency.is_some() => {
                self.insert_response_once(response, idempotency).await
            }
            other => other,
        }
    }

    /// Stores a response unless one with the same idempotency key was stored for this
    /// activity.
    async fn insert_response_once(&self, r: &Response, key: Option<IdempotencyKey<'_>>) -> Result<Stored, StoreError> {
        let mut tx = self.begin().await?;
        if let Some(key) = key {
            let existing: Option<(Uuid, Option<String>)> = query(
                "SELECT id, idempotency_binding FROM responses WHERE consultation_id = $1 AND idempotency_key = $2",
            )
            .bind(r.consultation_id.0)
            .bind(key.key)
            .fetch_optional(&mut tx)
            .await?;
            match existing {
                Some((id, Some(binding))) if binding == key.binding => return Ok(Stored::Replayed(id)),
                Some(_) => return Ok(Stored::KeyReused),
                None => {}
            }
        }
        tx.write_response(r, key).await?;
        tx.commit().await?;
        Ok(Stored::New(r.id))
    }

    /// Stores many responses (an import) in one transaction: all or none.
    pub async fn insert_responses(&self, responses: &[Response]) -> Result<(), StoreError> {
        // The one write whose SQL differs by backend: SQLite expands JSON chunks, PostgreSQL
        // streams COPY.
        match &self.pools {
            Pools::Sqlite(_) => self.insert_responses_sqlite(responses).await,
            Pools::Postgres(pool) => {
                insert_responses_postgres(pool, responses).await?;
                // A large import changes the tables' make-up at once: refresh the planner's
                // statistics now (a sample, well under a second) rather than plan reports on
                // stale ones until autovacuum comes round.
                if responses.len() >= 10_000 {
                    sqlx::query("ANALYZE responses, monitoring_answers, response_answers")
                        .execute(pool)
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Stores imported responses in one SQLite transaction. Each statement takes a chunk of rows
    /// as one JSON parameter expanded by `json_each` (binding every value separately costs more
    /// than the insert itself); what a run of responses shares (the activity, the scheme) is
    /// bound once.
    async fn insert_responses_sqlite(&self, responses: &[Response]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let mut tallies = Tallies::default();
        for run in responses.chunk_by(|a, b| a.consultation_id == b.consultation_id && a.scheme == b.scheme) {
            let (cid, scheme) = (run[0].consultation_id.0, run[0].scheme.clone());
            for part in run.chunks(500) {
                tallies.add(part);
                let rows: Vec<Value> = part
                    .iter()
                    .map(|r| {
                        json!([
                            r.id.simple().to_string(),
                            r.channel.as_str(),
                            r.comments,
                            stored_time(r.received_at),
                            r.recorded_by,
                            r.questionnaire_version,
                            r.area.as_ref().map(AreaCode::as_str)
                        ])
                    })
                    .collect();
                query(
                    "INSERT INTO responses (id, consultation_id, channel, comments, idempotency_key, received_at, recorded_by, \
                     questionnaire_version, area) \
                     SELECT unhex(value ->> 0), $1, value ->> 1, value ->> 2, NULL, value ->> 3, value ->> 4, value ->> 5, \
                     value ->> 6 FROM json_each($2)",
                )
                .bind(cid)
                .bind(Value::Array(rows).to_string())
                .execute(&mut tx)
                .await?;
                let answers: Vec<Value> = part
                    .iter()
                    .flat_map(|r| {
                        r.monitoring
                            .iter()
                            .map(move |(c, k)| json!([r.id.simple().to_string(), c, k]))
                    })
                    .collect();
                if !answers.is_empty() {
                    query(
                        "INSERT INTO monitoring_answers (response_id, consultation_id, scheme, characteristic, category) \
                         SELECT unhex(value ->> 0), $1, $2, value ->> 1, value ->> 2 FROM json_each($3)",
                    )
                    .bind(cid)
                    .bind(&scheme)
                    .bind(Value::Array(answers).to_string())
                    .execute(&mut tx)
                    .await?;
                }
                let parts: Vec<Value> = part
                    .iter()
                    .flat_map(|r| {
                        let id = r.id.simple().to_string();
                        r.answers
                            .rows()
                            .into_iter()
                            .map(move |a| json!([id, a.question, a.item.unwrap_or_default(), a.number, a.text]))
                    })
                    .collect();
                if !parts.is_empty() {
                    query(
                        "INSERT INTO response_answers (response_id, consultation_id, question, item, number, text) \
                         SELECT unhex(value ->> 0), $1, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each($2)",
                    )
                    .bind(cid)
                    .bind(Value::Array(parts).to_string())
                    .execute(&mut tx)
                    .await?;
                }
            }
        }
        for statement in tallies.statements() {
            statement.execute(&mut tx).await?;
        }
        tx.commit().await
    }

    /// Responses per activity.
    pub async fn response_counts(&self, ids: &[ConsultationId]) -> Result<HashMap<ConsultationId, u64>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut sql = Sql::new("SELECT consultation_id, COUNT(*) AS n FROM responses WHERE consultation_id IN (");
        let list = sql.list(ids.iter().map(|id| id.0));
        sql.push(&list).push(") GROUP BY consultation_id");
        let rows: Vec<CountRow> = sql.fetch_all(self).await?;
        Ok(rows
            .into_iter()
            .map(|r| (ConsultationId(r.consultation_id), u64::try_from(r.n).unwrap_or(0)))
            .collect())
    }

    // ----- equality monitoring -----

    /// Stores (or updates) population baselines, all in one transaction: for each area, the
    /// characteristics given replace those already held and others are kept, so several census
    /// tables combine.
    pub async fn put_baselines(
        &self,
        baselines: &[Baseline],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for Baseline {
            area,
            name,
            source,
            counts,
        } in baselines
        {
            query(
                "INSERT INTO baselines (area, name, source, imported_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (area) DO UPDATE SET name = excluded.name, source = excluded.source, imported_at = excluded.imported_at",
            )
            .bind(area.as_str())
            .bind(name)
            .bind(source)
            .bind(now)
            .execute(&mut tx)
            .await?;
            for (characteristic, categories) in counts {
                query("DELETE FROM baseline_counts WHERE area = $1 AND characteristic = $2")
                    .bind(area.as_str())
                    .bind(characteristic)
                    .execute(&mut tx)
                    .await?;
                for (category, n) in categories {
                    query(
                        "INSERT INTO baseline_counts (area, characteristic, category, count) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(area.as_str())
                    .bind(characteristic)
                    .bind(category)
                    .bind(i64::try_from(*n).unwrap_or(i64::MAX))
                    .execute(&mut tx)
                    .await?;
                }
            }
            let detail =
                json!({ "name": name, "source": source, "characteristics": counts.keys().collect::<Vec<_>>() });
            tx.audit(actor, now, "baseline.import", "area", area.as_str(), &detail)
                .await?;
        }
        tx.commit().await
    }

    /// The population of several areas combined (empty when none has a baseline).
    pub async fn baseline(&self, areas: &[AreaCode]) -> Result<consult_core::BaselineCounts, StoreError> {
        let mut out = consult_core::BaselineCounts::new();
        if areas.is_empty() {
            return Ok(out);
        }
        let mut sql = Sql::new(
            "SELECT characteristic, category, CAST(SUM(count) AS BIGINT) AS n FROM baseline_counts WHERE area IN (",
        );
        let list = sql.list(areas.iter().map(|a| a.to_string()));
        sql.push(&list).push(") GROUP BY characteristic, category");
        let rows: Vec<BaselineCountRow> = sql.fetch_all(self).await?;
        for r in rows {
            out.entry(r.characteristic)
                .or_default()
                .insert(r.category, u64::try_from(r.n).unwrap_or(0));
        }
        Ok(out)
    }

    /// Respondents to the activities, and their monitoring answers counted per scheme answered,
    /// characteristic and category: aggregates only, never one response's answers.
    pub async fn monitoring_counts(
        &self,
        ids: &[ConsultationId],
    ) -> Result<(u64, std::collections::BTreeMap<String, consult_core::AnswerCounts>), StoreError> {
        let mut by_scheme: BTreeMap<String, AnswerCounts> = BTreeMap::new();
        if ids.is_empty() {
            return Ok((0, by_scheme));
        }
        let mut sql = Sql::new("SELECT COUNT(*) FROM responses WHERE consultation_id IN (");
        let list = sql.list(ids.iter().map(|id| id.0));
        sql.push(&list).push(")");
        let (respondents,): (i64,) = sql.fetch_one(self).await?;
        // Read from the covering index (activity, scheme, characteristic, category).
        let mut sql = Sql::new(
            "SELECT scheme, characteristic, category, COUNT(*) AS n FROM monitoring_answers WHERE consultation_id IN (",
        );
        let list = sql.list(ids.iter().map(|id| id.0));
        sql.push(&list).push(") GROUP BY scheme, characteristic, category");
        let rows: Vec<AnswerCountRow> = sql.fetch_all(self).await?;
        for r in rows {
            by_scheme
                .entry(r.scheme)
                .or_default()
                .entry(r.characteristic)
                .or_default()
                .insert(r.category, u64::try_from(r.n).unwrap_or(0));
        }
        Ok((u64::try_from(respondents).unwrap_or(0), by_scheme))
    }

    /// Every monitoring scheme: the built-in default first, then organisations' own, every
    /// version, by key and version.
    pub async fn monitoring_schemes(&self) -> Result<Vec<MonitoringScheme>, StoreError> {
        let mut all = vec![MonitoringScheme::census2021().map_err(StoreError::Corrupt)?];
        all.extend(self.definitions::<MonitoringScheme>(&MONITORING_SCHEMES).await?);
        Ok(all)
    }

    /// A scheme by `key@version`, or by `key` for its latest version.
    pub async fn monitoring_scheme(&self, id: &str) -> Result<Option<MonitoringScheme>, StoreError> {
        let all = self.monitoring_schemes().await?;
        Ok(match id.split_once('@') {
            Some(_) => all.into_iter().find(|s| s.id() == id),
            None => all.into_iter().filter(|s| s.key == id).max_by_key(|s| s.version),
        })
    }

    /// Stores a new version of an organisation's own scheme (version = previous + 1).
    pub async fn add_monitoring_scheme(
        &self,
        scheme: &MonitoringScheme,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MonitoringScheme, StoreError> {
        self.add_definition(&MONITORING_SCHEMES, scheme, actor, now).await
    }

    /// The scheme an organisation asks its respondents: its own if it adopted one, else the
    /// default.
    pub async fn organisation_scheme(&self, org: OrganisationId) -> Result<MonitoringScheme, StoreError> {
        let row: Option<(String,)> = query("SELECT scheme FROM organisation_schemes WHERE organisation_id = $1")
            .bind(org.0)
            .fetch_optional(self)
            .await?;
        match row {
            None => MonitoringScheme::census2021().map_err(StoreError::Corrupt),
            Some((id,)) => self
                .monitoring_scheme(&id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("organisation scheme `{id}` is not stored"))),
        }
    }

    /// Adopts a stored scheme (exact version) for an organisation's future responses.
    pub async fn set_organisation_scheme(
        &self,
        org: OrganisationId,
        scheme: &MonitoringScheme,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let scheme = scheme.id();
        let mut tx = self.begin().await?;
        query("DELETE FROM organisation_schemes WHERE organisation_id = $1")
            .bind(org.0)
            .execute(&mut tx)
            .await?;
        if scheme != consult_core::DEFAULT_SCHEME_ID {
            query("INSERT INTO organisation_schemes (organisation_id, scheme) VALUES ($1, $2)")
                .bind(org.0)
                .bind(&scheme)
                .execute(&mut tx)
                .await?;
        }
        let detail = json!({ "scheme": scheme });
        tx.audit(
            actor,
            now,
            "organisation.monitoring_scheme",
            "organisation",
            &org.0.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await
    }
}

/// Stores imported responses in one PostgreSQL transaction with `COPY ... FROM STDIN`: the
/// rows stream in PostgreSQL's text format, which the server reads with none of the
/// per-statement or JSON work an INSERT needs.
async fn insert_responses_postgres(pool: &sqlx::PgPool, responses: &[Response]) -> Result<(), StoreError> {
    const CHUNK: usize = 1 << 20;
    let mut tx = pool.begin_with("BEGIN").await?;
    let mut copy = tx
        .copy_in_raw(
            "COPY responses (id, consultation_id, channel, comments, idempotency_key, received_at, recorded_by, \
             questionnaire_version, area) FROM STDIN",
        )
        .await?;
    let mut buf = String::with_capacity(CHUNK + 4096);
    for r in responses {
        copy_row(
            &mut buf,
            &[
                Some(&r.id.to_string()),
                Some(&r.consultation_id.0.to_string()),
                Some(r.channel.as_str()),
                r.comments.as_deref(),
                None,
                Some(&stored_time(r.received_at)),
                r.recorded_by.as_deref(),
                r.questionnaire_version.map(|v| v.to_string()).as_deref(),
                r.area.as_ref().map(AreaCode::as_str),
            ],
        );
        if buf.len() >= CHUNK {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        }
    }
    copy.send(std::mem::take(&mut buf).into_bytes()).await?;
    copy.finish().await?;
    let mut copy = tx
        .copy_in_raw(
            "COPY monitoring_answers (response_id, consultation_id, scheme, characteristic, category) FROM STDIN",
        )
        .await?;
    for r in responses {
        let (id, cid) = (r.id.to_string(), r.consultation_id.0.to_string());
        for (characteristic, category) in &r.monitoring {
            copy_row(
                &mut buf,
                &[
                    Some(&id),
                    Some(&cid),
                    Some(&r.scheme),
                    Some(characteristic),
                    Some(category),
                ],
            );
        }
        if buf.len() >= CHUNK {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        }
    }
    copy.send(std::mem::take(&mut buf).into_bytes()).await?;
    copy.finish().await?;
    if responses.iter().any(|r| !r.answers.is_empty()) {
        let mut copy = tx
            .copy_in_raw(
                "COPY response_answers (response_id, consultation_id, question, item, number, text) FROM STDIN",
            )
            .await?;
        for r in responses {
            let (id, cid) = (r.id.to_string(), r.consultation_id.0.to_string());
            for a in r.answers.rows() {
                copy_row(
                    &mut buf,
                    &[
                        Some(&id),
                        Some(&cid),
                        Some(&a.question),
                        Some(a.item.as_deref().unwrap_or("")),
                        a.number.map(|n| n.to_string()).as_deref(),
                        a.text.as_deref(),
                    ],
                );
            }
            if buf.len() >= CHUNK {
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            }
        }
        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        copy.finish().await?;
    }
    let mut tallies = Tallies::default();
    for part in responses.chunks(500) {
        tallies.add(part);
    }
    for statement in tallies.statements() {
        statement.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The text sqlx writes for a time, so stored times compare alike.
fn stored_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Appends one row in PostgreSQL's COPY text format: tab-separated, `\N` for NULL, and
/// backslash, tab, newline and carriage return escaped.
fn copy_row(buf: &mut String, fields: &[Option<&str>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        match field {
            None => buf.push_str("\\N"),
            Some(text) => {
                for ch in text.chars() {
                    match ch {
                        '\\' => buf.push_str("\\\\"),
                        '\t' => buf.push_str("\\t"),
                        '\n' => buf.push_str("\\n"),
                        '\r' => buf.push_str("\\r"),
                        c => buf.push(c),
                    }
                }
            }
        }
    }
    buf.push('\n');
}

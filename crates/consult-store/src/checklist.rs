//! The principles checklist: frameworks (built in and custom, versioned), each organisation's
//! settings, the answers recorded for an activity's checks, and dismissed overlap findings.

use crate::db::{Sql, query};
use crate::{ChecklistSettings, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, Attestation, ConsultationId, Dismissal, ElectionPeriod, Framework, FrameworkCatalogue, MonitoringScheme,
    Organisation, OrganisationId,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

/// A kind of definition kept with every version (custom frameworks, monitoring schemes): its
/// table (key, version, definition, created_at, created_by) and how its writes are audited.
pub(crate) struct VersionedKind {
    table: &'static str,
    action: &'static str,
    entity: &'static str,
}

const FRAMEWORKS: VersionedKind = VersionedKind {
    table: "frameworks",
    action: "framework.add",
    entity: "framework",
};

/// Monitoring schemes, versioned as frameworks are.
pub(crate) const MONITORING_SCHEMES: VersionedKind = VersionedKind {
    table: "monitoring_schemes",
    action: "monitoring_scheme.add",
    entity: "monitoring_scheme",
};

/// A versioned definition: a key, and a version the store gives it.
pub(crate) trait Versioned: serde::Serialize + Clone + Send + Sync {
    fn key(&self) -> &str;
    fn version(&self) -> u32;
    fn set_version(&mut self, version: u32);
}

impl Versioned for Framework {
    fn key(&self) -> &str {
        &self.key
    }
    fn version(&self) -> u32 {
        self.version
    }
    fn set_version(&mut self, version: u32) {
        self.version = version;
    }
}

impl Versioned for MonitoringScheme {
    fn key(&self) -> &str {
        &self.key
    }
    fn version(&self) -> u32 {
        self.version
    }
    fn set_version(&mut self, version: u32) {
        self.version = version;
    }
}

#[derive(sqlx::FromRow)]
struct ElectionPeriodRow {
    name: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

#[derive(sqlx::FromRow)]
struct AttestationRow {
    check_id: String,
    answer: bool,
    evidence: Option<String>,
    actor: String,
    at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DismissalRow {
    other_id: Uuid,
    reason: String,
    actor: String,
    at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    consultation_id: Uuid,
    n: i64,
}

impl Store {
    /// Every stored version of a kind of versioned definition, by key and version.
    pub(crate) async fn definitions<T: serde::de::DeserializeOwned>(
        &self,
        kind: &VersionedKind,
    ) -> Result<Vec<T>, StoreError> {
        let rows: Vec<(String,)> = query(format!("SELECT definition FROM {} ORDER BY key, version", kind.table))
            .fetch_all(self)
            .await?;
        rows.into_iter()
            .map(|(d,)| serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("{}: {e}", kind.entity))))
            .collect()
    }

    /// Stores a definition as the next version of its key (versions are never changed).
    pub(crate) async fn add_definition<T: Versioned>(
        &self,
        kind: &VersionedKind,
        item: &T,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        let mut tx = self.begin().await?;
        let (latest,): (Option<i64>,) = query(format!("SELECT MAX(version) FROM {} WHERE key = $1", kind.table))
            .bind(item.key())
            .fetch_one(&mut tx)
            .await?;
        let mut stored = item.clone();
        stored.set_version(u32::try_from(latest.unwrap_or(0) + 1).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        let definition = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        query(format!(
            "INSERT INTO {} (key, version, definition, created_at, created_by) VALUES ($1, $2, $3, $4, $5)",
            kind.table
        ))
        .bind(stored.key())
        .bind(i64::from(stored.version()))
        .bind(definition)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut tx)
        .await?;
        let detail = json!({ "key": stored.key(), "version": stored.version() });
        tx.audit(actor, now, kind.action, kind.entity, stored.key(), &detail)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The frameworks an organisation has adopted and its pre-election periods.
    pub async fn checklist_settings(&self, org: OrganisationId) -> Result<ChecklistSettings, StoreError> {
        let keys: Vec<(String,)> = query(
            "SELECT framework_key FROM organisation_frameworks WHERE organisation_id = $1 ORDER BY framework_key",
        )
        .bind(org.0)
        .fetch_all(self)
        .await?;
        let periods: Vec<ElectionPeriodRow> = query(
            "SELECT name, starts_on, ends_on FROM election_periods WHERE organisation_id = $1 ORDER BY starts_on, id",
        )
        .bind(org.0)
        .fetch_all(self)
        .await?;
        Ok(ChecklistSettings {
            frameworks: keys.into_iter().map(|(k,)| k).collect(),
            election_periods: periods
                .into_iter()
                .map(|p| ElectionPeriod {
                    name: p.name,
                    starts_on: p.starts_on,
                    ends_on: p.ends_on,
                })
                .collect(),
        })
    }

    /// Replaces an organisation's checklist settings.
    pub async fn set_checklist_settings(
        &self,
        org: &Organisation,
        settings: &ChecklistSettings,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for table in ["organisation_frameworks", "election_periods"] {
            query(format!("DELETE FROM {table} WHERE organisation_id = $1"))
                .bind(org.id.0)
                .execute(&mut tx)
                .await?;
        }
        for key in &settings.frameworks {
            query("INSERT INTO organisation_frameworks (organisation_id, framework_key) VALUES ($1, $2)")
                .bind(org.id.0)
                .bind(key)
                .execute(&mut tx)
                .await?;
        }
        for p in &settings.election_periods {
            query("INSERT INTO election_periods (organisation_id, name, starts_on, ends_on) VALUES ($1, $2, $3, $4)")
                .bind(org.id.0)
                .bind(&p.name)
                .bind(p.starts_on)
                .bind(p.ends_on)
                .execute(&mut tx)
                .await?;
        }
        let detail = serde_json::to_value(settings).unwrap_or(Value::Null);
        tx.audit(
            actor,
            now,
            "organisation.checklist",
            "organisation",
            org.slug.as_str(),
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// Every version of every framework: built in and added.
    pub async fn framework_catalogue(&self) -> Result<FrameworkCatalogue, StoreError> {
        Ok(FrameworkCatalogue::new(self.definitions(&FRAMEWORKS).await?))
    }

    /// Stores a new version of a custom framework (version = previous + 1) and returns it.
    pub async fn add_framework(
        &self,
        framework: &Framework,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Framework, StoreError> {
        self.add_definition(&FRAMEWORKS, framework, actor, now).await
    }

    /// The answers recorded for an activity's checks.
    pub async fn attestations(&self, id: ConsultationId) -> Result<Vec<Attestation>, StoreError> {
        let rows: Vec<AttestationRow> = query(
            "SELECT check_id, answer, evidence, actor, at FROM attestations WHERE consultation_id = $1 ORDER BY check_id",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Attestation {
                check: r.check_id,
                answer: r.answer,
                evidence: r.evidence,
                by: r.actor,
                at: r.at,
            })
            .collect())
    }

    /// Records answers (replacing earlier answers to the same checks), audited.
    pub async fn record_attestations(
        &self,
        id: ConsultationId,
        answers: &[Attestation],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let now = answers.first().map(|a| a.at).unwrap_or_default();
        let mut tx = self.begin().await?;
        for a in answers {
            query(
                "INSERT INTO attestations (consultation_id, check_id, answer, evidence, actor, at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (consultation_id, check_id) DO UPDATE SET answer = excluded.answer, evidence = excluded.evidence, \
                 actor = excluded.actor, at = excluded.at",
            )
            .bind(id.0)
            .bind(&a.check)
            .bind(a.answer)
            .bind(&a.evidence)
            .bind(&a.by)
            .bind(a.at)
            .execute(&mut tx)
            .await?;
        }
        let detail = serde_json::to_value(answers).unwrap_or(Value::Null);
        tx.audit(
            actor,
            now,
            "consultation.attest",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// The frameworks that apply to an activity: the newest version of each its organisation has
    /// adopted.
    pub async fn applicable_frameworks(
        &self,
        org: OrganisationId,
    ) -> Result<(FrameworkCatalogue, ChecklistSettings), StoreError> {
        Ok((self.framework_catalogue().await?, self.checklist_settings(org).await?))
    }

    /// The overlap findings dismissed for an activity.
    pub async fn dismissals(&self, id: ConsultationId) -> Result<Vec<Dismissal>, StoreError> {
        let rows: Vec<DismissalRow> = query(
            "SELECT other_id, reason, actor, at FROM overlap_dismissals WHERE consultation_id = $1 ORDER BY at, other_id",
        )
        .bind(id.0)
        .fetch_all(self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Dismissal {
                other: ConsultationId(r.other_id),
                reason: r.reason,
                by: r.actor,
                at: r.at,
            })
            .collect())
    }

    /// Records (or replaces) the dismissal of one overlap finding, audited.
    pub async fn dismiss(&self, id: ConsultationId, dismissal: &Dismissal, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO overlap_dismissals (consultation_id, other_id, reason, actor, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (consultation_id, other_id) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at = excluded.at",
        )
        .bind(id.0)
        .bind(dismissal.other.0)
        .bind(&dismissal.reason)
        .bind(&dismissal.by)
        .bind(dismissal.at)
        .execute(&mut tx)
        .await?;
        let detail = json!({ "other": dismissal.other, "reason": dismissal.reason });
        tx.audit(
            actor,
            dismissal.at,
            "consultation.dismiss_overlap",
            "consultation",
            &id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// How many overlap findings were dismissed (with a reason) for each of the activities.
    pub async fn dismissal_counts(&self, ids: &[ConsultationId]) -> Result<HashMap<ConsultationId, u64>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql =
                Sql::new("SELECT consultation_id, COUNT(*) AS n FROM overlap_dismissals WHERE consultation_id IN (");
            let list = sql.list(chunk.iter().map(|id| id.0));
            sql.push(&list).push(") GROUP BY consultation_id");
            let rows: Vec<CountRow> = sql.fetch_all(self).await?;
            out.extend(
                rows.into_iter()
                    .map(|r| (ConsultationId(r.consultation_id), u64::try_from(r.n).unwrap_or(0))),
            );
        }
        Ok(out)
    }
}

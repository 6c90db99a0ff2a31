//! The audit log: every write adds its entry in the same transaction ([`Tx::audit`]), and
//! [`Store::audit_log`] reads it back.

use crate::db::{Sql, Tx, query};
use crate::{AuditEntry, Store, StoreError};
use chrono::{DateTime, Utc};
use consult_core::Actor;
use serde_json::Value;

/// One stored audit entry.
#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    detail: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::String(r.detail)),
        }
    }
}

impl Tx {
    /// Adds an audit entry to the transaction's writes.
    pub(crate) async fn audit(
        &mut self,
        actor: &Actor,
        at: DateTime<Utc>,
        action: &str,
        entity: &str,
        entity_id: &str,
        detail: &Value,
    ) -> Result<(), StoreError> {
        query("INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(at)
            .bind(&actor.name)
            .bind(action)
            .bind(entity)
            .bind(entity_id)
            .bind(detail)
            .execute(self)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Audit entries, newest first, optionally for one entity.
    pub async fn audit_log(&self, entity: Option<(&str, &str)>, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = Sql::new("SELECT id, at, actor, action, entity, entity_id, detail FROM audit_log");
        if let Some((kind, id)) = entity {
            let k = sql.arg(kind);
            let i = sql.arg(id);
            sql.push(&format!(" WHERE entity = {k} AND entity_id = {i}"));
        }
        let l = sql.arg(limit);
        sql.push(&format!(" ORDER BY id DESC LIMIT {l}"));
        let rows: Vec<AuditRow> = sql.fetch_all(self).await?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }
}

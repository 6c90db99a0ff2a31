//! Staff accounts (migration 0026) and what their briefings read: the activities of a digest's
//! week and a coordinator's alert.

use crate::db::{Sql, query};
use crate::outbox::MessageOwner;
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{Actor, AreaCode, Consultation, MessageKind, OrganisationId, StaffRole, StaffUser};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    organisation_id: Option<Uuid>,
    service: Option<String>,
    stopped_messages: String,
    created_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
}

const STAFF_COLUMNS: &str =
    "id, email, name, role, organisation_id, service, stopped_messages, created_at, disabled_at FROM staff_users";

impl StaffRow {
    fn user(self, wards: Vec<AreaCode>) -> Result<StaffUser, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("staff_users {}: {what}", self.id));
        let role = StaffRole::parse(&self.role).ok_or_else(|| corrupt(format!("unknown role `{}`", self.role)))?;
        let stopped_messages = self
            .stopped_messages
            .split(',')
            .filter(|k| !k.is_empty())
            .map(|k| MessageKind::parse(k).ok_or_else(|| corrupt(format!("unknown message kind `{k}`"))))
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(StaffUser {
            id: self.id,
            email: self.email,
            name: self.name,
            role,
            organisation: self.organisation_id.map(OrganisationId),
            service: self.service,
            wards,
            stopped_messages,
            created_at: self.created_at,
            disabled_at: self.disabled_at,
        })
    }
}

fn stopped_text(u: &StaffUser) -> String {
    u.stopped_messages
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Adds a staff account (audited). An e-mail address already taken, whatever its case, is a
    /// [`StoreError::Conflict`].
    pub async fn create_staff_user(&self, u: &StaffUser, actor: &Actor, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.write_staff_row(
            "INSERT INTO staff_users (id, email, email_key, name, role, organisation_id, service, stopped_messages, \
             created_at, updated_at, disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            u,
            now,
        )
        .await?;
        tx.write_wards(u).await?;
        let detail = json!({ "role": u.role, "organisation": u.organisation.map(|o| o.0), "service": u.service,
            "wards": u.wards, "name": u.name });
        tx.audit(actor, now, "user.create", "user", &u.id.to_string(), &detail)
            .await?;
        tx.commit().await
    }

    /// Replaces a staff account's fields with `u`'s (audited), cancels what waits in the
    /// outbox for it (written for the account as it was) and ends its sessions. Not found:
    /// `Ok(false)`.
    pub async fn update_staff_user(
        &self,
        u: &StaffUser,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let n = tx
            .write_staff_row(
                "UPDATE staff_users SET email = $2, email_key = $3, name = $4, role = $5, organisation_id = $6, \
                 service = $7, stopped_messages = $8, created_at = $9, updated_at = $10, disabled_at = $11 WHERE id = $1",
                u,
                now,
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        query("DELETE FROM staff_wards WHERE user_id = $1")
            .bind(u.id)
            .execute(&mut tx)
            .await?;
        tx.write_wards(u).await?;
        // What waits was written for the account as it was (its address, its wards, its
        // organisation's activities): it goes no more; the next period's is written afresh.
        tx.cancel_messages_of(MessageOwner::Staff(u.id), &MessageKind::ALL, now)
            .await?;
        // Signed out everywhere: a session was opened for the account as it was (a role gained
        // must be signed into again, with the second factor an admin needs).
        tx.end_sessions_of(u.id).await?;
        let detail = json!({ "role": u.role, "organisation": u.organisation.map(|o| o.0), "service": u.service,
            "wards": u.wards, "name": u.name, "stopped_messages": u.stopped_messages,
            "disabled": u.disabled_at.is_some() });
        tx.audit(actor, now, "user.update", "user", &u.id.to_string(), &detail)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stops one kind of message for a staff account and cancels what of it waits, in one
    /// transaction touching nothing else of the account (audited when it changes anything).
    /// Returns whether the account exists.
    pub async fn stop_staff_messages(
        &self,
        id: Uuid,
        kind: MessageKind,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let row: Option<(String,)> = query("SELECT stopped_messages FROM staff_users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
        let Some((stopped,)) = row else {
            return Ok(false);
        };
        if !stopped.split(',').any(|k| k == kind.as_str()) {
            let kinds = if stopped.is_empty() {
                kind.as_str().to_owned()
            } else {
                format!("{stopped},{}", kind.as_str())
            };
            // Only if no one changed the list meanwhile (a lost race changes nothing).
            query(
                "UPDATE staff_users SET stopped_messages = $1, updated_at = $2 WHERE id = $3 AND stopped_messages = $4",
            )
            .bind(kinds)
            .bind(now)
            .bind(id)
            .bind(&stopped)
            .execute(&mut tx)
            .await?;
            tx.audit(
                actor,
                now,
                "user.stop_messages",
                "user",
                &id.to_string(),
                &json!({ "kind": kind }),
            )
            .await?;
        }
        tx.cancel_messages_of(MessageOwner::Staff(id), &[kind], now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Disables a staff account (cancelling what waits for it) or enables it again, touching
    /// nothing else of it (audited). Returns whether the account exists.
    pub async fn set_staff_disabled(
        &self,
        id: Uuid,
        disabled: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let sql = if disabled {
            "UPDATE staff_users SET disabled_at = COALESCE(disabled_at, $1), updated_at = $1 WHERE id = $2"
        } else {
            "UPDATE staff_users SET disabled_at = NULL, updated_at = $1 WHERE id = $2"
        };
        if query(sql).bind(now).bind(id).execute(&mut tx).await? == 0 {
            return Ok(false);
        }
        if disabled {
            tx.cancel_messages_of(MessageOwner::Staff(id), &MessageKind::ALL, now)
                .await?;
            // Signed out everywhere.
            tx.end_sessions_of(id).await?;
        }
        let action = if disabled { "user.disable" } else { "user.enable" };
        tx.audit(actor, now, action, "user", &id.to_string(), &json!({}))
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One staff account by id.
    pub async fn staff_user(&self, id: Uuid) -> Result<Option<StaffUser>, StoreError> {
        let row: Option<StaffRow> = query(format!("SELECT {STAFF_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(self)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let mut wards = self.wards(&[r.id]).await?;
                let w = wards.remove(&r.id).unwrap_or_default();
                Ok(Some(r.user(w)?))
            }
        }
    }

    /// One staff account by e-mail address, whatever its case.
    pub async fn staff_user_by_email(&self, email: &str) -> Result<Option<StaffUser>, StoreError> {
        let id: Option<(Uuid,)> = query("SELECT id FROM staff_users WHERE email_key = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(self)
            .await?;
        match id {
            Some((id,)) => self.staff_user(id).await,
            None => Ok(None),
        }
    }

    /// Staff accounts, by name then e-mail address: every one, or those in `roles`.
    pub async fn staff_users(&self, roles: &[StaffRole]) -> Result<Vec<StaffUser>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {STAFF_COLUMNS}"));
        if !roles.is_empty() {
            let list = sql.list(roles.iter().map(|r| r.as_str()));
            sql.push(&format!(" WHERE role IN ({list})"));
        }
        sql.push(" ORDER BY name, email_key");
        let rows: Vec<StaffRow> = sql.fetch_all(self).await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut wards = self.wards(&ids).await?;
        rows.into_iter()
            .map(|r| {
                let w = wards.remove(&r.id).unwrap_or_default();
                r.user(w)
            })
            .collect()
    }

    async fn wards(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<AreaCode>>, StoreError> {
        let mut out: HashMap<Uuid, Vec<AreaCode>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new("SELECT user_id, code FROM staff_wards WHERE user_id IN (");
            let list = sql.list(chunk.iter().copied());
            sql.push(&list).push(") ORDER BY user_id, code");
            let rows: Vec<(Uuid, String)> = sql.fetch_all(self).await?;
            for (id, code) in rows {
                let code = AreaCode::parse(&code).map_err(StoreError::Corrupt)?;
                out.entry(id).or_default().push(code);
            }
        }
        Ok(out)
    }

    /// What briefings read, with their histories: activities not in draft, submitted or
    /// withdrawn that open or close between `from` and `to` (a digest's week), or whose results
    /// were published on or after `published_since`; and every activity submitted for approval
    /// or closed with its feedback overdue on `today` (an alert).
    pub async fn briefing_activities(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        published_since: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<Consultation>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id FROM consultations c WHERE c.status = 'submitted' OR (c.status NOT IN ('draft', 'submitted', 'withdrawn') AND (",
        );
        let (f, t, p, d) = (sql.arg(from), sql.arg(to), sql.arg(published_since), sql.arg(today));
        sql.push(&format!(
            "(c.opens_on >= {f} AND c.opens_on <= {t}) OR (c.closes_on >= {f} AND c.closes_on <= {t}) \
             OR c.id IN (SELECT consultation_id FROM status_history WHERE to_status = 'results_published' AND at >= {p}) \
             OR (c.status IN ('approved', 'open', 'closed') AND c.closes_on < {d} AND c.feedback_due < {d})))"
        ));
        let ids: Vec<(Uuid,)> = sql.fetch_all(self).await?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let ids: Vec<consult_core::ConsultationId> =
                chunk.iter().map(|(id,)| consult_core::ConsultationId(*id)).collect();
            out.extend(self.consultations_by_id(&ids).await?);
        }
        Ok(out)
    }
}

impl crate::db::Tx {
    /// Runs `sql` (an insert or an update of one account) with the account's columns as `$1`
    /// to `$11`: id, e-mail, its key, name, role, organisation, service, kinds stopped, created,
    /// updated (`now`), disabled. An address already taken is a conflict naming it.
    async fn write_staff_row(&mut self, sql: &str, u: &StaffUser, now: DateTime<Utc>) -> Result<u64, StoreError> {
        query(sql)
            .bind(u.id)
            .bind(&u.email)
            .bind(u.email.to_lowercase())
            .bind(&u.name)
            .bind(u.role.as_str())
            .bind(u.organisation.map(|o| o.0))
            .bind(&u.service)
            .bind(stopped_text(u))
            .bind(u.created_at)
            .bind(now)
            .bind(u.disabled_at)
            .execute(&mut *self)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict(format!("an account for {} already exists", u.email)),
                e => e,
            })
    }

    async fn write_wards(&mut self, u: &StaffUser) -> Result<(), StoreError> {
        for w in &u.wards {
            query("INSERT INTO staff_wards (user_id, code) VALUES ($1, $2)")
                .bind(u.id)
                .bind(w.as_str())
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }
}

//! Signing in (migration 0029): local accounts' credentials, the workspace's sessions (found by
//! the SHA-256 of their cookie, so a copy of the database holds no usable cookie) and failed
//! sign-ins. Every sign-in, failure and sign-out is audited in the transaction that records it.

use crate::db::{Tx, query};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use consult_core::{Actor, SessionStage, SignInMethod};
use serde_json::json;
use uuid::Uuid;

/// A local account's credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Credentials {
    /// The password's argon2id PHC string, when one is set.
    pub password_hash: Option<String>,
    /// The confirmed TOTP secret (base32), when the account has a second factor.
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted.
    pub totp_last_step: Option<i64>,
    /// A TOTP secret shown for enrolment, awaiting its first code.
    pub totp_pending: Option<String>,
    /// The identity provider's subject the account is linked to, if any.
    pub oidc_subject: Option<String>,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The account.
    pub user_id: Uuid,
    /// Where signing in is.
    pub stage: SessionStage,
    /// The anti-forgery token every form of the session carries.
    pub csrf: String,
    /// How they signed in.
    pub method: SignInMethod,
    /// The client address that signed in.
    pub client: String,
    /// When the session was made.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_seen_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: Uuid,
    stage: String,
    csrf: String,
    method: String,
    client: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

/// A session to store: its id's hash and what it holds.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// SHA-256 (hex) of the cookie's value.
    pub id_hash: &'a str,
    /// The session.
    pub record: &'a SessionRecord,
}

impl Store {
    /// The credentials of an account (all empty when it has none).
    pub async fn credentials(&self, user: Uuid) -> Result<Credentials, StoreError> {
        let row: Option<Credentials> = query(
            "SELECT password_hash, totp_secret, totp_last_step, totp_pending, oidc_subject FROM staff_credentials \
             WHERE user_id = $1",
        )
        .bind(user)
        .fetch_optional(self)
        .await?;
        Ok(row.unwrap_or_default())
    }

    /// Sets an account's password hash, removing its second factor when `reset_totp` (an
    /// administrator's reset), and signs it out everywhere (audited; the hash is not).
    pub async fn set_password(
        &self,
        user: Uuid,
        hash: &str,
        reset_totp: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.ensure_credentials(user, now).await?;
        query("UPDATE staff_credentials SET password_hash = $1, updated_at = $2 WHERE user_id = $3")
            .bind(hash)
            .bind(now)
            .bind(user)
            .execute(&mut tx)
            .await?;
        if reset_totp {
            query(
                "UPDATE staff_credentials SET totp_secret = NULL, totp_last_step = NULL, totp_pending = NULL \
                 WHERE user_id = $1",
            )
            .bind(user)
            .execute(&mut tx)
            .await?;
        }
        let ended = tx.end_sessions_of(user).await?;
        tx.audit(
            actor,
            now,
            "user.set_password",
            "user",
            &user.to_string(),
            &json!({ "second_factor_reset": reset_totp, "sessions_ended": ended }),
        )
        .await?;
        tx.commit().await
    }

    /// Keeps a TOTP secret shown for enrolment until its first code confirms it.
    pub async fn set_totp_pending(&self, user: Uuid, secret: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.ensure_credentials(user, now).await?;
        query("UPDATE staff_credentials SET totp_pending = $1, updated_at = $2 WHERE user_id = $3")
            .bind(secret)
            .bind(now)
            .bind(user)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }

    /// Makes the pending secret the account's second factor, its first code's step used, and
    /// ends its other half-done sign-ins (audited). False when no secret was pending or the
    /// account already has a second factor (an enrolment never replaces one).
    pub async fn confirm_totp(
        &self,
        user: Uuid,
        secret: &str,
        step: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let n = query(
            "UPDATE staff_credentials SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1, \
             updated_at = $2 WHERE user_id = $3 AND totp_pending = $4 AND totp_secret IS NULL",
        )
        .bind(step)
        .bind(now)
        .bind(user)
        .bind(secret)
        .execute(&mut tx)
        .await?;
        if n == 0 {
            return Ok(false);
        }
        // Any other session part-way through signing in (another enrolment) ends.
        query("DELETE FROM staff_sessions WHERE user_id = $1 AND stage <> 'signed_in'")
            .bind(user)
            .execute(&mut tx)
            .await?;
        tx.audit(actor, now, "user.second_factor", "user", &user.to_string(), &json!({}))
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Uses a TOTP time step: true only the first time a step at or after every step used
    /// before is offered, so a code seen over a shoulder cannot be replayed.
    pub async fn use_totp_step(&self, user: Uuid, step: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let n = query(
            "UPDATE staff_credentials SET totp_last_step = $1 WHERE user_id = $2 \
             AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Writes a sign-in attempt against each scope (`email:<hash>`, `account:<id>`,
    /// `client:<address>`) and commits it, then counts each scope's attempts since `since`,
    /// this one included. Committed before counting, attempts made at once each count the
    /// others that came first: no more than the limit can see a count under it.
    pub async fn record_sign_in_attempt(
        &self,
        scopes: &[&str],
        attempt: &str,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<Vec<u64>, StoreError> {
        let mut tx = self.begin().await?;
        for scope in scopes {
            query("INSERT INTO sign_in_failures (scope, at, attempt) VALUES ($1, $2, $3)")
                .bind(*scope)
                .bind(now)
                .bind(attempt)
                .execute(&mut tx)
                .await?;
        }
        tx.commit().await?;
        let mut out = Vec::with_capacity(scopes.len());
        for scope in scopes {
            let (n,): (i64,) = query("SELECT COUNT(*) FROM sign_in_failures WHERE scope = $1 AND at >= $2")
                .bind(*scope)
                .bind(since)
                .fetch_one(self)
                .await?;
            out.push(u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// Forgets an attempt that succeeded (it is no failure).
    pub async fn forget_sign_in_attempt(&self, attempt: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query("DELETE FROM sign_in_failures WHERE attempt = $1")
            .bind(attempt)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }

    /// Audits a failed or refused sign-in as `entity` (the account, or `unknown` for an
    /// address that names none) with why it failed; the attempt itself was counted when made
    /// ([`Store::record_sign_in_attempt`]).
    pub async fn record_sign_in_failure(
        &self,
        entity: (&str, &str),
        detail: &serde_json::Value,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.audit(actor, now, "session.sign_in_failed", entity.0, entity.1, detail)
            .await?;
        tx.commit().await
    }

    /// Stores a session, ending the one it replaces (a session id is never kept across a step of
    /// signing in). A session signed in clears the failures counted against `clears` (the
    /// address or account that signed in) and is audited.
    pub async fn start_session(
        &self,
        new: NewSession<'_>,
        replaces: Option<&str>,
        clears: &[&str],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let r = new.record;
        let mut tx = self.begin().await?;
        if let Some(old) = replaces {
            query("DELETE FROM staff_sessions WHERE id_hash = $1")
                .bind(old)
                .execute(&mut tx)
                .await?;
        }
        query(
            "INSERT INTO staff_sessions (id_hash, user_id, stage, csrf, method, client, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new.id_hash)
        .bind(r.user_id)
        .bind(r.stage.as_str())
        .bind(&r.csrf)
        .bind(r.method.as_str())
        .bind(&r.client)
        .bind(r.created_at)
        .bind(r.last_seen_at)
        .execute(&mut tx)
        .await?;
        if r.stage == SessionStage::SignedIn {
            for scope in clears {
                query("DELETE FROM sign_in_failures WHERE scope = $1")
                    .bind(*scope)
                    .execute(&mut tx)
                    .await?;
            }
            tx.audit(
                actor,
                r.created_at,
                "session.sign_in",
                "user",
                &r.user_id.to_string(),
                &json!({ "method": r.method.as_str(), "client": r.client }),
            )
            .await?;
        }
        tx.commit().await
    }

    /// The session with this id hash, if stored and its account is not disabled.
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = query(
            "SELECT s.user_id, s.stage, s.csrf, s.method, s.client, s.created_at, s.last_seen_at \
             FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND u.disabled_at IS NULL",
        )
        .bind(id_hash)
        .fetch_optional(self)
        .await?;
        row.map(|r| {
            let corrupt = |what: &str| StoreError::Corrupt(format!("staff_sessions: {what}"));
            Ok(SessionRecord {
                user_id: r.user_id,
                stage: SessionStage::parse(&r.stage).ok_or_else(|| corrupt("unknown stage"))?,
                csrf: r.csrf,
                method: SignInMethod::parse(&r.method).ok_or_else(|| corrupt("unknown method"))?,
                client: r.client,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
            })
        })
        .transpose()
    }

    /// Notes that a session was used at `now`.
    pub async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query("UPDATE staff_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }

    /// Ends a session (signing out, or found expired), audited when `actor` is given.
    pub async fn end_session(
        &self,
        id_hash: &str,
        audit: Option<(&Actor, Uuid, &str)>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query("DELETE FROM staff_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut tx)
            .await?;
        if let Some((actor, user, why)) = audit {
            tx.audit(
                actor,
                now,
                "session.end",
                "user",
                &user.to_string(),
                &json!({ "why": why }),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Forgets sessions unused since `idle_before` and failures older than `failures_before`
    /// (the sweep). Returns the sessions removed.
    pub async fn purge_sign_in(
        &self,
        idle_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = query("DELETE FROM staff_sessions WHERE last_seen_at < $1")
            .bind(idle_before)
            .execute(&mut tx)
            .await?;
        query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(failures_before)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// A sign-in through the identity provider in progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OidcLogin {
    /// The random state the provider sends back.
    pub state: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// When it began.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Keeps a sign-in through the identity provider until the browser returns, forgetting
    /// those begun before `stale` (abandoned).
    pub async fn begin_oidc_login(&self, login: &OidcLogin, stale: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query("DELETE FROM oidc_logins WHERE created_at < $1")
            .bind(stale)
            .execute(&mut tx)
            .await?;
        query("INSERT INTO oidc_logins (state, nonce, verifier, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&login.state)
            .bind(&login.nonce)
            .bind(&login.verifier)
            .bind(login.created_at)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }

    /// Takes the sign-in with this state (once: it is deleted as it is read, so of two returns
    /// with the same state only one finds it).
    pub async fn take_oidc_login(&self, state: &str) -> Result<Option<OidcLogin>, StoreError> {
        let mut tx = self.begin().await?;
        let row: Option<OidcLogin> =
            query("DELETE FROM oidc_logins WHERE state = $1 RETURNING state, nonce, verifier, created_at")
                .bind(state)
                .fetch_optional(&mut tx)
                .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The account linked to an identity provider's subject, if any.
    pub async fn user_by_oidc_subject(&self, issuer: &str, subject: &str) -> Result<Option<Uuid>, StoreError> {
        let row: Option<(Uuid,)> =
            query("SELECT user_id FROM staff_credentials WHERE oidc_issuer = $1 AND oidc_subject = $2")
                .bind(issuer)
                .bind(subject)
                .fetch_optional(self)
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// Links an account to an identity provider's subject (its first sign-in through it,
    /// matched by e-mail address), audited; only if it is linked to none yet (false when it is).
    pub async fn link_oidc_subject(
        &self,
        user: Uuid,
        issuer: &str,
        subject: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        tx.ensure_credentials(user, now).await?;
        let n = query(
            "UPDATE staff_credentials SET oidc_issuer = $1, oidc_subject = $2, updated_at = $3 \
             WHERE user_id = $4 AND oidc_subject IS NULL",
        )
        .bind(issuer)
        .bind(subject)
        .bind(now)
        .bind(user)
        .execute(&mut tx)
        .await?;
        if n == 0 {
            return Ok(false);
        }
        tx.audit(
            actor,
            now,
            "user.link_identity",
            "user",
            &user.to_string(),
            &json!({ "issuer": issuer }),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl Tx {
    /// Makes sure an account has a credentials row.
    async fn ensure_credentials(&mut self, user: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        query("INSERT INTO staff_credentials (user_id, updated_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
            .bind(user)
            .bind(now)
            .execute(self)
            .await?;
        Ok(())
    }

    /// Ends every session of an account (disabled, password changed). Returns how many.
    pub(crate) async fn end_sessions_of(&mut self, user: Uuid) -> Result<u64, StoreError> {
        query("DELETE FROM staff_sessions WHERE user_id = $1")
            .bind(user)
            .execute(self)
            .await
    }
}

//! Signing in to the staff workspace: local accounts with a password (argon2id) and a TOTP
//! second factor (RFC 6238, required for admins), sessions held in the database and found by the
//! hash of their cookie, lockout after failed attempts, every step audited. The rules (how long
//! a session lives, when failures lock out, what a password must be) are consult-core's
//! [`consult_core::SessionPolicy`], [`consult_core::LockoutPolicy`] and
//! [`consult_core::password_problem`]; here they are applied.
//!
//! A session id is 256 random bits, given to the browser once and stored only as its SHA-256;
//! every step of signing in (password, second factor, enrolment) replaces it with a new one, so
//! an id planted before sign-in is worthless after (session fixation).

use crate::{App, AppError, AppResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use consult_core::{
    Actor, AreaHierarchy, LockoutPolicy, SessionPolicy, SessionStage, SignInMethod, StaffRole, StaffUser,
    password_problem,
};
use consult_store::{NewSession, SessionRecord};
use serde_json::json;
use sha2::Digest as _;
use uuid::Uuid;

/// The TOTP period in seconds (RFC 6238's and every authenticator app's).
const TOTP_STEP: u64 = 30;
/// The issuer an authenticator app lists the account under.
const TOTP_ISSUER: &str = "consult";

/// A session's secret as the browser holds it (its cookie's value).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

impl SessionToken {
    /// The value to put in the cookie.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A value read from a cookie (64 hex digits), or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self(s.to_ascii_lowercase()))
    }

    fn hash(&self) -> String {
        hex::encode(sha2::Sha256::digest(self.0.as_bytes()))
    }
}

/// A signed-in (or signing-in) member of staff.
#[derive(Debug, Clone)]
pub struct StaffSession {
    /// Their account.
    pub user: StaffUser,
    /// How they act (their account's role and scope).
    pub actor: Actor,
    /// Where signing in is.
    pub stage: SessionStage,
    /// The anti-forgery token of the session's forms.
    pub csrf: String,
    /// When the session ends if used all along.
    pub expires_at: DateTime<Utc>,
}

/// What a step of signing in led to.
#[derive(Debug)]
pub enum SignInStep {
    /// A new session (its cookie replaces any before) at this stage.
    Session(SessionToken, SessionStage),
    /// Refused: the e-mail address and password do not match a usable account, or the code was
    /// wrong (deliberately not saying which part).
    Refused,
    /// Refused without checking: too many failures lately; try again in this many minutes.
    LockedOut(i64),
}

/// A second factor being set up: the secret to enter in an authenticator app, as text and as
/// an `otpauth://` address (what a QR code holds).
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret, base32.
    pub secret: String,
    /// The `otpauth://totp/...` address.
    pub uri: String,
}

/// 32 random bytes, hex.
fn random_hex() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness available: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Hashes a password with argon2id (OWASP's parameters: 19 MiB, 2 passes, 1 lane).
fn hash_password(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("no randomness available: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

/// A hash of a password no one has, verified when an address names no account so that the
/// answer takes as long either way (no finding out which addresses have accounts by timing).
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Mb6vjGxPfzwXvAJLmH6dXYBUcGb0JIhobOd9W71dNU";

/// Whether `password` matches the PHC string `hash`.
fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The TOTP generator for a base32 secret.
fn totp(secret: &str, account: &str) -> AppResult<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| AppError::Internal(format!("a stored second factor is not base32: {e:?}")))?;
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        TOTP_STEP,
        bytes,
        Some(TOTP_ISSUER.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| AppError::Internal(format!("a second factor's secret: {e}")))
}

/// The time step a code is right for (the current one, or one either side for clocks a little
/// apart), if any.
fn code_step(totp: &totp_rs::TOTP, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = u64::try_from(now.timestamp()).ok()?;
    let step = t / TOTP_STEP;
    [step.checked_sub(1), Some(step), Some(step + 1)]
        .into_iter()
        .flatten()
        .find(|s| {
            let expected = totp.generate(s * TOTP_STEP);
            constant_time_eq(expected.as_bytes(), code.as_bytes())
        })
        .and_then(|s| i64::try_from(s).ok())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The current TOTP code of a secret (for tests and the CLI's check of a new enrolment).
pub fn totp_code(secret: &str, at: DateTime<Utc>) -> AppResult<String> {
    let t = u64::try_from(at.timestamp()).map_err(|_| AppError::Internal("a time before 1970".into()))?;
    Ok(totp(secret, "check")?.generate(t))
}

impl App {
    /// How long sessions live.
    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy::default()
    }

    fn account_scope(user: Uuid) -> String {
        format!("account:{user}")
    }

    /// Sets a local account's password (an admin, or the CLI), signing it out everywhere;
    /// `reset_second_factor` also removes its second factor, for one who lost their device.
    pub async fn set_password(
        &self,
        actor: &Actor,
        user: Uuid,
        password: &str,
        reset_second_factor: bool,
    ) -> AppResult<()> {
        if actor.role != consult_core::Role::Admin {
            return Err(AppError::Forbidden("only an admin can set a password".into()));
        }
        let account = self
            .store
            .staff_user(user)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no user {user}")))?;
        if let Some(problem) = password_problem(password, &account.email) {
            return Err(AppError::field("password", problem));
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        self.store
            .set_password(user, &hash, reset_second_factor, actor, self.now())
            .await?;
        Ok(())
    }

    /// The first step of signing in: an e-mail address and password from `client`. A right
    /// pair gives a session: signed in, or waiting for the second factor (or its enrolment, for
    /// an admin without one). Failures count against the account and the client; past
    /// [`LockoutPolicy`] every attempt is refused until the window passes.
    pub async fn sign_in(&self, email: &str, password: &str, client: &str) -> AppResult<SignInStep> {
        let now = self.now();
        let lockout = LockoutPolicy::default();
        // Failures count against the address typed whether or not an account has it, so the
        // lockout says nothing of which addresses have accounts.
        let typed = consult_core::normalise_email(email).to_lowercase();
        let email_scope = format!("email:{}", hex::encode(sha2::Sha256::digest(typed.as_bytes())));
        let client_scope = format!("client:{client}");
        let attempt = random_hex()?;
        let counts = self
            .store
            .record_sign_in_attempt(&[&client_scope, &email_scope], &attempt, now, now - lockout.window)
            .await?;
        let account = self.store.staff_user_by_email(email).await?;
        let public = unknown_actor("sign-in");
        // Counted with this attempt: the ones before it are one fewer.
        if lockout.locked(counts[1].saturating_sub(1), counts[0].saturating_sub(1)) {
            let entity = account.as_ref().map(|u| u.id.to_string());
            self.store
                .record_sign_in_failure(
                    ("user", entity.as_deref().unwrap_or("unknown")),
                    &json!({ "why": "locked out", "client": client }),
                    &public,
                    now,
                )
                .await?;
            return Ok(SignInStep::LockedOut(lockout.window.num_minutes()));
        }
        // The same reads whether or not the address has an account (the nil id has none).
        let credentials = self
            .store
            .credentials(account.as_ref().map_or(Uuid::nil(), |u| u.id))
            .await?;
        let credentials = account.as_ref().map(|_| credentials);
        let hash = credentials
            .as_ref()
            .and_then(|c| c.password_hash.clone())
            .unwrap_or_else(|| DECOY_HASH.to_owned());
        // Longer than any password accepted: checked against the decoy, so it takes as long.
        let too_long = password.chars().count() > consult_core::MAX_PASSWORD;
        let pw: String = password.chars().take(consult_core::MAX_PASSWORD + 1).collect();
        let hash = if too_long { DECOY_HASH.to_owned() } else { hash };
        let matches = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let usable = account.as_ref().filter(|u| u.disabled_at.is_none());
        let (Some(user), true, Some(credentials)) = (usable, matches, credentials.as_ref()) else {
            let why = match (&account, matches) {
                (None, _) => "no such account",
                (Some(u), true) if u.disabled_at.is_some() => "account disabled",
                _ => "wrong password",
            };
            let entity = account.as_ref().map(|u| u.id.to_string());
            self.store
                .record_sign_in_failure(
                    ("user", entity.as_deref().unwrap_or("unknown")),
                    &json!({ "why": why, "client": client, "method": "password" }),
                    &public,
                    now,
                )
                .await?;
            return Ok(SignInStep::Refused);
        };
        let stage = if credentials.totp_secret.is_some() {
            SessionStage::SecondFactor
        } else if user.role == StaffRole::Admin {
            SessionStage::Enrol
        } else {
            SessionStage::SignedIn
        };
        self.store.forget_sign_in_attempt(&attempt).await?;
        let token = self
            .new_session(user, stage, SignInMethod::Password, client, None, &[&email_scope], now)
            .await?;
        Ok(SignInStep::Session(token, stage))
    }

    /// Stores a new session for `user` at `stage`, replacing `replaces`; signed in, the failed
    /// attempts counted against `clears` are forgotten.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn new_session(
        &self,
        user: &StaffUser,
        stage: SessionStage,
        method: SignInMethod,
        client: &str,
        replaces: Option<&SessionToken>,
        clears: &[&str],
        now: DateTime<Utc>,
    ) -> AppResult<SessionToken> {
        let token = SessionToken(random_hex()?);
        let record = SessionRecord {
            user_id: user.id,
            stage,
            csrf: random_hex()?,
            method,
            client: client.to_owned(),
            created_at: now,
            last_seen_at: now,
        };
        let replaced = replaces.map(SessionToken::hash);
        let actor = user.actor(&AreaHierarchy::default());
        self.store
            .start_session(
                NewSession {
                    id_hash: &token.hash(),
                    record: &record,
                },
                replaced.as_deref(),
                clears,
                &actor,
            )
            .await?;
        Ok(token)
    }

    /// The session a cookie names, at whatever stage, if it is valid now; an expired one is
    /// removed (audited). Its last use is noted at most once a minute.
    pub async fn staff_session(&self, token: &SessionToken) -> AppResult<Option<StaffSession>> {
        let hash = token.hash();
        let Some(record) = self.store.session(&hash).await? else {
            return Ok(None);
        };
        let Some(user) = self.store.staff_user(record.user_id).await? else {
            return Ok(None);
        };
        let now = self.now();
        let policy = self.session_policy();
        if let Err(end) = policy.check(record.stage, record.created_at, record.last_seen_at, now) {
            let why = match end {
                consult_core::SessionEnd::Idle => "idle",
                consult_core::SessionEnd::Expired => "expired",
            };
            let actor = user.actor(&AreaHierarchy::default());
            self.store.end_session(&hash, Some((&actor, user.id, why)), now).await?;
            return Ok(None);
        }
        if now - record.last_seen_at >= chrono::Duration::minutes(1) {
            self.store.touch_session(&hash, now).await?;
        }
        let areas = if user.wards.is_empty() {
            AreaHierarchy::default()
        } else {
            AreaHierarchy::new(self.store.list_areas().await?)
        };
        let actor = user.actor(&areas);
        let lifetime = if record.stage == SessionStage::SignedIn {
            policy.absolute
        } else {
            policy.signing_in
        };
        Ok(Some(StaffSession {
            actor,
            stage: record.stage,
            csrf: record.csrf,
            expires_at: record.created_at + lifetime,
            user,
        }))
    }

    /// The second step for an account with a second factor: its current code. Right, the
    /// session is replaced by a signed-in one; wrong, it counts as a failed sign-in.
    pub async fn second_factor(&self, token: &SessionToken, code: &str, client: &str) -> AppResult<SignInStep> {
        let Some(session) = self.staff_session(token).await? else {
            return Err(AppError::Unauthenticated(
                "sign in again: this sign-in has expired".into(),
            ));
        };
        if session.stage != SessionStage::SecondFactor {
            return Err(AppError::Conflict("this session is not waiting for a code".into()));
        }
        let now = self.now();
        let lockout = LockoutPolicy::default();
        let account_scope = Self::account_scope(session.user.id);
        let client_scope = format!("client:{client}");
        let scopes = [client_scope.as_str(), account_scope.as_str()];
        let attempt = random_hex()?;
        let counts = self
            .store
            .record_sign_in_attempt(&scopes, &attempt, now, now - lockout.window)
            .await?;
        if lockout.locked(counts[1].saturating_sub(1), counts[0].saturating_sub(1)) {
            self.store
                .end_session(
                    &token.hash(),
                    Some((&session.actor, session.user.id, "locked out")),
                    now,
                )
                .await?;
            return Ok(SignInStep::LockedOut(lockout.window.num_minutes()));
        }
        let credentials = self.store.credentials(session.user.id).await?;
        let Some(secret) = credentials.totp_secret else {
            return Err(AppError::Conflict("this account has no second factor".into()));
        };
        let step = code_step(&totp(&secret, &session.user.email)?, code, now);
        let fresh = match step {
            Some(step) => self.store.use_totp_step(session.user.id, step).await?,
            None => false,
        };
        if !fresh {
            let why = if step.is_some() {
                "code used before"
            } else {
                "wrong code"
            };
            self.store
                .record_sign_in_failure(
                    ("user", &session.user.id.to_string()),
                    &json!({ "why": why, "client": client, "method": "totp" }),
                    &session.actor,
                    now,
                )
                .await?;
            return Ok(SignInStep::Refused);
        }
        self.store.forget_sign_in_attempt(&attempt).await?;
        let token = self
            .new_session(
                &session.user,
                SessionStage::SignedIn,
                SignInMethod::Password,
                client,
                Some(token),
                &[&account_scope],
                now,
            )
            .await?;
        Ok(SignInStep::Session(token, SessionStage::SignedIn))
    }

    /// A new second factor's secret for the account signing in (admins must have one before
    /// they are signed in), kept until its first code confirms it.
    pub async fn begin_enrolment(&self, token: &SessionToken) -> AppResult<Enrolment> {
        let Some(session) = self.staff_session(token).await? else {
            return Err(AppError::Unauthenticated(
                "sign in again: this sign-in has expired".into(),
            ));
        };
        if session.stage != SessionStage::Enrol {
            return Err(AppError::Conflict(
                "this session is not setting up a second factor".into(),
            ));
        }
        let credentials = self.store.credentials(session.user.id).await?;
        if credentials.totp_secret.is_some() {
            return Err(AppError::Conflict("this account already has a second factor".into()));
        }
        let secret = match credentials.totp_pending {
            Some(s) => s,
            None => {
                let mut bytes = [0u8; 20];
                getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
                let secret = totp_rs::Secret::Raw(bytes.to_vec()).to_encoded().to_string();
                self.store
                    .set_totp_pending(session.user.id, &secret, self.now())
                    .await?;
                secret
            }
        };
        let uri = totp(&secret, &session.user.email)?.get_url();
        Ok(Enrolment { secret, uri })
    }

    /// Confirms the second factor being set up with its first code and signs the session in.
    pub async fn confirm_enrolment(&self, token: &SessionToken, code: &str, client: &str) -> AppResult<SignInStep> {
        let Some(session) = self.staff_session(token).await? else {
            return Err(AppError::Unauthenticated(
                "sign in again: this sign-in has expired".into(),
            ));
        };
        if session.stage != SessionStage::Enrol {
            return Err(AppError::Conflict(
                "this session is not setting up a second factor".into(),
            ));
        }
        let now = self.now();
        let credentials = self.store.credentials(session.user.id).await?;
        let Some(secret) = credentials.totp_pending else {
            return Err(AppError::Conflict("start setting up the second factor again".into()));
        };
        let Some(step) = code_step(&totp(&secret, &session.user.email)?, code, now) else {
            return Ok(SignInStep::Refused);
        };
        if !self
            .store
            .confirm_totp(session.user.id, &secret, step, &session.actor, now)
            .await?
        {
            return Ok(SignInStep::Refused);
        }
        let token = self
            .new_session(
                &session.user,
                SessionStage::SignedIn,
                SignInMethod::Password,
                client,
                Some(token),
                &[],
                now,
            )
            .await?;
        Ok(SignInStep::Session(token, SessionStage::SignedIn))
    }

    /// Forgets sessions idle past the timeout (they can no longer be used) and failed sign-ins
    /// older than the lockout window (they no longer count); the hourly sweep. Returns the
    /// sessions forgotten.
    pub async fn purge_sign_in(&self) -> AppResult<u64> {
        let now = self.now();
        Ok(self
            .store
            .purge_sign_in(now - self.session_policy().idle, now - LockoutPolicy::default().window)
            .await?)
    }

    /// Signs a session out (audited). Unknown sessions are already out.
    pub async fn sign_out(&self, token: &SessionToken) -> AppResult<()> {
        let hash = token.hash();
        let Some(record) = self.store.session(&hash).await? else {
            return Ok(());
        };
        let user = self.store.staff_user(record.user_id).await?;
        let actor = user.as_ref().map(|u| u.actor(&AreaHierarchy::default()));
        let audit = actor.as_ref().map(|a| (a, record.user_id, "signed out"));
        self.store.end_session(&hash, audit, self.now()).await?;
        Ok(())
    }
}

/// Who the audit log names for an attempt by someone not (yet) known (`sign-in`, or
/// `sign-in (identity provider)` for a return from the provider).
pub(crate) fn unknown_actor(name: &str) -> Actor {
    Actor {
        name: name.to_owned(),
        role: consult_core::Role::Officer,
        organisation: None,
        staff: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_is_a_real_argon2id_hash_nobody_matches() {
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
        assert!(!verify_password("", DECOY_HASH));
        let h = hash_password("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &h));
        assert!(!verify_password("correct horse battery stapler", &h));
    }

    #[test]
    fn codes_are_right_for_one_step_either_side() {
        // RFC 6238 appendix B's SHA-1 secret, base32.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let t = totp(secret, "a@example.org").unwrap();
        let at = DateTime::<Utc>::from_timestamp(59, 0).unwrap();
        assert_eq!(t.generate(59), "287082");
        assert_eq!(code_step(&t, "287 082", at), Some(1));
        let later = DateTime::<Utc>::from_timestamp(59 + 30, 0).unwrap();
        assert_eq!(code_step(&t, "287082", later), Some(1));
        let too_late = DateTime::<Utc>::from_timestamp(59 + 90, 0).unwrap();
        assert_eq!(code_step(&t, "287082", too_late), None);
        assert_eq!(code_step(&t, "28708", at), None);
        assert!(SessionToken::parse(&"a".repeat(64)).is_some());
        assert!(SessionToken::parse("nothex").is_none());
    }
}

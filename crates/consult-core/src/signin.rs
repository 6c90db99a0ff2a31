//! Signing in to the staff workspace (issue 18): how long a session lives, when failed sign-ins
//! lock an account or a client out, and what a password must be. Pure: the use case gives the
//! times and counts; hashing and codes are consult-app's.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where a session is in signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStage {
    /// The password was right; the account's second factor is awaited.
    SecondFactor,
    /// The password was right; an account that must have a second factor (an admin) is
    /// setting one up.
    Enrol,
    /// Signed in.
    SignedIn,
}

impl SessionStage {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecondFactor => "second_factor",
            Self::Enrol => "enrol",
            Self::SignedIn => "signed_in",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::SecondFactor, Self::Enrol, Self::SignedIn]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// How a member of staff proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// A local account's password (and its second factor when it has one).
    Password,
    /// The council's identity provider over OpenID Connect.
    Oidc,
}

impl SignInMethod {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Oidc => "oidc",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Password, Self::Oidc].into_iter().find(|x| x.as_str() == s)
    }
}

/// How long sessions live: ended after `idle` without a request, and `absolute` after sign-in
/// whatever happens (OWASP's session management guidance; 30 minutes and 12 hours by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// The longest gap between two requests.
    pub idle: Duration,
    /// The longest a session lives.
    pub absolute: Duration,
    /// The longest the steps of signing in (second factor, enrolment) may take.
    pub signing_in: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
            signing_in: Duration::minutes(10),
        }
    }
}

/// Why a session is no longer valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// No request for longer than the idle timeout.
    Idle,
    /// Older than the absolute lifetime (or a sign-in left half done too long).
    Expired,
}

impl SessionPolicy {
    /// Whether a session made at `created` in `stage`, last used at `last_seen`, is still valid
    /// at `now`.
    pub fn check(
        &self,
        stage: SessionStage,
        created: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), SessionEnd> {
        let lifetime = if stage == SessionStage::SignedIn {
            self.absolute
        } else {
            self.signing_in
        };
        if now - created >= lifetime {
            Err(SessionEnd::Expired)
        } else if now - last_seen >= self.idle {
            Err(SessionEnd::Idle)
        } else {
            Ok(())
        }
    }
}

/// When failed sign-ins lock out: more than `per_account` failures for one account, or more
/// than `per_client` from one client address, within `window`, refuse every further attempt
/// (even a right password) until the oldest failure leaves the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures allowed per account in the window.
    pub per_account: u32,
    /// Failures allowed per client address in the window.
    pub per_client: u32,
    /// How far back failures count.
    pub window: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_client: 20,
            window: Duration::minutes(15),
        }
    }
}

impl LockoutPolicy {
    /// Whether `account` failures of the account and `client` failures of the client address,
    /// counted within the window, lock the next attempt out.
    pub fn locked(&self, account: u64, client: u64) -> bool {
        account >= u64::from(self.per_account) || client >= u64::from(self.per_client)
    }
}

/// The shortest password accepted (NCSC and NIST SP 800-63B favour length over composition
/// rules).
pub const MIN_PASSWORD: usize = 12;
/// The longest password accepted (hashing is bounded).
pub const MAX_PASSWORD: usize = 256;

/// What is wrong with a password for the account with this e-mail address, if anything: too
/// short or too long, or the address itself (or its local part).
pub fn password_problem(password: &str, email: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Some(format!(
            "at least {MIN_PASSWORD} characters (a few words make a good one)"
        ));
    }
    if n > MAX_PASSWORD {
        return Some(format!("at most {MAX_PASSWORD} characters"));
    }
    let lower = password.trim().to_lowercase();
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if lower == email || (!local.is_empty() && lower == local) {
        return Some("must not be the account's e-mail address".into());
    }
    if password.chars().collect::<std::collections::BTreeSet<_>>().len() < 4 {
        return Some("use more than a few different characters".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let p = SessionPolicy::default();
        let s = SessionStage::SignedIn;
        assert_eq!(p.check(s, at(0), at(0), at(29)), Ok(()));
        assert_eq!(p.check(s, at(0), at(0), at(30)), Err(SessionEnd::Idle));
        assert_eq!(p.check(s, at(0), at(700), at(719)), Ok(()));
        assert_eq!(p.check(s, at(0), at(719), at(720)), Err(SessionEnd::Expired));
        // A half-done sign-in lasts minutes, not hours.
        assert_eq!(
            p.check(SessionStage::SecondFactor, at(0), at(9), at(10)),
            Err(SessionEnd::Expired)
        );
    }

    #[test]
    fn failures_lock_an_account_or_a_client() {
        let p = LockoutPolicy::default();
        assert!(!p.locked(4, 19));
        assert!(p.locked(5, 0));
        assert!(p.locked(0, 20));
    }

    #[test]
    fn passwords_are_long_and_not_the_address() {
        let email = "olu.officer@tamworth.gov.uk";
        assert!(password_problem("short", email).is_some());
        assert!(password_problem("aaaaaaaaaaaaaaaa", email).is_some());
        assert!(password_problem("Olu.Officer@tamworth.gov.uk", email).is_some());
        assert!(password_problem("olu.officer1", email).is_none());
        assert!(password_problem("correct horse battery staple", email).is_none());
        assert!(password_problem(&"ab cd".repeat(60), email).is_some());
        for s in [SessionStage::SecondFactor, SessionStage::Enrol, SessionStage::SignedIn] {
            assert_eq!(SessionStage::parse(s.as_str()), Some(s));
        }
    }
}

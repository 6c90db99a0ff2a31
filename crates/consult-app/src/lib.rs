//! # consult-app
//!
//! The use cases of consult, each written once: the REST API, the public hub and the `consult`
//! CLI call an [`App`] and nothing else. An `App` holds the store, a [`Clock`], the caches
//! derived from the store (the overlap index and the residents' audience index) and their
//! configuration. Rules are consult-core's; reads and writes are consult-store's; this crate
//! is the order in which they happen, and who may ask.
//!
//! Every use case returns [`AppError`], which each adapter maps once: the API to problem+json,
//! the CLI to an exit code.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = consult_store::Store::connect("sqlite://consult.db").await?;
//! let app = consult_app::App::new(store);
//! let page = consult_app::PageRequest { limit: 50, cursor: None };
//! let first = app
//!     .list_consultations(None, &consult_app::ConsultationFilter::default(), &page)
//!     .await?;
//! println!("{} published activities on the first page", first.items.len());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod analysis_render;
pub mod audience;
pub mod chart;
mod checklist;
mod clock;
mod coding;
mod consultations;
pub mod delivery;
pub mod demo;
pub mod equality;
mod error;
mod evaluation;
pub mod export;
mod feedback;
pub mod invitations;
pub mod json;
mod library;
pub mod oidc;
mod organisations;
pub mod outbox;
pub mod overlap;
mod plans;
pub mod questionnaires;
pub mod render;
mod requests;
mod residents;
mod responses;
mod review;
pub mod signin;
mod staff;
pub mod views;

pub use checklist::{ChecklistRequest, assess_plan};
pub use clock::{Clock, FixedClock, SystemClock};
pub use coding::{Accepted, SuggestionList};
pub use consult_store::{ContactRecord, Verified};
pub use consultations::{ImportedActivity, RegisterEntry};
pub use equality::{ActivitySet, BaselineRequest, RecentRun, SeldomHeardReport};
pub use error::{AppError, AppResult};
pub use export::{ExportFormat, ResponseExport};
pub use library::{DocumentContent, LibraryEntry, LibraryPage};
pub use organisations::{TOKEN_DAYS, TOKEN_DAYS_RANGE, TokenRequest};
pub use residents::Registration;
pub use responses::{Idempotency, ResponseView, Stored};
pub use review::ReviewScope;
pub use staff::{BRIEFING_HOUR, BriefingsQueued, UserPatch, UserView};
// The store's request and result types that use cases take and return.
pub use consult_store::{
    AuditEntry, Backend, Baseline, ChecklistSettings, ConsultationFilter, Cursor, IssuedToken, NewToken, Order,
    OutboxCounts, OutboxFilter, Page, PageRequest, Reader, TokenInfo, TokenRecord,
};

use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{Actor, OverlapConfig};
use consult_store::Store;
use std::sync::Arc;

/// How stale a token's recorded last use may be: it is written again only when older.
pub const LAST_USED_PRECISION: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// The application: every use case, over one store.
///
/// Cheap to clone and safe to share across tasks: a server keeps one for all requests.
#[derive(Debug, Clone)]
pub struct App {
    store: Store,
    clock: Arc<dyn Clock>,
    overlap: Arc<overlap::OverlapCache>,
    residents: Option<Arc<audience::ResidentCache>>,
    /// The deployment's key for the noise of public equality figures, read once.
    disclosure: Arc<tokio::sync::OnceCell<consult_core::DisclosureKey>>,
    /// The deployment's request secret (anti-forgery tokens, idempotency bindings), read once.
    request: Arc<tokio::sync::OnceCell<requests::RequestKey>>,
    /// Days an unverified registration waits for its code before it is deleted.
    unverified_days: u32,
    /// Where the public reaches the hub, for links in messages.
    public_url: String,
    /// Wakes this process's delivery worker when something is queued.
    outbox_signal: Arc<tokio::sync::Notify>,
    /// The bearer token providers present with their delivery reports (none: reports refused).
    provider_token: Option<Arc<str>>,
    /// The identity provider staff sign in through, if configured.
    oidc: Option<Arc<oidc::OidcProvider>>,
    /// Exports under way in this process: each holds a database connection until it is read
    /// to the end or dropped, so only [`EXPORTS_AT_ONCE`] run at once.
    exports: Arc<tokio::sync::Semaphore>,
}

/// How many response exports run at once in a process (each holds one pooled connection while
/// its download lasts; a client that stops reading holds it until it goes away).
pub const EXPORTS_AT_ONCE: usize = 2;

/// Where messages link to unless the deployment says ([`App::with_public_url`]).
pub const DEFAULT_PUBLIC_URL: &str = "http://localhost:8080";

/// Days an unverified registration waits for its code before it is deleted, unless configured.
pub const DEFAULT_UNVERIFIED_DAYS: u32 = 7;

/// How many records the caches hold after [`App::warm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warmed {
    /// Activities in the overlap index.
    pub activities: usize,
    /// Residents in the audience index (0 for a one-off app, which keeps none).
    pub residents: usize,
}

impl App {
    /// A long-running application (a server) over `store`: system clock, default overlap
    /// settings, and the residents' audience index kept in memory (invitation plans and fatigue
    /// checks in milliseconds once [`App::warm`] has built it).
    pub fn new(store: Store) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            overlap: Arc::new(overlap::OverlapCache::new(OverlapConfig::default())),
            residents: Some(Arc::new(audience::ResidentCache::new())),
            disclosure: Arc::new(tokio::sync::OnceCell::new()),
            request: Arc::new(tokio::sync::OnceCell::new()),
            unverified_days: DEFAULT_UNVERIFIED_DAYS,
            public_url: DEFAULT_PUBLIC_URL.to_owned(),
            outbox_signal: Arc::new(tokio::sync::Notify::new()),
            provider_token: None,
            oidc: None,
            exports: Arc::new(tokio::sync::Semaphore::new(EXPORTS_AT_ONCE)),
        }
    }

    /// An application for one command (the CLI): no residents' audience index (plans and
    /// fatigue checks are decided in the database by the SQL twin of the core rule, so a
    /// command need not load the register); the overlap index is built on first use.
    pub fn one_off(store: Store) -> Self {
        Self {
            residents: None,
            ..Self::new(store)
        }
    }

    /// The same application reading time from `clock`.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The same application keeping unverified registrations `days` days (at least one) before
    /// they are deleted (default [`DEFAULT_UNVERIFIED_DAYS`]); a code older than that no longer
    /// verifies.
    pub fn with_unverified_days(mut self, days: u32) -> Self {
        self.unverified_days = days.max(1);
        self
    }

    /// Days an unverified registration waits for its code before it is deleted.
    pub fn unverified_days(&self) -> u32 {
        self.unverified_days
    }

    /// The same application with other overlap thresholds and weights.
    pub fn with_overlap_config(mut self, config: OverlapConfig) -> Self {
        self.overlap = Arc::new(overlap::OverlapCache::new(config));
        self
    }

    /// Builds (or catches up) the caches and reads the request secret (made in the database
    /// on first use), so the first request does not pay for them.
    pub async fn warm(&self) -> AppResult<Warmed> {
        self.request_key().await?;
        let activities = self.overlap.sync(&self.store).await?;
        let residents = match &self.residents {
            Some(cache) => cache.sync(&self.store).await?,
            None => 0,
        };
        Ok(Warmed { activities, residents })
    }

    /// The current instant, from the application's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today, from the application's clock.
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// Which database the store runs on.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Answers when the database does (health checks).
    pub async fn ping(&self) -> AppResult<()> {
        Ok(self.store.ping().await?)
    }

    /// Closes every database connection.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The key public equality figures' noise is drawn from (made in the store on first use).
    pub(crate) async fn disclosure_key(&self) -> AppResult<consult_core::DisclosureKey> {
        let key = self
            .disclosure
            .get_or_try_init(|| async {
                let secret = self.store.disclosure_secret(self.now()).await?;
                Ok::<_, AppError>(consult_core::DisclosureKey::new(secret))
            })
            .await?;
        Ok(key.clone())
    }

    /// The holder of a bearer token, looked up in the database every time (no cache could
    /// keep a revoked token alive). An unknown, revoked or expired token is
    /// [`AppError::Unauthenticated`], saying which. The token's last use is recorded at most
    /// once a minute ([`LAST_USED_PRECISION`]), so a busy client does not make a write of every
    /// request.
    pub async fn authenticate(&self, secret: &str) -> AppResult<Actor> {
        let Some(token) = self.store.authenticate(secret).await? else {
            return Err(AppError::Unauthenticated("the token is not valid".into()));
        };
        let now = self.now();
        if token.revoked_at.is_some() {
            return Err(AppError::Unauthenticated("the token has been revoked".into()));
        }
        if let Some(expired) = token.expires_at.filter(|at| *at <= now) {
            return Err(AppError::Unauthenticated(format!(
                "the token expired at {}; ask an administrator for a new one",
                expired.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
        let stale = token
            .last_used_at
            .is_none_or(|at| now.signed_duration_since(at) >= LAST_USED_PRECISION || at > now);
        if stale {
            self.store.touch_token(token.info.id, now).await?;
        }
        Ok(token.info.actor())
    }
}

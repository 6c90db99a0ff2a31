//! # consult-api
//!
//! The REST API of consult (axum), described by an OpenAPI 3.1 document generated from the
//! handlers (utoipa). Handlers are thin: they parse input, call [`consult_core`] for every rule,
//! and [`consult_store`] for every read and write.
//!
//! Embed the router, or serve it on a listener:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = consult_store::Store::connect("sqlite://consult.db").await?;
//! let state = consult_api::AppState::new(store);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! consult_api::serve(listener, state, std::future::pending()).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cache;
pub mod chart;
pub mod error;
pub mod extract;
pub mod hub;
mod openapi;
pub mod rate;
mod routes;
pub mod views;

pub use openapi::openapi;
pub use routes::reports::{review_csv, review_html};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use chrono::{DateTime, NaiveDate, Utc};
use consult_store::Store;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Where the API reads the time. Tests fix it; the server uses the system clock.
pub trait Clock: Send + Sync + Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// Today's date (UTC).
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant, for tests and reproducible reports.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Largest document stored in the results library, in bytes (413 beyond; link larger ones).
    pub max_document_bytes: usize,
    /// Longest a request may take before a 408.
    pub request_timeout: Duration,
    /// Anonymous writes (responses, registrations) allowed per client address per minute
    /// (0: no limit).
    pub anonymous_writes_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy that sets it).
    pub trust_forwarded_for: bool,
    /// How long an anonymous read is answered from this instance's cache (zero: never); see
    /// [`cache`].
    pub public_cache: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_document_bytes: 20 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            anonymous_writes_per_minute: 30,
            trust_forwarded_for: false,
            public_cache: Duration::from_secs(1),
        }
    }
}

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The register's storage.
    pub store: Store,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// Request limits.
    pub limits: Limits,
    /// The overlap index: a cache of the register, refreshed from the store on every query.
    pub overlap: Arc<consult_store::overlap::OverlapCache>,
    /// The residents' audience index: a cache of the residents' register, refreshed from the
    /// store on every invitation plan or fatigue check.
    pub residents: Arc<consult_store::audience::ResidentCache>,
    /// The per-client limit on anonymous writes.
    pub rate: Arc<rate::RateLimiter>,
    /// Anonymous reads answered recently, for `limits.public_cache`.
    pub public_cache: Arc<cache::PublicCache>,
}

impl AppState {
    /// State over `store` with the system clock and default limits.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            overlap: Arc::new(consult_store::overlap::OverlapCache::new(
                consult_core::OverlapConfig::default(),
            )),
            residents: Arc::new(consult_store::audience::ResidentCache::new()),
            rate: Arc::new(rate::RateLimiter::new(Limits::default().anonymous_writes_per_minute)),
            public_cache: Arc::new(cache::PublicCache::new()),
        }
    }

    /// The same state with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.rate = Arc::new(rate::RateLimiter::new(limits.anonymous_writes_per_minute));
        self.limits = limits;
        self
    }

    /// The same state with another clock.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

/// The whole application: API routes, health, OpenAPI document, error fallbacks and middleware.
pub fn router(state: AppState) -> Router {
    let (api, _) = openapi::api_router().split_for_parts();
    let x_request_id = HeaderName::from_static("x-request-id");
    let limits = state.limits.clone();
    api.route("/openapi.json", axum::routing::get(openapi::serve_openapi))
        .merge(hub::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), cache::layer))
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// Serves the application on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

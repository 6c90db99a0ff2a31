//! # consult-api
//!
//! The REST API of consult (axum), described by an OpenAPI 3.1 document generated from the
//! handlers (utoipa), and the public hub. Handlers are thin: they read the request, call one use
//! case of [`consult_app::App`], and shape its answer.
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
pub mod error;
pub mod extract;
pub mod hub;
mod openapi;
mod query;
pub mod rate;
mod routes;
pub mod staff;
pub mod views;

pub use consult_app::chart;
pub use openapi::openapi;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use consult_app::App;
use consult_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use consult_app::{Clock, FixedClock, SystemClock};

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Largest document stored in the results library, in bytes (413 beyond; link larger ones).
    pub max_document_bytes: usize,
    /// Longest a request may take before a 408.
    pub request_timeout: Duration,
    /// Longest a client may take to send a request's head (method, path, headers) before the
    /// connection is closed.
    pub header_read_timeout: Duration,
    /// Anonymous writes (responses, registrations) allowed per client per minute (0: no limit;
    /// a client is an IPv4 address or an IPv6 /64, see [`rate::client_key`]).
    pub anonymous_writes_per_minute: u32,
    /// Anonymous reads (`GET`s without a bearer token, cached or not) allowed per client per
    /// minute (0: no limit).
    pub anonymous_reads_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy that sets it),
    /// as [`extract::client_address`] reads it.
    pub trust_forwarded_for: bool,
    /// The reverse proxies whose `X-Forwarded-For` is believed (empty: loopback and the private
    /// ranges, [`extract::DEFAULT_TRUSTED_PROXIES`]).
    pub trusted_proxies: Vec<extract::Cidr>,
    /// The address the public reaches this server at (`--public-url`). When it is `https://`,
    /// the hub's anti-forgery cookie is `__Host-` prefixed and `Secure`.
    pub public_url: Option<String>,
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
            header_read_timeout: Duration::from_secs(10),
            anonymous_writes_per_minute: 30,
            anonymous_reads_per_minute: 600,
            trust_forwarded_for: false,
            trusted_proxies: Vec::new(),
            public_url: None,
            public_cache: Duration::from_secs(1),
        }
    }
}

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Every use case: the handlers call it and nothing else.
    pub app: App,
    /// Request limits.
    pub limits: Limits,
    /// The per-client limit on anonymous writes.
    pub rate: Arc<rate::RateLimiter>,
    /// The per-client limit on anonymous reads.
    pub read_rate: Arc<rate::RateLimiter>,
    /// Anonymous reads answered recently, for `limits.public_cache`.
    pub public_cache: Arc<cache::PublicCache>,
}

impl AppState {
    /// State over `store` with the system clock and default limits: a server's [`App`].
    pub fn new(store: Store) -> Self {
        Self::from_app(App::new(store))
    }

    /// State over an application built by the caller, with default limits.
    pub fn from_app(app: App) -> Self {
        Self {
            app,
            limits: Limits::default(),
            rate: Arc::new(rate::RateLimiter::new(Limits::default().anonymous_writes_per_minute)),
            read_rate: Arc::new(rate::RateLimiter::new(Limits::default().anonymous_reads_per_minute)),
            public_cache: Arc::new(cache::PublicCache::new()),
        }
    }

    /// The same state with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.rate = Arc::new(rate::RateLimiter::new(limits.anonymous_writes_per_minute));
        self.read_rate = Arc::new(rate::RateLimiter::new(limits.anonymous_reads_per_minute));
        self.limits = limits;
        self
    }

    /// The same state with another clock.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.app = self.app.with_clock(clock);
        self
    }
}

/// The whole application: API routes, health, OpenAPI document, error fallbacks and middleware.
pub fn router(state: AppState) -> Router {
    let (api, _) = openapi::api_router().split_for_parts();
    let known_queries = std::sync::Arc::new(query::KnownQueries::from_openapi(&openapi::openapi()));
    let x_request_id = HeaderName::from_static("x-request-id");
    let limits = state.limits.clone();
    api.route("/openapi.json", axum::routing::get(openapi::serve_openapi))
        .route_layer(axum::middleware::from_fn_with_state(known_queries, query::api_layer))
        .merge(hub::router())
        .merge(staff::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), cache::layer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate::reads))
        // The API's HTML pages (reports with `format=html`) get the hub's headers.
        .layer(axum::middleware::from_fn(hub::html_security_headers))
        // What a caller sees depends on their token (staff see names and exact figures), so
        // no cache between client and server may give one caller's answer to another.
        .layer(axum::middleware::map_response(
            |mut res: axum::response::Response| async move {
                res.headers_mut().append(
                    axum::http::header::VARY,
                    axum::http::HeaderValue::from_static("authorization"),
                );
                res
            },
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(axum::middleware::from_fn(move |req, next: axum::middleware::Next| {
            let limit = limits.request_timeout;
            async move {
                match tokio::time::timeout(limit, next.run(req)).await {
                    Ok(res) => res,
                    Err(_) => axum::response::IntoResponse::into_response(error::ApiError::Timeout(format!(
                        "the request took longer than {} s and was stopped",
                        limit.as_secs_f64()
                    ))),
                }
            }
        }))
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

/// Serves the application on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
///
/// Each connection is HTTP/1.1 with a limit on reading the request head
/// ([`Limits::header_read_timeout`]): a client that opens connections and sends its headers a
/// byte at a time (slowloris) is cut off rather than holding them open. Bodies and handlers are
/// bounded by [`Limits::request_timeout`] (408).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let header_read_timeout = state.limits.header_read_timeout;
    let app = router(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app.clone().map_request(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
            req
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
}

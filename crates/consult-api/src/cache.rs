//! A short-lived cache of anonymous reads (a "microcache"): the public register, forward plan,
//! library and hub pages that many residents read at once are built once per `Limits::public_cache`
//! (one second by default) instead of once per request.
//!
//! Only what anyone may see is kept: `GET` requests without credentials (a staff or a resident's
//! token) or cookies, answered 200
//! without `Set-Cookie` and without `Cache-Control: no-store` or `private` (every hub form page is
//! `no-store`: its anti-forgery token is the reader's own), with a body of known size up to
//! [`MAX_ENTRY_BYTES`]. A successful write through this instance empties the cache, so
//! a writer reads their own change at once; another instance's reader sees it within the
//! lifetime of an entry. The cache is bounded by [`MAX_TOTAL_BYTES`].

use crate::AppState;
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Largest response body kept.
pub const MAX_ENTRY_BYTES: u64 = 1024 * 1024;

/// Most bytes kept in all; when full, the cache is emptied and refills.
pub const MAX_TOTAL_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
struct Entry {
    at: Instant,
    headers: HeaderMap,
    body: Bytes,
}

/// The cached responses of one server instance.
#[derive(Debug, Default)]
pub struct PublicCache {
    entries: RwLock<(HashMap<String, Entry>, usize)>,
}

impl PublicCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, key: &str, ttl: Duration) -> Option<Entry> {
        let entries = self.entries.read().ok()?;
        entries.0.get(key).filter(|e| e.at.elapsed() < ttl).cloned()
    }

    fn put(&self, key: String, entry: Entry) {
        if let Ok(mut entries) = self.entries.write() {
            let (map, bytes) = &mut *entries;
            if *bytes + entry.body.len() > MAX_TOTAL_BYTES {
                map.clear();
                *bytes = 0;
            }
            *bytes += entry.body.len();
            if let Some(old) = map.insert(key, entry) {
                *bytes -= old.body.len();
            }
        }
    }

    /// Forgets everything (after a write through this instance).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.0.clear();
            entries.1 = 0;
        }
    }

    /// Responses kept.
    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.0.len()).unwrap_or(0)
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether anyone at all would get this answer: no credentials of any kind (a staff token, a
/// resident's management token) and no cookies.
fn anonymous_read(req: &Request) -> bool {
    req.method() == Method::GET
        && !req.headers().contains_key(header::AUTHORIZATION)
        && !req.headers().contains_key(header::COOKIE)
        && !req.headers().contains_key(crate::routes::residents::RESIDENT_TOKEN)
}

/// Whether a response may be kept for everyone.
fn shareable(res: &Response) -> bool {
    let private = res
        .headers()
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("no-store") || v.contains("private"));
    res.status() == StatusCode::OK
        && !private
        && !res.headers().contains_key(header::SET_COOKIE)
        && res.body().size_hint().exact().is_some_and(|n| n <= MAX_ENTRY_BYTES)
}

/// The middleware: answers anonymous reads from the cache while fresh, keeps shareable answers,
/// and empties the cache after any other request.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ttl = state.limits.public_cache;
    if ttl.is_zero() {
        return next.run(req).await;
    }
    if !anonymous_read(&req) {
        let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let res = next.run(req).await;
        // Only a write that was made: refused posts (401, 403, 422, 429...) change nothing, and
        // must not let anyone empty the cache at will.
        if writes && res.status().is_success() {
            state.public_cache.clear();
        }
        return res;
    }
    let key = req.uri().to_string();
    if let Some(hit) = state.public_cache.get(&key, ttl) {
        return (hit.headers, hit.body).into_response();
    }
    let res = next.run(req).await;
    if !shareable(&res) {
        return res;
    }
    let (parts, body) = res.into_parts();
    match axum::body::to_bytes(body, MAX_ENTRY_BYTES as usize).await {
        Ok(bytes) => {
            let mut headers = parts.headers.clone();
            headers.remove(header::CONTENT_LENGTH);
            headers.remove(header::DATE);
            headers.remove("x-request-id");
            state.public_cache.put(
                key,
                Entry {
                    at: Instant::now(),
                    headers,
                    body: bytes.clone(),
                },
            );
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => crate::error::ApiError::Internal(format!("reading a response to cache: {e}")).into_response(),
    }
}

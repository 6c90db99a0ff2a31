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
//!
//! A refill happens once per key however many readers ask for it (single flight): the first
//! reader of a missing or stale key computes the answer; readers of the same key meanwhile wait
//! for it and are answered with it. If it cannot be shared (not a 200, `no-store`...) or the
//! first reader gives up (its client went away), each waiting reader computes its own.

use crate::AppState;
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

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

/// What the readers waiting on a refill are told: `None` while it runs, then the entry, or
/// `Some(None)` when the answer is not to be shared.
type Refill = watch::Receiver<Option<Option<Entry>>>;

/// The cached responses of one server instance.
#[derive(Debug, Default)]
pub struct PublicCache {
    entries: RwLock<(HashMap<String, Entry>, usize)>,
    /// Refills under way, by key.
    refilling: Mutex<HashMap<String, Refill>>,
    /// Answers computed for anonymous reads (misses), for tests and metrics.
    computed: AtomicU64,
    /// A pause before every computation, in milliseconds (tests of the single flight).
    pause_ms: AtomicU64,
}

/// The reader computing a key's refill: takes it off the list of refills under way when done,
/// or when dropped half-way (its client went away), so the next reader is not kept waiting.
struct Leader<'a> {
    cache: &'a PublicCache,
    key: String,
    tx: watch::Sender<Option<Option<Entry>>>,
}

impl Leader<'_> {
    fn finish(self, entry: Option<Entry>) {
        // Waiting readers may all have gone: nobody to tell is fine.
        let _ = self.tx.send(Some(entry));
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if let Ok(mut refilling) = self.cache.refilling.lock() {
            if refilling
                .get(&self.key)
                .is_some_and(|rx| rx.same_channel(&self.tx.subscribe()))
            {
                refilling.remove(&self.key);
            }
        }
    }
}

/// Either the reader who computes a key's answer, or one who waits for it.
enum Turn<'a> {
    Lead(Leader<'a>),
    Wait(Refill),
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

    /// Whose turn it is to refill `key`.
    fn turn(&self, key: &str) -> Turn<'_> {
        let Ok(mut refilling) = self.refilling.lock() else {
            // A poisoned list: everyone computes, as without single flight.
            let (tx, _) = watch::channel(None);
            return Turn::Lead(Leader {
                cache: self,
                key: key.to_owned(),
                tx,
            });
        };
        if let Some(rx) = refilling.get(key) {
            return Turn::Wait(rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        refilling.insert(key.to_owned(), rx);
        Turn::Lead(Leader {
            cache: self,
            key: key.to_owned(),
            tx,
        })
    }

    /// How many answers to anonymous reads were computed rather than taken from the cache (or
    /// from another reader's refill).
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Pauses every computation of an anonymous read by `pause` first: for tests, to have many
    /// readers arrive while one refill runs.
    pub fn pause_refills(&self, pause: Duration) {
        self.pause_ms
            .store(u64::try_from(pause.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
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
    let cache = Arc::clone(&state.public_cache);
    loop {
        if let Some(hit) = cache.get(&key, ttl) {
            return hit.into_response();
        }
        match cache.turn(&key) {
            Turn::Lead(leader) => {
                // Another refill may have finished between the look-up and taking the turn.
                if let Some(hit) = cache.get(&key, ttl) {
                    leader.finish(Some(hit.clone()));
                    return hit.into_response();
                }
                let (res, entry) = compute(&cache, req, next).await;
                if let Some(entry) = &entry {
                    cache.put(key, entry.clone());
                }
                leader.finish(entry);
                return res;
            }
            Turn::Wait(mut rx) => match rx.wait_for(Option::is_some).await.map(|v| v.clone()) {
                Ok(Some(Some(entry))) => return entry.into_response(),
                // Not to be shared: this reader's own answer.
                Ok(_) => {
                    let (res, _) = compute(&cache, req, next).await;
                    return res;
                }
                // The leader gave up: take the turn again.
                Err(_) => continue,
            },
        }
    }
}

impl IntoResponse for Entry {
    fn into_response(self) -> Response {
        (self.headers, self.body).into_response()
    }
}

/// Runs the handler for an anonymous read: its response, and the entry to keep when it may be
/// shared.
async fn compute(cache: &PublicCache, req: Request, next: Next) -> (Response, Option<Entry>) {
    cache.computed.fetch_add(1, Ordering::Relaxed);
    let pause = cache.pause_ms.load(Ordering::Relaxed);
    if pause > 0 {
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    let res = next.run(req).await;
    if !shareable(&res) {
        return (res, None);
    }
    let (parts, body) = res.into_parts();
    match axum::body::to_bytes(body, MAX_ENTRY_BYTES as usize).await {
        Ok(bytes) => {
            let mut headers = parts.headers.clone();
            headers.remove(header::CONTENT_LENGTH);
            headers.remove(header::DATE);
            headers.remove("x-request-id");
            let entry = Entry {
                at: Instant::now(),
                headers,
                body: bytes.clone(),
            };
            (Response::from_parts(parts, Body::from(bytes)), Some(entry))
        }
        Err(e) => (
            crate::error::ApiError::Internal(format!("reading a response to cache: {e}")).into_response(),
            None,
        ),
    }
}

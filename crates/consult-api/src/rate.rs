//! Per-client limits on anonymous requests: one on writes (responses, registrations), so one
//! client cannot flood the register, and a higher one on reads, so one client cannot keep the
//! server busy. Fixed one-minute windows per client, in memory, per server instance. A client is
//! an IPv4 address or an IPv6 /64 network ([`client_key`]: one subscriber usually holds a whole
//! /64, and could otherwise take a fresh address for every request). Requests with a staff token
//! are not limited this way.

use crate::error::ApiError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts anonymous writes per client address.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` anonymous writes per client per minute (0: no limit).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Records one request by `client`; a 429 when it is over the limit.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        let (Some(client), true) = (client, self.per_minute > 0) else {
            return Ok(());
        };
        let client = client_key(client);
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .map_err(|_| ApiError::Internal("rate limiter lock poisoned".into()))?;
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = windows.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.per_minute {
            let wait = 60u64.saturating_sub(now.duration_since(entry.0).as_secs()).max(1);
            return Err(ApiError::TooManyRequests(wait));
        }
        Ok(())
    }
}

/// The middleware limiting anonymous reads (`GET` and `HEAD` without a bearer token, from the
/// cache or not) per client: a 429 problem with `Retry-After` beyond
/// [`crate::Limits::anonymous_reads_per_minute`]. The health check is not counted (load
/// balancers ask it often, from one address).
pub async fn reads(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{Method, header};
    use axum::response::IntoResponse as _;
    let anonymous_read = matches!(*req.method(), Method::GET | Method::HEAD)
        && !req.headers().contains_key(header::AUTHORIZATION)
        && req.uri().path() != "/healthz";
    if anonymous_read && state.limits.anonymous_reads_per_minute > 0 {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let client = crate::extract::client_address(req.headers(), peer, &state.limits);
        if let Err(e) = state.read_rate.check(client) {
            return e.into_response();
        }
    }
    next.run(req).await
}

/// The client an address belongs to, for limits: an IPv4 address as it is (also when written
/// as an IPv4-mapped IPv6 address), an IPv6 address as its /64 network.
pub fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64() {
        let r = RateLimiter::new(2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::7".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(r.check(Some(a)).is_ok() && r.check(Some(b)).is_ok());
        assert!(matches!(r.check(Some(a)), Err(ApiError::TooManyRequests(_))));
        assert!(r.check(Some(other)).is_ok());
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), IpAddr::from([192, 0, 2, 1]));
    }

    #[test]
    fn the_limit_applies_per_client() {
        let r = RateLimiter::new(2);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(r.check(a).is_ok() && r.check(a).is_ok());
        assert!(matches!(r.check(a), Err(ApiError::TooManyRequests(_))));
        assert!(r.check(b).is_ok());
        assert!(r.check(None).is_ok(), "no address, no limit");
        assert!(RateLimiter::new(0).check(a).is_ok());
    }
}

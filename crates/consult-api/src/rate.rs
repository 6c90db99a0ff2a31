//! A per-client limit on anonymous writes (responses, registrations), so one client cannot flood
//! the register. Fixed one-minute windows per IP address, in memory, per server instance.
//! Requests with a staff token are not limited this way.

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

    /// Records one write by `client`; a 429 when it is over the limit.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        let (Some(client), true) = (client, self.per_minute > 0) else {
            return Ok(());
        };
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

#[cfg(test)]
mod tests {
    use super::*;

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

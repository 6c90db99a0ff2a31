//! Extractors: a JSON body whose every failure is a problem+json naming the field, and the
//! caller's identity from a bearer token (a bad token is an error, never silently anonymous).

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use consult_core::Actor;
use serde::de::DeserializeOwned;
use std::net::IpAddr;

/// A JSON request body. Syntax errors are 400; a value of the wrong type or an unknown enum
/// value is 422 naming the field; a body over the limit is 413.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim();
                v == "application/json" || v == "application/merge-patch+json" || v.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge("the request body is larger than the limit".into())
            }
            other => ApiError::Malformed(other.body_text()),
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, classifying errors as [`ApiJson`] does.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    consult_app::json::read(bytes).map_err(ApiError::from)
}

/// Reads a JSON value already parsed (by [`ApiJson`]) as `T`, naming the field at fault as
/// [`parse_json`] does: for handlers that check who is calling before what they sent.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    consult_app::json::from_value(value).map_err(ApiError::Invalid)
}

/// Typed path parameters (`ApiPath<ConsultationId>`, `ApiPath<(ConsultationId, ConsultationId)>`):
/// a value that is not of its type (an id that is not a UUID) names no resource, so it is a
/// 404 problem, like any other unknown address.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|_| ApiError::NotFound(format!("no resource at {} (ids are UUIDs)", parts.uri.path())))
    }
}

/// The caller: `None` for the public (no token). A present but unknown, revoked or expired
/// token is a 401, looked up in the database on every request (no cache keeps a revoked token
/// alive).
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Actor>);

impl Caller {
    /// The actor, or a 401 when the caller is the public.
    pub fn required(self) -> Result<Actor, ApiError> {
        self.0
            .ok_or_else(|| ApiError::Unauthorized("this needs a bearer token (Authorization: Bearer ...)".into()))
    }

    /// The actor if a coordinator or admin; else 401 or 403.
    pub fn coordinator(self) -> Result<Actor, ApiError> {
        let actor = self.required()?;
        if actor.is_coordinator() {
            Ok(actor)
        } else {
            Err(ApiError::Forbidden("only a coordinator or admin can do this".into()))
        }
    }

    /// The actor if an admin; else 401 or 403.
    pub fn admin(self) -> Result<Actor, ApiError> {
        let actor = self.required()?;
        if actor.role == consult_core::Role::Admin {
            Ok(actor)
        } else {
            Err(ApiError::Forbidden("only an admin can do this".into()))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into()))?;
        // Unknown, revoked or expired: a 401 saying which (`AppError::Unauthenticated`).
        Ok(Caller(Some(state.app.authenticate(token).await?)))
    }
}

impl Caller {
    /// Who sent a request, for binding an idempotency key to its sender: a bearer token (by its
    /// SHA-256, never the secret itself) or the public at a client address (an IPv6 client by its
    /// /64, as the per-client limits count them).
    pub fn identity(headers: &axum::http::HeaderMap, client: ClientAddr) -> String {
        use sha2::Digest as _;
        match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            Some(token) => format!("token:{}", hex::encode(sha2::Sha256::digest(token.trim().as_bytes()))),
            None => match client.0 {
                Some(addr) => format!("public:{}", crate::rate::client_key(addr)),
                None => "public".to_owned(),
            },
        }
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address (`192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a network could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address or a network in CIDR notation (10.0.0.0/8, 2001:db8::/32)")]
pub struct CidrError(String);

impl std::str::FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CidrError(s.to_owned());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s.trim(), None),
        };
        let network: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u8>().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr {
            network: mask(network, prefix),
            prefix,
        })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// `addr` with every bit after the first `prefix` cleared.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & kept).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & kept).into())
        }
    }
}

/// An IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 peer) as IPv4.
fn unmapped(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

impl Cidr {
    /// True when `addr` is in this network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = unmapped(addr);
        addr.is_ipv4() == self.network.is_ipv4() && mask(addr, self.prefix) == self.network
    }
}

/// The proxies trusted when `--trust-proxy` names none: loopback and the private ranges (where
/// a deployment's own reverse proxies are).
pub const DEFAULT_TRUSTED_PROXIES: &[&str] = &[
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
];

/// The client of a request from `peer` (the connection's other end) and its `X-Forwarded-For`
/// headers. Without [`crate::Limits::trust_forwarded_for`], or when the peer is not a trusted
/// proxy, the header is ignored: it is the peer. Otherwise the header is read from the right
/// (each proxy appends the address it was reached from), and the client is the first address
/// that is not a trusted proxy; what lies to its left is what the client claimed and is not
/// believed. An entry that is not an address stops the walk at the proxy that passed it on.
pub fn client_address(headers: &axum::http::HeaderMap, peer: Option<IpAddr>, limits: &crate::Limits) -> Option<IpAddr> {
    let peer = peer.map(unmapped);
    if !limits.trust_forwarded_for {
        return peer;
    }
    let default: Vec<Cidr>;
    let trusted: &[Cidr] = if limits.trusted_proxies.is_empty() {
        default = DEFAULT_TRUSTED_PROXIES.iter().filter_map(|c| c.parse().ok()).collect();
        &default
    } else {
        &limits.trusted_proxies
    };
    let is_trusted = |addr: IpAddr| trusted.iter().any(|c| c.contains(addr));
    let Some(mut client) = peer.filter(|p| is_trusted(*p)) else {
        return peer;
    };
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        let Some(addr) = parse_hop(hop) else {
            break;
        };
        client = addr;
        if !is_trusted(addr) {
            break;
        }
    }
    Some(client)
}

/// One entry of `X-Forwarded-For`: an address, possibly with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(unmapped)
}

/// The client's address, when the server knows it: the peer address (served with connect info),
/// or, behind trusted reverse proxies, the address [`client_address`] reads from
/// `X-Forwarded-For`.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(client_address(&parts.headers, peer, &state.limits)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn limits(trusted: &[&str]) -> crate::Limits {
        crate::Limits {
            trust_forwarded_for: true,
            trusted_proxies: trusted.iter().map(|c| c.parse().unwrap()).collect(),
            ..crate::Limits::default()
        }
    }

    fn forwarded(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn networks_parse_and_contain() {
        let net: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(net.to_string(), "10.0.0.0/8");
        assert!(net.contains("10.200.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        let one: Cidr = "2001:db8::1".parse().unwrap();
        assert!(one.contains("2001:db8::1".parse().unwrap()) && !one.contains("2001:db8::2".parse().unwrap()));
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .unwrap()
                .contains("192.0.2.1".parse().unwrap())
        );
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "::/129",
            "example.org/8",
            "10.0.0.0/+8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_address() {
        let proxy = Some("10.0.0.5".parse().unwrap());
        let l = limits(&["10.0.0.0/8"]);
        let h = forwarded("198.51.100.9, 203.0.113.7, 10.0.0.2");
        assert_eq!(client_address(&h, proxy, &l), "203.0.113.7".parse().ok());
        // Not from a trusted proxy: the header is not read at all.
        let stranger = Some("192.0.2.1".parse().unwrap());
        assert_eq!(client_address(&h, stranger, &l), stranger);
        // Not trusting proxies: the peer.
        let off = crate::Limits::default();
        assert_eq!(client_address(&h, proxy, &off), proxy);
        // Junk stops the walk at the proxy that passed it on.
        let junk = forwarded("203.0.113.7, not-an-address, 10.0.0.2");
        assert_eq!(client_address(&junk, proxy, &l), "10.0.0.2".parse().ok());
        // Ports, and several headers read in order.
        let mut two = forwarded("198.51.100.1");
        two.append("x-forwarded-for", "[2001:db8::5]:443".parse().unwrap());
        assert_eq!(client_address(&two, proxy, &l), "2001:db8::5".parse().ok());
        // Only proxies: the left-most of them.
        assert_eq!(
            client_address(&forwarded("10.0.0.3, 10.0.0.2"), proxy, &l),
            "10.0.0.3".parse().ok()
        );
        // No list: loopback and the private ranges.
        let default = limits(&[]);
        assert_eq!(
            client_address(&h, Some("127.0.0.1".parse().unwrap()), &default),
            "203.0.113.7".parse().ok()
        );
    }
}

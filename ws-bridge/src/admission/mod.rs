//! Admission: which sessions may use a route, checked before the broker sees them.
//!
//! Origin checks stop other web pages, not scripts. A route with an `admission` table in its
//! configuration needs a signed token ([`token`]: HMAC-SHA256, expiry, route name, optional
//! client id), minted by the deployment's own backend or by `ws-bridge token`:
//!
//! * in the URL query, `/mqtt/<route>?token=...` (what a browser's `WebSocket` can send), or
//! * in a header, `Authorization: Bearer ...` (non-browser clients; `Sec-WebSocket-Protocol`
//!   stays free for the MQTT subprotocol).
//!
//! | what | when | answer | metric reason |
//! |---|---|---|---|
//! | no token | upgrade | HTTP 401 `admission token required` | `missing_token` |
//! | bad token (shape, MAC, key) | upgrade | HTTP 401 `admission token invalid` | `bad_token` |
//! | expired token | upgrade | HTTP 401 `admission token expired` | `expired_token` |
//! | token of another route | upgrade | HTTP 401 `admission token is for another route` | `wrong_route` |
//! | CONNECT's client id is not the token's | first packet | close 4401 | `client_id_mismatch` |
//! | too many CONNECTs from the address | first packet | close 4029 | (`connects_rate_limited`) |
//!
//! The expiry is checked at the upgrade: a session admitted before it lives on. A token names
//! a route, not a template route's product. Tokens are never logged or echoed whole
//! ([`token::redact`]).

pub mod keys;
pub mod token;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use keys::route_keys;
pub use token::{redact, Claims, MintError, TokenError, TokenKeys};

use crate::close::{self, Close};
use crate::handshake::{Refusal, RequestHead};
use crate::metrics::{Metrics, RefusalReason};
use crate::rate_limit::ConnectRateLimiter;

/// Why admission refused a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The request carries no token (HTTP 401).
    MissingToken,
    /// The token is not one of this route's keys' (HTTP 401).
    BadToken,
    /// The token has expired (HTTP 401).
    ExpiredToken,
    /// The token is another route's (HTTP 401).
    WrongRoute,
    /// The CONNECT's client id is not the one the token binds (close 4401).
    ClientIdMismatch,
}

impl Refused {
    /// Every reason.
    pub const ALL: [Refused; 5] = [
        Refused::MissingToken,
        Refused::BadToken,
        Refused::ExpiredToken,
        Refused::WrongRoute,
        Refused::ClientIdMismatch,
    ];

    /// The reason `ws_bridge_admission_refused_total` counts it under.
    pub fn metric(self) -> RefusalReason {
        match self {
            Refused::MissingToken => RefusalReason::MissingToken,
            Refused::BadToken => RefusalReason::BadToken,
            Refused::ExpiredToken => RefusalReason::ExpiredToken,
            Refused::WrongRoute => RefusalReason::WrongRoute,
            Refused::ClientIdMismatch => RefusalReason::ClientIdMismatch,
        }
    }

    /// Its label in `/metrics` and in logs.
    pub fn label(self) -> &'static str {
        self.metric().as_str()
    }

    /// What the client is told.
    pub fn reason(self) -> &'static str {
        match self {
            Refused::MissingToken => {
                "admission token required: pass ?token=... in the URL or an \
                 Authorization: Bearer header"
            }
            Refused::BadToken => "admission token invalid",
            Refused::ExpiredToken => "admission token expired",
            Refused::WrongRoute => "admission token is for another route",
            Refused::ClientIdMismatch => {
                "admission refused: the CONNECT's client id is not the one the token was \
                 issued for"
            }
        }
    }
}

impl From<TokenError> for Refused {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid => Refused::BadToken,
            TokenError::Expired => Refused::ExpiredToken,
            TokenError::WrongRoute => Refused::WrongRoute,
        }
    }
}

/// The token a request carries: an `Authorization: Bearer` header, else the first `token`
/// query parameter. An empty one is none.
pub fn request_token(head: &RequestHead) -> Option<&str> {
    if let Some(value) = head.header("authorization") {
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        // RFC 6750 §2.1: the scheme is case-insensitive. Another scheme is not our token.
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim())
            .filter(|t| !t.is_empty());
    }
    let (_, query) = head.path.split_once('?')?;
    let query = query.split('#').next().unwrap_or("");
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .filter(|t| !t.is_empty())
}

/// Admits an upgrade request to `route`, whose keys are `keys` (`None`: the route needs no
/// token). `Ok(Some(claims))` for an admitted token.
pub fn admit(
    keys: Option<&TokenKeys>,
    head: &RequestHead,
    route: &str,
    now: u64,
) -> Result<Option<Claims>, Refused> {
    let Some(keys) = keys else {
        return Ok(None);
    };
    let token = request_token(head).ok_or(Refused::MissingToken)?;
    Ok(Some(keys.verify(token, route, now)?))
}

/// The HTTP 401 answer to a refused upgrade (RFC 6750 §3: `WWW-Authenticate: Bearer`, with
/// `error="invalid_token"` when a token was given).
pub fn refusal(r: Refused) -> Refusal {
    let mut refusal = Refusal::new(401, r.reason());
    let challenge = match r {
        Refused::MissingToken => "Bearer realm=\"ws-bridge\"".to_string(),
        _ => format!(
            "Bearer realm=\"ws-bridge\", error=\"invalid_token\", error_description=\"{}\"",
            r.reason()
        ),
    };
    refusal.headers.push(("WWW-Authenticate", challenge));
    refusal
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What the relay checks on a session's first packet (its CONNECT), before relaying it: the
/// address's CONNECT rate, then the client id the token binds.
#[derive(Debug, Clone)]
pub struct FirstPacketGate {
    /// The only client id the CONNECT may carry (from the admission token).
    pub bound_client_id: Option<String>,
    /// The rate limiter and the client's address.
    pub rate_limit: Option<(Arc<ConnectRateLimiter>, IpAddr)>,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

impl FirstPacketGate {
    /// `Err(close)` when the session must end instead of relaying `first`.
    pub fn check(&self, first: &[u8]) -> Result<(), Close> {
        if let Some((limiter, ip)) = &self.rate_limit {
            if let Err(wait) = limiter.try_connect(*ip) {
                self.metrics.connects_rate_limited.inc();
                // Debug, not info: an attack would otherwise write one log line per attempt.
                tracing::debug!(peer = %ip, "CONNECT rate limited");
                return Err(Close::new(
                    close::RATE_LIMITED,
                    format!(
                        "rate limited: too many MQTT connects from your address, retry in {} s",
                        wait.as_secs().max(1)
                    ),
                ));
            }
        }
        if let Some(bound) = &self.bound_client_id {
            if connect_client_id(first).as_deref() != Some(bound.as_str()) {
                self.metrics
                    .admission_refused(Refused::ClientIdMismatch.metric());
                tracing::info!(
                    reason = Refused::ClientIdMismatch.label(),
                    "admission refused"
                );
                return Err(Close::new(
                    close::ADMISSION_REFUSED,
                    Refused::ClientIdMismatch.reason(),
                ));
            }
        }
        Ok(())
    }
}

/// The client id of the CONNECT `first` holds whole; `None` for anything else (a token that
/// binds a client id needs the whole CONNECT in the session's first message).
fn connect_client_id(first: &[u8]) -> Option<String> {
    use mqtt_core::packet::Packet;
    match mqtt_core::codec::decode_any(first, first.len()) {
        Ok(Some((Packet::Connect(c), _))) => Some(c.client_id.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(path: &str, auth: Option<&str>) -> RequestHead {
        RequestHead {
            method: "GET".into(),
            path: path.into(),
            version: 1,
            headers: auth
                .map(|a| vec![("authorization".to_string(), a.to_string())])
                .unwrap_or_default(),
            leftover: vec![],
        }
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_query() {
        assert_eq!(
            request_token(&head("/mqtt?token=abc.def", None)),
            Some("abc.def")
        );
        assert_eq!(
            request_token(&head("/mqtt?x=1&token=abc&token=zzz#f", None)),
            Some("abc")
        );
        assert_eq!(request_token(&head("/mqtt?token=", None)), None);
        assert_eq!(request_token(&head("/mqtt?mytoken=abc", None)), None);
        assert_eq!(request_token(&head("/mqtt", None)), None);
        assert_eq!(
            request_token(&head("/mqtt?token=q", Some("Bearer  h.t "))),
            Some("h.t"),
            "the header wins"
        );
        assert_eq!(request_token(&head("/mqtt", Some("bearer x"))), Some("x"));
        assert_eq!(request_token(&head("/mqtt", Some("Basic dTpw"))), None);
        assert_eq!(request_token(&head("/mqtt", Some("Bearer"))), None);
    }

    proptest::proptest! {
        /// Any request target and `Authorization` value: an answer, never a panic, and never
        /// admission without a token the key signed.
        #[test]
        fn any_request_is_answered_without_panic(path in ".{0,120}", auth in proptest::option::of(".{0,80}")) {
            let keys = TokenKeys::new(&[9u8; 32], None).unwrap();
            let h = head(&path, auth.as_deref());
            let _ = request_token(&h);
            proptest::prop_assert!(admit(Some(&keys), &h, "r", 0).is_err());
        }
    }

    #[test]
    fn admission_refusals_are_401_with_a_bearer_challenge() {
        let keys = TokenKeys::new(&[7u8; 32], None).unwrap();
        let claims = Claims {
            route: "r".into(),
            expires_at: 100,
            client_id: None,
        };
        let t = keys.mint(&claims).unwrap();
        let at = |path: &str, now| admit(Some(&keys), &head(path, None), "r", now);
        assert_eq!(at(&format!("/mqtt/r?token={t}"), 99), Ok(Some(claims)));
        assert_eq!(at("/mqtt/r", 0), Err(Refused::MissingToken));
        assert_eq!(at("/mqtt/r?token=x", 0), Err(Refused::BadToken));
        assert_eq!(
            at(&format!("/mqtt/r?token={t}"), 100),
            Err(Refused::ExpiredToken)
        );
        assert_eq!(admit(None, &head("/mqtt/r", None), "r", 0), Ok(None));
        let r = refusal(Refused::ExpiredToken);
        assert_eq!(r.status, 401);
        assert!(r.headers[0].1.contains("invalid_token"));
        assert!(!refusal(Refused::MissingToken).headers[0]
            .1
            .contains("error="));
    }

    #[test]
    fn the_first_packet_gate_checks_the_bound_client_id() {
        use mqtt_core::codec::encode;
        use mqtt_core::packet::{Connect, Packet, Protocol};
        let connect = |id: &str| {
            encode(&Packet::Connect(Connect {
                protocol: Protocol::MQTT311,
                keep_alive: 30,
                client_id: id,
                clean_session: true,
                last_will: None,
                username: None,
                password: None,
            }))
            .unwrap()
        };
        let metrics = Arc::new(Metrics::default());
        let gate = FirstPacketGate {
            bound_client_id: Some("dev-1".into()),
            rate_limit: None,
            metrics: metrics.clone(),
        };
        assert!(gate.check(&connect("dev-1")).is_ok());
        for bad in [
            connect("dev-2"),
            connect("dev-1")[..5].to_vec(),
            vec![0xc0, 0],
        ] {
            assert_eq!(gate.check(&bad).unwrap_err().code, close::ADMISSION_REFUSED);
        }
        assert!(metrics
            .render()
            .contains("reason=\"client_id_mismatch\"} 3"));
        let limited = FirstPacketGate {
            bound_client_id: None,
            rate_limit: Some((
                Arc::new(ConnectRateLimiter::new(1, 1, 8).unwrap()),
                "127.0.0.1".parse().unwrap(),
            )),
            metrics: metrics.clone(),
        };
        assert!(limited.check(&connect("x")).is_ok());
        let c = limited.check(&connect("x")).unwrap_err();
        assert_eq!(c.code, close::RATE_LIMITED);
        assert!(c.reason.starts_with("rate limited"), "{}", c.reason);
        assert!(metrics
            .render()
            .contains("ws_bridge_connects_rate_limited_total 1"));
    }
}

//! Admission tokens: what they say, their spelling, minting and verification.
//!
//! ```text
//! token   = base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))
//! payload = "v1:" route ":" expiry [":" client-id]      expiry: unix seconds, decimal
//! ```
//!
//! The MAC covers the payload as sent (its base64url text), so there is nothing to
//! canonicalise; it is checked with `ring::hmac::verify` (constant time) against the route's
//! current key and, during a rotation, its previous one, before anything in the payload is
//! read. A route name cannot hold `:`; the client id, last, may.

use std::fmt;

use mqtt_core::wire::names::{validate_route_name, RouteNameError};
use ring::hmac;

use data_encoding::BASE64URL_NOPAD;

/// The payload's first field.
pub const VERSION: &str = "v1";
/// Longest token read (a longer one is refused unread).
pub const MAX_TOKEN_LEN: usize = 1024;
/// Longest client id a token may bind (bytes of UTF-8).
pub const MAX_CLIENT_ID_LEN: usize = 256;
/// Shortest key accepted: as long as the MAC (RFC 2104 §3).
pub use crate::config::MIN_KEY_LEN;

/// What a token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The route it opens.
    pub route: String,
    /// Unix time (seconds) from which it is refused.
    pub expires_at: u64,
    /// The only client id its session's CONNECT may carry, if bound.
    pub client_id: Option<String>,
}

/// Why a token is not accepted (the reason a refused client is told; see also
/// [`crate::admission::Refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this bridge made: wrong shape, wrong MAC (tampered, another key), unknown
    /// version.
    #[error("admission token invalid")]
    Invalid,
    /// Past its expiry.
    #[error("admission token expired")]
    Expired,
    /// Made for another route.
    #[error("admission token is for another route")]
    WrongRoute,
}

/// Why a token cannot be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    /// Not a route name (`^[a-z0-9_-]{1,64}$`).
    #[error("route name: {0}")]
    Route(RouteNameError),
    /// The client id is empty, too long or holds U+0000 ([MQTT-1.5.3-2]).
    #[error("client id must be 1 to {MAX_CLIENT_ID_LEN} bytes of UTF-8 without U+0000")]
    ClientId,
}

/// A key too short to sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an admission key needs at least {MIN_KEY_LEN} bytes, this one has {0}")]
pub struct ShortKey(pub usize);

/// A route's keys: the first mints and verifies, a second (the previous key, during a
/// rotation) only verifies. The key bytes never appear in `Debug` output.
pub struct TokenKeys {
    keys: Vec<hmac::Key>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKeys({} keys)", self.keys.len())
    }
}

impl TokenKeys {
    /// Keys from their bytes.
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Result<TokenKeys, ShortKey> {
        let mut keys = Vec::with_capacity(2);
        for k in std::iter::once(current).chain(previous) {
            if k.len() < MIN_KEY_LEN {
                return Err(ShortKey(k.len()));
            }
            keys.push(hmac::Key::new(hmac::HMAC_SHA256, k));
        }
        Ok(TokenKeys { keys })
    }

    /// A token granting `claims`, signed with the current key.
    pub fn mint(&self, claims: &Claims) -> Result<String, MintError> {
        validate_route_name(&claims.route).map_err(MintError::Route)?;
        if let Some(id) = &claims.client_id {
            if !client_id_ok(id) {
                return Err(MintError::ClientId);
            }
        }
        let mut payload = format!("{VERSION}:{}:{}", claims.route, claims.expires_at);
        if let Some(id) = &claims.client_id {
            payload.push(':');
            payload.push_str(id);
        }
        let body = base64url_encode(payload.as_bytes());
        // `keys` is never empty: `new` always pushes the current key.
        let mac = self
            .keys
            .first()
            .map(|k| base64url_encode(hmac::sign(k, body.as_bytes()).as_ref()))
            .unwrap_or_default();
        Ok(format!("{body}.{mac}"))
    }

    /// The claims of `token` if one of the keys signed it, it names `route` and `now` (unix
    /// seconds) is before its expiry. Total: any text gets an answer, never a panic.
    pub fn verify(&self, token: &str, route: &str, now: u64) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let (body, mac) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let mac = base64url_decode(mac).ok_or(TokenError::Invalid)?;
        if !self
            .keys
            .iter()
            .any(|k| hmac::verify(k, body.as_bytes(), &mac).is_ok())
        {
            return Err(TokenError::Invalid);
        }
        let claims = base64url_decode(body)
            .and_then(|p| String::from_utf8(p).ok())
            .and_then(|p| parse_payload(&p))
            .ok_or(TokenError::Invalid)?;
        if claims.route != route {
            return Err(TokenError::WrongRoute);
        }
        if now >= claims.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Base64url without padding (RFC 4648 §5): safe in a URL query and an HTTP header unescaped.
fn base64url_encode(bytes: &[u8]) -> String {
    BASE64URL_NOPAD.encode(bytes)
}

/// Strict: `BASE64URL_NOPAD` refuses padding, characters outside the alphabet, lengths base64
/// cannot produce and non-zero bits past the last byte, so each byte string has one spelling.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    BASE64URL_NOPAD.decode(text.as_bytes()).ok()
}

fn client_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_ID_LEN && !id.contains('\0')
}

fn parse_payload(payload: &str) -> Option<Claims> {
    let mut fields = payload.splitn(4, ':');
    if fields.next()? != VERSION {
        return None;
    }
    let route = fields.next()?;
    validate_route_name(route).ok()?;
    let expiry = fields.next()?;
    if expiry.is_empty() || expiry.len() > 20 || !expiry.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let expires_at = expiry.parse().ok()?;
    let client_id = match fields.next() {
        Some(id) if client_id_ok(id) => Some(id.to_string()),
        Some(_) => return None,
        None => None,
    };
    Some(Claims {
        route: route.to_string(),
        expires_at,
        client_id,
    })
}

/// A token as it may appear in logs and error text: its first 6 characters and its length.
pub fn redact(token: &str) -> String {
    let shown: String = token.chars().take(6).collect();
    format!("{shown}...({} chars)", token.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OLD: &[u8] = b"old-key-old-key-old-key-old-key-";

    fn keys() -> TokenKeys {
        TokenKeys::new(KEY, None).unwrap()
    }

    fn claims(client_id: Option<&str>) -> Claims {
        Claims {
            route: "local".into(),
            expires_at: 2_000,
            client_id: client_id.map(Into::into),
        }
    }

    #[test]
    fn a_minted_token_verifies_until_it_expires() {
        let k = keys();
        for id in [None, Some("dev-1"), Some("with:colons:and spaces")] {
            let t = k.mint(&claims(id)).unwrap();
            assert!(t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
            assert_eq!(k.verify(&t, "local", 1_999), Ok(claims(id)));
            assert_eq!(k.verify(&t, "local", 2_000), Err(TokenError::Expired));
            assert_eq!(k.verify(&t, "other", 1_000), Err(TokenError::WrongRoute));
        }
    }

    /// The documented spelling, checked against a fixed HMAC-SHA256 (RFC 4231 style vector
    /// computed once with this key).
    #[test]
    fn the_spelling_is_the_documented_one() {
        let t = keys().mint(&claims(None)).unwrap();
        let (body, mac) = t.split_once('.').unwrap();
        assert_eq!(base64url_decode(body).unwrap(), b"v1:local:2000");
        let k = hmac::Key::new(hmac::HMAC_SHA256, KEY);
        assert!(hmac::verify(&k, body.as_bytes(), &base64url_decode(mac).unwrap()).is_ok());
        assert_eq!(mac.len(), 43, "32 bytes");
    }

    #[test]
    fn tampering_and_other_keys_are_invalid() {
        let k = keys();
        let t = k.mint(&claims(Some("dev-1"))).unwrap();
        let (body, mac) = t.split_once('.').unwrap();
        let other_body = base64url_encode(b"v1:local:9999999999:dev-1");
        for bad in [
            format!("{other_body}.{mac}"),
            format!("{body}.{}", base64url_encode(&[0u8; 32])),
            format!("{body}.{}", &mac[..mac.len() - 1]),
            format!("{body}{mac}"),
            format!("{body}.{mac}.x"),
            TokenKeys::new(OLD, None)
                .unwrap()
                .mint(&claims(None))
                .unwrap(),
        ] {
            assert_eq!(
                k.verify(&bad, "local", 0),
                Err(TokenError::Invalid),
                "{bad}"
            );
        }
    }

    /// The last character of a 32-byte MAC carries 4 bits and 2 spare ones: a lax decoder
    /// reads the same MAC when a spare bit is set, a strict one refuses the spelling.
    #[test]
    fn a_mac_with_non_canonical_trailing_bits_is_invalid() {
        let k = keys();
        let t = k.mint(&claims(None)).unwrap();
        let (body, mac) = t.split_once('.').unwrap();
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = mac.as_bytes()[mac.len() - 1];
        let sextet = ALPHABET.iter().position(|&c| c == last).unwrap();
        assert_eq!(sextet & 0b11, 0, "canonical: the spare bits are zero");
        let lax = char::from(ALPHABET[sextet | 0b01]);
        let forged = format!("{body}.{}{lax}", &mac[..mac.len() - 1]);
        assert_eq!(k.verify(&forged, "local", 0), Err(TokenError::Invalid));
        assert_eq!(k.verify(&t, "local", 0), Ok(claims(None)));
    }

    #[test]
    fn base64url_rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url_encode(plain.as_bytes()), coded);
            assert_eq!(base64url_decode(coded).as_deref(), Some(plain.as_bytes()));
        }
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn base64url_decoding_is_strict() {
        for bad in ["Z", "Zg==", "Zh", "Zm9", "Zm+v", "Zm/v", "Zm9v Yg", "é"] {
            assert_eq!(base64url_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_previous_key_still_verifies_during_a_rotation() {
        let old = TokenKeys::new(OLD, None).unwrap();
        let rotated = TokenKeys::new(KEY, Some(OLD)).unwrap();
        let t = old.mint(&claims(None)).unwrap();
        assert!(rotated.verify(&t, "local", 0).is_ok());
        assert_eq!(keys().verify(&t, "local", 0), Err(TokenError::Invalid));
        // New tokens are signed with the current key.
        let fresh = rotated.mint(&claims(None)).unwrap();
        assert!(keys().verify(&fresh, "local", 0).is_ok());
    }

    #[test]
    fn signed_but_malformed_payloads_are_invalid() {
        let k = hmac::Key::new(hmac::HMAC_SHA256, KEY);
        let sign = |payload: &[u8]| {
            let body = base64url_encode(payload);
            let mac = base64url_encode(hmac::sign(&k, body.as_bytes()).as_ref());
            format!("{body}.{mac}")
        };
        for payload in [
            &b"v2:local:2000"[..],
            b"v1:local",
            b"v1:local:",
            b"v1:local:+2000",
            b"v1:local:-1",
            b"v1:local:99999999999999999999999",
            b"v1:Local:2000",
            b"v1:local:2000:",
            b"v1:local:2000:a\0b",
            b"v1:local:2000:\xff",
            b"",
        ] {
            assert_eq!(
                keys().verify(&sign(payload), "local", 0),
                Err(TokenError::Invalid),
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn short_keys_and_bad_claims_are_refused() {
        assert_eq!(TokenKeys::new(b"short", None).unwrap_err(), ShortKey(5));
        assert!(TokenKeys::new(KEY, Some(b"short")).is_err());
        let k = keys();
        let mut c = claims(Some(""));
        assert_eq!(k.mint(&c), Err(MintError::ClientId));
        c.client_id = Some("x".repeat(MAX_CLIENT_ID_LEN + 1));
        assert_eq!(k.mint(&c), Err(MintError::ClientId));
        c.client_id = None;
        c.route = "Bad Route".into();
        assert!(matches!(k.mint(&c), Err(MintError::Route(_))));
        assert!(!format!("{k:?}").contains("0123"));
    }

    #[test]
    fn redaction_keeps_six_characters() {
        let t = keys().mint(&claims(None)).unwrap();
        let r = redact(&t);
        assert!(r.starts_with(&t[..6]) && !r.contains(&t[..7]), "{r}");
        assert_eq!(redact("é"), "é...(1 chars)");
    }

    proptest! {
        #[test]
        fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base64url_decode(&base64url_encode(&bytes)), Some(bytes));
        }

        #[test]
        fn base64url_decodes_only_canonical_text(text in ".{0,40}") {
            if let Some(bytes) = base64url_decode(&text) {
                prop_assert_eq!(base64url_encode(&bytes), text);
            }
        }

        /// Malformed tokens never panic and are never accepted.
        #[test]
        fn any_text_is_refused_without_panic(text in ".{0,200}") {
            prop_assert!(keys().verify(&text, "local", 0).is_err());
        }

        #[test]
        fn any_bytes_after_a_real_body_are_refused(
            cut in 0usize..60,
            junk in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let t = keys().mint(&claims(Some("id"))).unwrap();
            let mut s = t.get(..cut.min(t.len())).unwrap_or("").to_string();
            s.push_str(&String::from_utf8_lossy(&junk));
            if s != t {
                prop_assert!(keys().verify(&s, "local", 0).is_err());
            }
        }
    }
}

//! The close-code table every client adapter is tested against: each code of [`close`], the
//! RFC 6455 codes a WebSocket reports locally, and the edges of the ranges, with the class and
//! retry decision that the one rule gives. The browser adapter, the native driver, the session
//! (`tests/tests/close_contract.rs`) and the CLI's exit status (`mqttws`'s `exit.rs`) walk it.

use super::close::{self, CloseClass};

/// (code, class, retried).
pub const TABLE: &[(u16, CloseClass, bool)] = &[
    (close::NORMAL, CloseClass::Normal, true),
    (close::GOING_AWAY, CloseClass::GoingAway, true),
    (close::PROTOCOL_ERROR, CloseClass::Protocol, false),
    (close::UNSUPPORTED_DATA, CloseClass::Protocol, false),
    (close::NO_STATUS, CloseClass::Dropped, true),
    (close::ABNORMAL, CloseClass::Dropped, true),
    (1007, CloseClass::Protocol, false),
    (1008, CloseClass::NotAllowed, false),
    (close::MESSAGE_TOO_BIG, CloseClass::TooLarge, false),
    (1010, CloseClass::Protocol, false),
    (close::INTERNAL_ERROR, CloseClass::Internal, true),
    (1012, CloseClass::GoingAway, true),
    (1013, CloseClass::GoingAway, true),
    (1014, CloseClass::UpstreamUnreachable, true),
    (close::PING_TIMEOUT, CloseClass::PingTimeout, true),
    (close::ROUTE_UNKNOWN, CloseClass::RouteUnknown, false),
    (close::ORIGIN_NOT_ALLOWED, CloseClass::NotAllowed, false),
    (
        close::TLS_UNKNOWN_ISSUER,
        CloseClass::TlsVerification,
        false,
    ),
    (close::TLS_NAME_MISMATCH, CloseClass::TlsVerification, false),
    (close::TLS_EXPIRED, CloseClass::TlsVerification, false),
    (close::TLS_NOT_YET_VALID, CloseClass::TlsVerification, false),
    (close::TLS_REVOKED, CloseClass::TlsVerification, false),
    (
        close::TLS_BAD_CERTIFICATE,
        CloseClass::TlsVerification,
        false,
    ),
    (close::TLS_HANDSHAKE_FAILED, CloseClass::TlsHandshake, false),
    (
        close::TLS_CLIENT_CERT_REFUSED,
        CloseClass::TlsHandshake,
        false,
    ),
    (close::RATE_LIMITED, CloseClass::RateLimited, true),
    (close::ADMISSION_REFUSED, CloseClass::NotAllowed, false),
    (4400, CloseClass::NotAllowed, false),
    (4499, CloseClass::NotAllowed, false),
    (
        close::UPSTREAM_UNREACHABLE,
        CloseClass::UpstreamUnreachable,
        true,
    ),
    (4999, CloseClass::Other, true),
];

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_table_is_what_the_rule_says() {
        for &(code, class, retried) in TABLE {
            assert_eq!(CloseClass::of(code), class, "{code}");
            assert_eq!(close::is_retried(code), retried, "{code}");
        }
    }
}

use super::*;
use crate::wire::close;
use crate::wire::tls::TlsFailure;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn codes_stay_what_the_javascript_api_documents() {
    let refused = ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword);
    assert_eq!(refused.code(), "bad_credentials");
    assert_eq!(ConnectionError::ConnectTimeout(1).code(), "connect_timeout");
    assert_eq!(
        ConnectionError::KeepaliveTimeout(1).code(),
        "keepalive_timeout"
    );
    let violation = ConnectionError::Violation(ProtocolViolation::SecondConnack);
    assert_eq!(violation.code(), "protocol_violation");
    let dropped = ConnectionError::Transport(TransportFailure::Dropped("gone".into()));
    assert_eq!(dropped.code(), "transport");
    let closed = ConnectionError::Transport(TransportFailure::closed(4001, ""));
    assert_eq!(closed.code(), "closed");
    assert_eq!(closed.close_code(), Some(4001));
    let tls = TransportFailure::TlsVerification {
        kind: TlsFailure::NameMismatch,
        detail: "not valid for b.example".into(),
    };
    assert_eq!(tls.code(), "tls");
    assert_eq!(tls.tls_failure(), Some(TlsFailure::NameMismatch));
    assert_eq!(
        TransportFailure::TlsHandshake("alert".into()).tls_failure(),
        Some(TlsFailure::HandshakeFailed)
    );
    assert_eq!(TransportFailure::Dropped("x".into()).tls_failure(), None);
    assert_eq!(CommandError::QueueFull(3).code(), "queue_full");
    assert_eq!(CommandError::NoFilters.code(), "no_filters");
    assert_eq!(CommandError::Ended.code(), "ended");
    let url = CommandError::InvalidUrl {
        url: "x".into(),
        reason: "no scheme".into(),
    };
    assert_eq!(url.code(), "invalid_url");
}

#[test]
fn texts_stay_what_users_saw() {
    let dropped = ConnectionError::Transport(TransportFailure::Dropped("socket closed".into()));
    assert_eq!(dropped.to_string(), "connection closed: socket closed");
    let closed = ConnectionError::Transport(TransportFailure::closed(4001, ""));
    assert_eq!(
        closed.to_string(),
        "closed by the server (4001): route unknown"
    );
    let violation = ConnectionError::Violation(ProtocolViolation::NotConnack {
        found: "PUBLISH",
        first_byte: 0x30,
    });
    assert_eq!(
        violation.to_string(),
        "protocol violation by the broker: expected CONNACK, got PUBLISH (first byte 0x30)"
    );
}

/// RFC 6455 §7.4 codes and ws-bridge's own: a close frame is retried exactly when the one rule
/// in `wire::close` says so, whatever the adapter thinks.
#[test]
fn a_close_frame_is_retried_by_the_wire_rule() {
    for code in [
        1000, 1001, 1002, 1003, 1008, 1011, 4000, 4001, 4003, 4010, 4016, 4502,
    ] {
        let error = ConnectionError::Transport(TransportFailure::closed(code, ""));
        assert_eq!(error.is_retried(), close::is_retried(code), "{code}");
    }
}

#[test]
fn tls_failures_are_permanent_like_their_close_codes() {
    for kind in TlsFailure::ALL.into_iter().filter(|k| k.is_verification()) {
        let failure = TransportFailure::TlsVerification {
            kind,
            detail: String::new(),
        };
        assert_eq!(failure.is_retried(), close::is_retried(kind.close_code()));
        assert_eq!(
            close::CloseClass::of(kind.close_code()),
            close::CloseClass::TlsVerification
        );
    }
    let handshake = TransportFailure::TlsHandshake("alert".into());
    assert_eq!(
        handshake.is_retried(),
        close::is_retried(close::TLS_HANDSHAKE_FAILED)
    );
    assert!(TransportFailure::Unreachable("x".into()).is_retried());
    assert!(!TransportFailure::Setup("x".into()).is_retried());
}

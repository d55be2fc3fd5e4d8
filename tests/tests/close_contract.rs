//! One table, one test: for every close code of the bridge<->client contract
//! (`mqtt_core::wire::close`, plus the RFC 6455 codes a WebSocket reports and ranges' edges), the
//! browser adapter, the native driver, the session and the CLI's exit class all follow the one
//! rule, `wire::close::CloseClass`.
//!
//! Runs without a network: each column calls the code that makes that decision in production.

use mqtt_core::wire::close::{self, CloseClass};
use mqtt_core::{ConnectionError, Event, Instant, Options, Session, TransportFailure};
use mqttws::Failure;

/// (code, class, retried, CLI exit class). Retried codes exit as Network or Timeout (the
/// connection was lost, or never made, for reasons outside the client); the others name what
/// to fix.
const TABLE: &[(u16, CloseClass, bool, Failure)] = &[
    (close::NORMAL, CloseClass::Normal, true, Failure::Network),
    (
        close::GOING_AWAY,
        CloseClass::GoingAway,
        true,
        Failure::Network,
    ),
    (
        close::PROTOCOL_ERROR,
        CloseClass::Protocol,
        false,
        Failure::Protocol,
    ),
    (
        close::UNSUPPORTED_DATA,
        CloseClass::Protocol,
        false,
        Failure::Protocol,
    ),
    (
        close::NO_STATUS,
        CloseClass::Dropped,
        true,
        Failure::Network,
    ),
    (close::ABNORMAL, CloseClass::Dropped, true, Failure::Network),
    (1007, CloseClass::Protocol, false, Failure::Protocol),
    (1008, CloseClass::NotAllowed, false, Failure::Auth),
    (
        close::MESSAGE_TOO_BIG,
        CloseClass::TooLarge,
        false,
        Failure::Protocol,
    ),
    (1010, CloseClass::Protocol, false, Failure::Protocol),
    (
        close::INTERNAL_ERROR,
        CloseClass::Internal,
        true,
        Failure::Network,
    ),
    (1012, CloseClass::GoingAway, true, Failure::Network),
    (1013, CloseClass::GoingAway, true, Failure::Network),
    (
        1014,
        CloseClass::UpstreamUnreachable,
        true,
        Failure::Network,
    ),
    (
        close::PING_TIMEOUT,
        CloseClass::PingTimeout,
        true,
        Failure::Timeout,
    ),
    (
        close::ROUTE_UNKNOWN,
        CloseClass::RouteUnknown,
        false,
        Failure::Auth,
    ),
    (
        close::ORIGIN_NOT_ALLOWED,
        CloseClass::NotAllowed,
        false,
        Failure::Auth,
    ),
    (
        close::TLS_UNKNOWN_ISSUER,
        CloseClass::TlsVerification,
        false,
        Failure::Tls,
    ),
    (
        close::TLS_NAME_MISMATCH,
        CloseClass::TlsVerification,
        false,
        Failure::Tls,
    ),
    (
        close::TLS_EXPIRED,
        CloseClass::TlsVerification,
        false,
        Failure::Tls,
    ),
    (
        close::TLS_NOT_YET_VALID,
        CloseClass::TlsVerification,
        false,
        Failure::Tls,
    ),
    (
        close::TLS_REVOKED,
        CloseClass::TlsVerification,
        false,
        Failure::Tls,
    ),
    (
        close::TLS_BAD_CERTIFICATE,
        CloseClass::TlsVerification,
        false,
        Failure::Tls,
    ),
    (
        close::TLS_HANDSHAKE_FAILED,
        CloseClass::TlsHandshake,
        false,
        Failure::Tls,
    ),
    (4400, CloseClass::NotAllowed, false, Failure::Auth),
    (4499, CloseClass::NotAllowed, false, Failure::Auth),
    (
        close::UPSTREAM_UNREACHABLE,
        CloseClass::UpstreamUnreachable,
        true,
        Failure::Network,
    ),
    (4999, CloseClass::Other, true, Failure::Network),
];

/// Whether a real session, reconnect on, schedules a reconnect after `failure`.
fn session_retries(failure: TransportFailure) -> bool {
    let mut options = Options::new("contract");
    options.reconnect.enabled = true;
    let mut session = Session::new(options);
    let now = Instant::from_millis(0);
    session.connect(now);
    while session.poll_transport().is_some() {}
    session.handle_transport_closed(now, failure);
    match session.poll_event() {
        Some(Event::ConnectionLost { reconnect_in, .. }) => reconnect_in.is_some(),
        other => panic!("{other:?}"),
    }
}

/// The CLI's exit class for a session that lost its connection with `failure`.
fn cli_exit(failure: TransportFailure) -> Failure {
    Failure::of_connection(&ConnectionError::Transport(failure))
}

/// One row's columns: (browser on an open socket, native driver, session, CLI exit class).
fn decisions(code: u16) -> (bool, bool, bool, Failure) {
    let browser = client_wasm::close::failure(code, "", true);
    let native = mqttws::close_failure(code, "");
    (
        browser.is_retried(),
        native.is_retried(),
        session_retries(native.clone()),
        cli_exit(native),
    )
}

#[test]
fn bridge_browser_and_cli_agree_on_every_close_code() {
    let mut seen = Vec::new();
    for &(code, class, retried, exit) in TABLE {
        assert_eq!(CloseClass::of(code), class, "{code}: class");
        assert_eq!(close::is_retried(code), retried, "{code}: the rule");
        let (browser, native, session, cli) = decisions(code);
        assert_eq!(browser, retried, "{code}: browser adapter");
        assert_eq!(native, retried, "{code}: native driver");
        assert_eq!(session, retried, "{code}: session");
        assert_eq!(cli, exit, "{code}: CLI exit class");
        seen.push(code);
    }
    // Every other code either side of the table: the columns still agree with the rule, and
    // a retried code never exits as something the user must fix.
    for code in (1000..=1015).chain(3000..=3010).chain(4000..=4999) {
        let retried = close::is_retried(code);
        let (browser, native, session, cli) = decisions(code);
        assert_eq!(
            (browser, native, session),
            (retried, retried, retried),
            "{code}"
        );
        assert_eq!(
            matches!(cli, Failure::Network | Failure::Timeout),
            retried,
            "{code}: exit class {cli:?}"
        );
        if let Some(&(_, _, _, exit)) = TABLE.iter().find(|row| row.0 == code) {
            assert_eq!(cli, exit, "{code}");
        }
    }
    // A WebSocket that never opened (HTTP refusal hidden by the browser, bridge down) is
    // retried, exits as a network failure, and never reads as a close code.
    let never_opened = client_wasm::close::failure(close::ABNORMAL, "", false);
    assert!(never_opened.is_retried());
    assert_eq!(cli_exit(never_opened.clone()), Failure::Network);
    assert_eq!(ConnectionError::Transport(never_opened).close_code(), None);
    assert!(seen.len() == TABLE.len());
}

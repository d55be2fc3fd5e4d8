//! One table, one test: for every close code of the bridge<->client contract
//! (`mqtt_core::wire::contract::TABLE`: the codes of `wire::close`, the RFC 6455 codes a
//! WebSocket reports, the ranges' edges), the browser adapter, the native driver and the session
//! all follow the one rule, `wire::close::CloseClass`. The CLI's exit status walks the same table
//! in `client-wasm/native/src/exit.rs` (its `Failure` is private to the binary).
//!
//! Runs without a network: each column calls the code that makes that decision in production.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use mqtt_core::wire::close::{self, CloseClass};
use mqtt_core::wire::contract::TABLE;
use mqtt_core::{ConnectionError, Event, Instant, Options, Session, TransportFailure};

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

/// One row's columns: (browser on an open socket, native driver, session).
fn decisions(code: u16) -> (bool, bool, bool) {
    let browser = client_wasm::close::failure(code, "", true);
    let native = mqttws::close_failure(code, "");
    (
        browser.is_retried(),
        native.is_retried(),
        session_retries(native),
    )
}

#[test]
fn bridge_browser_and_native_agree_on_every_close_code() {
    for &(code, class, retried) in TABLE {
        assert_eq!(CloseClass::of(code), class, "{code}: class");
        assert_eq!(close::is_retried(code), retried, "{code}: the rule");
        let (browser, native, session) = decisions(code);
        assert_eq!(browser, retried, "{code}: browser adapter");
        assert_eq!(native, retried, "{code}: native driver");
        assert_eq!(session, retried, "{code}: session");
    }
    // Every other code either side of the table: the columns still agree with the rule.
    for code in (1000..=1015).chain(3000..=3010).chain(4000..=4999) {
        let retried = close::is_retried(code);
        assert_eq!(decisions(code), (retried, retried, retried), "{code}");
    }
    // A WebSocket that never opened (HTTP refusal hidden by the browser, bridge down) is
    // retried and never reads as a close code.
    let never_opened = client_wasm::close::failure(close::ABNORMAL, "", false);
    assert!(never_opened.is_retried());
    assert!(session_retries(never_opened.clone()));
    assert_eq!(ConnectionError::Transport(never_opened).close_code(), None);
}

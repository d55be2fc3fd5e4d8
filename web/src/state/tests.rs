//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use core::time::Duration;

use mqtt_core::{ConnectRefused, ConnectionError, Event, TransportFailure};

use super::test_support::{creds, ev, message, run, started};
use super::*;
use crate::pages::console::state as console;
use crate::pages::device::state as device;

#[test]
fn hash_routes_open_each_page() {
    assert_eq!(Page::from_hash("#/console"), Page::Console);
    assert_eq!(Page::from_hash("#/echo"), Page::Echo);
    assert_eq!(Page::from_hash("#device"), Page::Device);
    assert_eq!(Page::from_hash("#/platform?x=1"), Page::Platform);
    assert_eq!(Page::from_hash(""), Page::Activate);
    assert_eq!(Page::from_hash("#/nope"), Page::Activate);
    for page in Page::ALL {
        assert_eq!(Page::from_hash(&page.hash()), page);
    }
    let state = State::default().apply(Action::Navigate(Page::Echo));
    assert_eq!(state.page, Page::Echo);
}

#[test]
fn fields_and_endpoint() {
    let state = run(
        State::new("ws://h:1/mqtt".into(), Page::Activate, None, 0),
        [
            Action::Set(Field::Route, "murano".into()),
            Action::Set(Field::Product, "x2lmj5npsktbuik9".into()),
            Action::Set(Field::Identity, "007".into()),
            Action::Console(console::Action::Set(console::Field::Message, "32".into())),
            Action::Device(device::Action::Set(device::Field::Interval, "50".into())),
            Action::Console(console::Action::SetQos(7)),
        ],
    );
    assert_eq!(
        state.settings.endpoint().unwrap(),
        "ws://h:1/mqtt/murano/x2lmj5npsktbuik9"
    );
    assert_eq!(state.console.message, "32");
    assert_eq!(state.console.qos, 2);
    assert_eq!(state.device.interval(), Some(100));
    assert_eq!(state.settings.client_id_for(Page::Console), "007");
    assert_eq!(state.settings.client_id_for(Page::Echo), "007-echo-host");
    let state = state.apply(Action::Set(Field::ClientId, "mine".into()));
    assert_eq!(state.settings.client_id_for(Page::Device), "mine");
}

#[test]
fn remembered_credentials_prefill_the_panel() {
    let state = State::new("ws://h/mqtt".into(), Page::Console, Some(creds()), 60);
    assert_eq!(state.settings.username, "007");
    assert_eq!(state.settings.identity, "007");
    assert!(state.settings.remember);
    assert!(!state.apply(Action::Forget).settings.remember);
}

#[test]
fn status_follows_the_connection() {
    let state = started(Page::Console);
    assert_eq!(state.conn.status, Status::Connecting { attempt: 0 });
    let state = state.apply(ev(Event::Connected {
        session_present: false,
    }));
    assert_eq!(state.conn.status.key(), "connected");
    let lost = Event::ConnectionLost {
        error: ConnectionError::Transport(TransportFailure::Dropped("socket closed".into())),
        reconnect_in: Some(Duration::from_millis(2_300)),
        attempt: 2,
    };
    let state = state.apply(ev(lost));
    assert_eq!(
        state.conn.status.text(),
        "Reconnecting in 3 s (attempt 2): connection closed: socket closed"
    );
    let state = state.apply(ev(Event::Reconnecting { attempt: 2 }));
    assert_eq!(state.conn.status.text(), "Connecting… (attempt 2)");
    let state = state.apply(ev(Event::Disconnected));
    assert_eq!(state.conn.status, Status::Disconnected);
}

#[test]
fn refused_credentials_show_the_brokers_words() {
    let state = started(Page::Console).apply(ev(Event::ConnectionLost {
        error: ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword),
        reconnect_in: None,
        attempt: 1,
    }));
    assert_eq!(state.conn.status.key(), "error");
    assert_eq!(
        state.conn.status.text(),
        "Error: connection refused: bad user name or password (check the user name and password)"
    );
    assert!(matches!(&state.conn.status, Status::Failed { code, .. } if code == "bad_credentials"));
}

/// Repeated takeovers by another client: the status says so, with the time, and the
/// connection comes back (Connected) after "Take over".
#[test]
fn connected_elsewhere_shows_when_and_take_over_reconnects() {
    let state = started(Page::Console).apply(ev(Event::ConnectionLost {
        error: ConnectionError::ConnectedElsewhere { drops: 3 },
        reconnect_in: None,
        attempt: 0,
    }));
    assert_eq!(state.conn.status.key(), "elsewhere");
    assert_eq!(
        state.conn.status.text(),
        "Connected elsewhere since 00:00:01: another client uses this client id"
    );
    assert_eq!(state.conn.purpose, Some(Page::Console), "the client stays");
    let state = state.apply(ev(Event::Connected {
        session_present: false,
    }));
    assert_eq!(state.conn.status, Status::Connected);
}

/// A follower tab of a shared connection taken from outside: the status line says
/// "connected elsewhere" and still says which tab holds the connection.
#[test]
fn connected_elsewhere_in_a_follower_tab_keeps_its_role() {
    let state = started(Page::Console).apply(Action::Role {
        generation: 1,
        role: "follower",
    });
    let state = state.apply(ev(Event::ConnectionLost {
        error: ConnectionError::ConnectedElsewhere { drops: 3 },
        reconnect_in: None,
        attempt: 0,
    }));
    assert_eq!(state.conn.status.key(), "elsewhere");
    assert_eq!(state.conn.role, "follower");
    let state = state.apply(Action::Role {
        generation: 1,
        role: "leader",
    });
    assert_eq!(
        state.conn.status.key(),
        "elsewhere",
        "a role change alone leaves the status"
    );
    assert_eq!(state.conn.role, "leader");
}

#[test]
fn events_of_an_old_connection_are_ignored() {
    let state = started(Page::Console).apply(Action::Started {
        generation: 2,
        purpose: Page::Console,
    });
    let state = state.apply(ev(Event::Connected {
        session_present: false,
    }));
    assert_eq!(state.conn.status.key(), "connecting");
    let state = state.apply(ev(message("007/temperature", "1")));
    assert!(state.console.log.borrow().entries.is_empty());
    let state = state.apply(Action::Stopped);
    assert_eq!(state.conn.status, Status::Disconnected);
    let state = state.apply(Action::Event {
        generation: 2,
        at_ms: 0,
        event: Event::Connected {
            session_present: false,
        },
    });
    assert_eq!(state.conn.status, Status::Disconnected);
}

#[test]
fn mosquittos_not_authorized_names_the_likely_cause() {
    let state = started(Page::Console).apply(ev(Event::ConnectionLost {
        error: ConnectionError::Refused(ConnectRefused::NotAuthorized),
        reconnect_in: None,
        attempt: 1,
    }));
    assert_eq!(
        state.conn.status.text(),
        "Error: connection refused: not authorized (bad user name or password, or this client may not connect)"
    );
}

/// The provider renders only when `State` changed; a stale event changes nothing.
#[test]
fn an_ignored_event_leaves_the_state_equal() {
    let state = started(Page::Console);
    let after = state.clone().apply(Action::Event {
        generation: 9,
        at_ms: 0,
        event: message("007/n", "stale"),
    });
    assert_eq!(after, state);
    assert!(after.console.log.same_value(&state.console.log));
    assert_eq!(after.console.log.version(), state.console.log.version());
}

/// Each action replaces only the part it changes, so only that page's view renders again.
#[test]
fn an_edit_replaces_only_its_page() {
    let state = started(Page::Console);
    let after = state.clone().apply(Action::Device(device::Action::Set(
        device::Field::Message,
        "hi".into(),
    )));
    assert!(!Rc::ptr_eq(&after.device, &state.device));
    assert_eq!(after.device.message, "hi");
    assert!(Rc::ptr_eq(&after.console, &state.console));
    assert!(Rc::ptr_eq(&after.echo, &state.echo));
    assert!(Rc::ptr_eq(&after.activation, &state.activation));
    assert!(Rc::ptr_eq(&after.platform, &state.platform));
    assert!(Rc::ptr_eq(&after.settings, &state.settings));
    let typed = after
        .clone()
        .apply(Action::Set(Field::Route, "murano".into()));
    assert!(!Rc::ptr_eq(&typed.settings, &after.settings));
    assert!(Rc::ptr_eq(&typed.device, &after.device));
    assert_ne!(typed, after);
}

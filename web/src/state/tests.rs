//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use core::time::Duration;

use mqtt_core::{ConnectRefused, ConnectionError, Event, TransportFailure};

use super::test_support::{creds, edit, ev, message, run, set, start, started};
use super::*;
use crate::model::conn::TabRole;
use crate::model::settings::Action as SettingsAction;
use crate::model::settings::Field;
use crate::pages::{activate, console, device, echo_host, platform};

#[test]
fn hash_routes_open_each_page() {
    use crate::pages::route;
    assert_eq!(route("#/console"), console::PAGE);
    assert_eq!(route("#/echo"), echo_host::PAGE);
    assert_eq!(route("#device"), device::PAGE);
    assert_eq!(route("#/platform?x=1"), platform::PAGE);
    assert_eq!(route(""), activate::PAGE);
    assert_eq!(route("#/nope"), activate::PAGE);
    for page in crate::pages::ALL {
        assert_eq!(route(&page.hash()), *page);
    }
    let state = State::new("ws://h/mqtt".into(), activate::PAGE, None, 0)
        .apply(Common::Navigate(echo_host::PAGE).into());
    assert_eq!(state.page, echo_host::PAGE);
}

#[test]
fn fields_and_endpoint() {
    let state = run(
        State::new("ws://h:1/mqtt".into(), activate::PAGE, None, 0),
        [
            set(Field::Route, "murano"),
            set(Field::Product, "x2lmj5npsktbuik9"),
            set(Field::Identity, "007"),
            edit(console::Action::Set(
                console::state::Field::Message,
                "32".into(),
            )),
            edit(device::Action::Set(
                device::state::Field::Interval,
                "50".into(),
            )),
            edit(console::Action::SetQos(7)),
        ],
    );
    assert_eq!(
        state.settings.endpoint().unwrap(),
        "ws://h:1/mqtt/murano/x2lmj5npsktbuik9"
    );
    assert_eq!(state.pages.console.message, "32");
    assert_eq!(state.pages.console.qos, 2);
    assert_eq!(state.pages.device.interval(), Some(100));
    assert_eq!(state.settings.client_id_for(console::PAGE), "007");
    assert_eq!(
        state.settings.client_id_for(echo_host::PAGE),
        "007-echo-host"
    );
    let state = state.apply(set(Field::ClientId, "mine"));
    assert_eq!(state.settings.client_id_for(device::PAGE), "mine");
}

#[test]
fn remembered_credentials_prefill_the_panel() {
    let state = State::new("ws://h/mqtt".into(), console::PAGE, Some(creds()), 60);
    assert_eq!(state.settings.username, "007");
    assert_eq!(state.settings.identity, "007");
    assert!(state.settings.remember);
    let forget = Common::Settings(SettingsAction::Forget).into();
    assert!(!state.apply(forget).settings.remember);
}

#[test]
fn status_follows_the_connection() {
    let state = started(console::PAGE);
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
    let state = started(console::PAGE).apply(ev(Event::ConnectionLost {
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
    let state = started(console::PAGE).apply(ev(Event::ConnectionLost {
        error: ConnectionError::ConnectedElsewhere { drops: 3 },
        reconnect_in: None,
        attempt: 0,
    }));
    assert_eq!(state.conn.status.key(), "elsewhere");
    assert_eq!(
        state.conn.status.text(),
        "Connected elsewhere since 00:00:01: another client uses this client id"
    );
    assert_eq!(state.conn.purpose, Some(console::PAGE), "the client stays");
    let state = state.apply(ev(Event::Connected {
        session_present: false,
    }));
    assert_eq!(state.conn.status, Status::Connected);
}

/// A follower tab of a shared connection taken from outside: the status line says
/// "connected elsewhere" and still says which tab holds the connection.
#[test]
fn connected_elsewhere_in_a_follower_tab_keeps_its_role() {
    let state = started(console::PAGE).apply(Action::Conn(Report::Role {
        generation: 1,
        role: Some(TabRole::Follower),
    }));
    let state = state.apply(ev(Event::ConnectionLost {
        error: ConnectionError::ConnectedElsewhere { drops: 3 },
        reconnect_in: None,
        attempt: 0,
    }));
    assert_eq!(state.conn.status.key(), "elsewhere");
    assert_eq!(state.conn.role, Some(TabRole::Follower));
    let state = state.apply(Action::Conn(Report::Role {
        generation: 1,
        role: Some(TabRole::Leader),
    }));
    assert_eq!(
        state.conn.status.key(),
        "elsewhere",
        "a role change alone leaves the status"
    );
    assert_eq!(state.conn.role, Some(TabRole::Leader));
}

#[test]
fn events_of_an_old_connection_are_ignored() {
    let state = started(console::PAGE).apply(start(2, console::PAGE));
    let state = state.apply(ev(Event::Connected {
        session_present: false,
    }));
    assert_eq!(state.conn.status.key(), "connecting");
    let state = state.apply(ev(message("007/temperature", "1")));
    assert!(state.pages.console.log.borrow().entries.is_empty());
    let state = state.apply(Action::Conn(Report::Stopped));
    assert_eq!(state.conn.status, Status::Disconnected);
    let state = state.apply(Action::Conn(Report::Event {
        generation: 2,
        at_ms: 0,
        event: Event::Connected {
            session_present: false,
        },
    }));
    assert_eq!(state.conn.status, Status::Disconnected);
}

#[test]
fn mosquittos_not_authorized_names_the_likely_cause() {
    let state = started(console::PAGE).apply(ev(Event::ConnectionLost {
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
    let state = started(console::PAGE);
    let after = state.clone().apply(Action::Conn(Report::Event {
        generation: 9,
        at_ms: 0,
        event: message("007/n", "stale"),
    }));
    assert_eq!(after, state);
    let (log, before) = (&after.pages.console.log, &state.pages.console.log);
    assert!(log.same_value(before));
    assert_eq!(log.version(), before.version());
}

/// Each action replaces only the part it changes, so only that page's view renders again.
#[test]
fn an_edit_replaces_only_its_page() {
    let state = started(console::PAGE);
    let after = state.clone().apply(edit(device::Action::Set(
        device::state::Field::Message,
        "hi".into(),
    )));
    let (a, b) = (&after.pages, &state.pages);
    assert!(!Rc::ptr_eq(&a.device, &b.device));
    assert_eq!(a.device.message, "hi");
    assert!(Rc::ptr_eq(&a.console, &b.console));
    assert!(Rc::ptr_eq(&a.echo_host, &b.echo_host));
    assert!(Rc::ptr_eq(&a.activate, &b.activate));
    assert!(Rc::ptr_eq(&a.platform, &b.platform));
    assert!(Rc::ptr_eq(&after.settings, &state.settings));
    let typed = after.clone().apply(set(Field::Route, "murano"));
    assert!(!Rc::ptr_eq(&typed.settings, &after.settings));
    assert!(Rc::ptr_eq(&typed.pages.device, &after.pages.device));
    assert_ne!(typed, after);
}

//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use mqtt_flows::{ActivationError, ActivationMode, ConsoleMode, Credentials, LoginStyle};
use mqtt_core::Event;

use super::{Action, PAGE};
use crate::model::Status;
use crate::pages::console;
use crate::state::test_support::{creds, edit, ev, flow, run, start, started};

#[test]
fn activation_prints_the_seed_lines_and_fills_the_console() {
    let state = started(PAGE).apply(edit(Action::SetMode(ActivationMode::Provision)));
    assert!(state.pages.activate.running);
    assert_eq!(state.pages.activate.mode, ActivationMode::Provision);
    let state = state.apply(flow(1, Action::Outcome(Ok(creds()))));
    assert_eq!(
        state.pages.activate.lines,
        [
            "Activation succeeded!",
            "username = 007",
            "password = b7b34f55e948b94841820ea50868a2490632d78f"
        ]
    );
    assert!(!state.pages.activate.running);
    assert_eq!(
        state.settings.username, "007",
        "copied into the panel at once"
    );
    // The flow disconnects after the reply: not an error.
    let state = state.apply(ev(Event::Disconnected));
    assert_eq!(state.conn.status, Status::Disconnected);
    let state = state.apply(edit(Action::UseCredentials));
    assert_eq!(state.page, console::PAGE);
    assert_eq!(
        state.settings.password,
        "b7b34f55e948b94841820ea50868a2490632d78f"
    );
    assert_eq!(state.settings.username, "007");
}

#[test]
fn activation_failure_is_shown() {
    let state = started(PAGE).apply(flow(
        1,
        Action::Outcome(Err(ActivationError::NoReply(10))),
    ));
    assert!(state.pages.activate.lines[0]
        .starts_with("Activation failed: no activation reply within 10 s"));
    assert!(state.pages.activate.credentials.is_none());
    // Nothing to copy.
    assert_eq!(state.clone().apply(edit(Action::UseCredentials)), state);
}

#[test]
fn a_provision_activation_opens_the_current_api_console_in_its_log_in_style() {
    let state = started(PAGE);
    let state = run(
        state,
        [
            edit(Action::SetMode(ActivationMode::Provision)),
            edit(Action::SetLogin(LoginStyle::TokenOnly)),
            flow(
                1,
                Action::Outcome(Ok(Credentials {
                    username: String::new(),
                    password: "tok".into(),
                })),
            ),
        ],
    );
    assert_eq!(
        state.pages.activate.lines,
        ["Activation succeeded!", "username =", "password = tok"]
    );
    assert_eq!(state.settings.identity, "007", "the identity stays");
    assert_eq!(state.settings.password, "tok");
    assert_eq!(state.settings.api, ConsoleMode::Resource);
    assert_eq!(state.settings.login, LoginStyle::TokenOnly);
    // A legacy activation afterwards brings the legacy console back.
    let state = run(
        state,
        [
            edit(Action::SetMode(ActivationMode::Legacy)),
            start(2, PAGE),
            flow(2, Action::Outcome(Ok(creds()))),
        ],
    );
    assert_eq!(state.settings.api, ConsoleMode::Legacy);
    assert_eq!(state.settings.login, LoginStyle::Identity);
}

/// The outcome of an activation whose client was replaced changes nothing.
#[test]
fn a_stale_outcome_is_ignored() {
    let state = started(PAGE).apply(start(2, PAGE));
    let after = state.clone().apply(flow(1, Action::Outcome(Ok(creds()))));
    assert_eq!(after, state);
}

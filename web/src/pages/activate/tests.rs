//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use mqtt_core::flows::{ActivationError, ActivationMode};
use mqtt_core::Event;

use super::state::Action as ActivateAction;
use crate::state::test_support::{creds, ev, started};
use crate::state::{Action, Page, Status};

#[test]
fn activation_prints_the_seed_lines_and_fills_the_console() {
    let state = started(Page::Activate).apply(Action::Activate(ActivateAction::SetMode(
        ActivationMode::Provision,
    )));
    assert!(state.activation.running);
    assert_eq!(state.activation.mode, ActivationMode::Provision);
    let state = state.apply(Action::Activated {
        generation: 1,
        outcome: Ok(creds()),
    });
    assert_eq!(
        state.activation.lines,
        [
            "Activation succeeded!",
            "username = 007",
            "password = b7b34f55e948b94841820ea50868a2490632d78f"
        ]
    );
    assert!(!state.activation.running);
    assert_eq!(
        state.settings.username, "007",
        "copied into the panel at once"
    );
    // The flow disconnects after the reply: not an error.
    let state = state.apply(ev(Event::Disconnected));
    assert_eq!(state.conn.status, Status::Disconnected);
    let state = state.apply(Action::UseCredentials);
    assert_eq!(state.page, Page::Console);
    assert_eq!(
        state.settings.password,
        "b7b34f55e948b94841820ea50868a2490632d78f"
    );
    assert_eq!(state.settings.username, "007");
}

#[test]
fn activation_failure_is_shown() {
    let state = started(Page::Activate).apply(Action::Activated {
        generation: 1,
        outcome: Err(ActivationError::NoReply(10)),
    });
    assert!(
        state.activation.lines[0].starts_with("Activation failed: no activation reply within 10 s")
    );
    assert!(state.activation.credentials.is_none());
    // Nothing to copy.
    assert_eq!(state.clone().apply(Action::UseCredentials), state);
}

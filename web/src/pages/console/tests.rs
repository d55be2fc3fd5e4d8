//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use mqtt_core::flows::ConsoleOutput;

use super::state::Action as ConsoleAction;
use crate::state::log::{LogAction, LOG_CAP};
use crate::state::test_support::{ev, message, run, started};
use crate::state::{Action, Dir, Page};

#[test]
fn console_logs_both_directions_and_charts_numbers() {
    let state = started(Page::Console);
    let state = run(
        state,
        [
            Action::Sent {
                generation: 1,
                at_ms: 5,
                topic: "007/temperature".into(),
                payload: b"32".to_vec(),
                qos: 1,
                retain: false,
            },
            ev(message("007/temperature", "32")),
            Action::ConsoleOutput {
                generation: 1,
                at_ms: 6,
                output: ConsoleOutput::Received {
                    topic: "007/temperature".into(),
                    resource: "temperature".into(),
                    payload: b"32".to_vec(),
                    timestamp: None,
                },
            },
            Action::ConsoleOutput {
                generation: 1,
                at_ms: 7,
                output: ConsoleOutput::Received {
                    topic: "007/state".into(),
                    resource: "state".into(),
                    payload: b"on".to_vec(),
                    timestamp: None,
                },
            },
        ],
    );
    let rows = state.console.log.borrow();
    let log: Vec<_> = rows
        .entries
        .iter()
        .map(|e| (e.dir, e.topic.as_str(), e.qos))
        .collect();
    assert_eq!(
        log,
        [
            (Dir::Out, "007/temperature", 1),
            (Dir::In, "007/temperature", 1)
        ]
    );
    assert_eq!(
        state
            .console
            .charts
            .borrow()
            .series
            .keys()
            .collect::<Vec<_>>(),
        ["temperature"]
    );
    assert_eq!(
        state.console.charts.borrow().series["temperature"],
        [(6, 32.0)]
    );
}

#[test]
fn log_is_capped_and_pausable() {
    let mut state = started(Page::Console);
    for i in 0..(LOG_CAP + 20) {
        state = state.apply(ev(message("007/n", &i.to_string())));
    }
    assert_eq!(state.console.log.borrow().entries.len(), LOG_CAP);
    assert_eq!(state.console.log.borrow().entries[0].payload, b"20");
    assert_eq!(state.console.log.borrow().dropped, 20);
    let state = state.apply(Action::Console(ConsoleAction::Log(LogAction::TogglePause)));
    assert!(state.console.log.borrow().paused);
    let state = state.apply(ev(message("007/n", "held")));
    assert_eq!(
        state.console.log.borrow().entries.back().unwrap().payload,
        format!("{}", LOG_CAP + 19).as_bytes()
    );
    assert_eq!(state.console.log.borrow().held.len(), 1);
    let state = state.apply(Action::Console(ConsoleAction::Log(LogAction::TogglePause)));
    assert!(state.console.log.borrow().held.is_empty());
    assert_eq!(state.console.log.borrow().entries.len(), LOG_CAP);
    assert_eq!(
        state.console.log.borrow().entries.back().unwrap().payload,
        b"held"
    );
    let ids: Vec<u64> = state
        .console
        .log
        .borrow()
        .entries
        .iter()
        .map(|e| e.id)
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids stay unique and ordered"
    );
    assert!(state
        .apply(Action::Console(ConsoleAction::Log(LogAction::Clear)))
        .console
        .log
        .borrow()
        .entries
        .is_empty());
}

/// Issue 14: a message used to deep-copy the whole state, both 500-row logs included. Now the
/// log is changed in place: the next state holds the very same buffer at a new version, and
/// the pages the message does not concern keep their pointers (so their views do not render).
#[test]
fn a_message_appends_to_the_log_in_place() {
    let mut state = started(Page::Console);
    for i in 0..LOG_CAP {
        state = state.apply(ev(message("007/n", &i.to_string())));
    }
    let before = state.clone();
    let after = state.apply(ev(message("007/n", "one more")));
    assert!(
        after.console.log.same_value(&before.console.log),
        "no copy of the log"
    );
    assert_eq!(
        after.console.log.version(),
        before.console.log.version() + 1
    );
    assert_ne!(
        after.console.log, before.console.log,
        "the view sees a change"
    );
    assert_eq!(after.console.log.borrow().entries.len(), LOG_CAP);
    assert!(after.console.charts.same_value(&before.console.charts));
    assert!(after.platform.log.same_value(&before.platform.log));
    assert!(std::rc::Rc::ptr_eq(&after.platform, &before.platform));
    assert!(std::rc::Rc::ptr_eq(&after.settings, &before.settings));
    assert!(std::rc::Rc::ptr_eq(&after.conn, &before.conn));
    assert_ne!(after, before);
}

#[test]
fn a_value_updates_its_chart_in_place() {
    let state = started(Page::Console);
    let charts = state.console.charts.clone();
    let state = state.apply(Action::ConsoleOutput {
        generation: 1,
        at_ms: 6,
        output: ConsoleOutput::Received {
            topic: "007/temperature".into(),
            resource: "temperature".into(),
            payload: b"32".to_vec(),
            timestamp: None,
        },
    });
    assert!(state.console.charts.same_value(&charts));
    assert_ne!(state.console.charts, charts);
    // A new connection starts new charts; the old snapshot keeps its own.
    let restarted = state.clone().apply(Action::Started {
        generation: 2,
        purpose: Page::Console,
    });
    assert!(restarted.console.charts.borrow().series.is_empty());
    assert_eq!(state.console.charts.borrow().series.len(), 1);
}

#[test]
fn platform_writes_are_listed_and_charted_at_their_platform_time() {
    let state = started(Page::Console);
    let state = state.apply(Action::ConsoleOutput {
        generation: 1,
        at_ms: 99,
        output: ConsoleOutput::Received {
            topic: "$resource/temperature/1700000000000000".into(),
            resource: "temperature".into(),
            payload: b"212".to_vec(),
            timestamp: Some("1700000000000000".into()),
        },
    });
    assert_eq!(
        state.console.writes.front(),
        Some(&super::state::PlatformWrite {
            resource: "temperature".into(),
            value: "212".into(),
            at_ms: 1_700_000_000_000,
        })
    );
    let charts = state.console.charts.borrow();
    assert_eq!(
        charts.series["temperature"].back(),
        Some(&(1_700_000_000_000, 212.0)),
        "charted on the platform's time, not the arrival's"
    );
}

#[test]
fn a_provision_activation_opens_the_current_api_console_in_its_log_in_style() {
    use crate::pages::activate::state::Action as Activate;
    use mqtt_core::flows::{ActivationMode, ConsoleMode, Credentials, LoginStyle};
    let state = started(Page::Activate);
    let state = run(
        state,
        [
            Action::Activate(Activate::SetMode(ActivationMode::Provision)),
            Action::Activate(Activate::SetLogin(LoginStyle::TokenOnly)),
            Action::Activated {
                generation: 1,
                outcome: Ok(Credentials {
                    username: String::new(),
                    password: "tok".into(),
                }),
            },
        ],
    );
    assert_eq!(
        state.activation.lines,
        ["Activation succeeded!", "username =", "password = tok"]
    );
    assert_eq!(state.settings.identity, "007", "the identity stays");
    assert_eq!(state.settings.password, "tok");
    assert_eq!(state.console.mode, ConsoleMode::Resource);
    assert_eq!(state.console.login, LoginStyle::TokenOnly);
    // A legacy activation afterwards brings the legacy console back.
    let state = run(
        state,
        [
            Action::Activate(Activate::SetMode(ActivationMode::Legacy)),
            Action::Started {
                generation: 2,
                purpose: Page::Activate,
            },
            Action::Activated {
                generation: 2,
                outcome: Ok(crate::state::test_support::creds()),
            },
        ],
    );
    assert_eq!(state.console.mode, ConsoleMode::Legacy);
    assert_eq!(state.console.login, LoginStyle::Identity);
}

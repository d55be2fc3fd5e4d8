//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use mqtt_flows::ConsoleOutput;

use super::state::PlatformWrite;
use super::{Action, PAGE};
use crate::model::log::{LogAction, LOG_CAP};
use crate::model::Dir;
use crate::state::test_support::{edit, ev, flow, message, run, sent, start, started};

#[test]
fn console_logs_both_directions_and_charts_numbers() {
    let state = started(PAGE);
    let state = run(
        state,
        [
            sent(5, "007/temperature", "32", 1),
            ev(message("007/temperature", "32")),
            flow(
                1,
                Action::Output {
                    at_ms: 6,
                    output: ConsoleOutput::Received {
                    topic: "007/temperature".into(),
                    resource: "temperature".into(),
                    payload: b"32".to_vec(),
                    timestamp: None,
                },
                },
            ),
            flow(
                1,
                Action::Output {
                    at_ms: 7,
                    output: ConsoleOutput::Received {
                    topic: "007/state".into(),
                    resource: "state".into(),
                    payload: b"on".to_vec(),
                    timestamp: None,
                },
                },
            ),
        ],
    );
    let rows = state.pages.console.log.borrow();
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
            .pages
            .console
            .charts
            .borrow()
            .series
            .keys()
            .collect::<Vec<_>>(),
        ["temperature"]
    );
    assert_eq!(
        state.pages.console.charts.borrow().series["temperature"],
        [(6, 32.0)]
    );
}

#[test]
fn log_is_capped_and_pausable() {
    let mut state = started(PAGE);
    for i in 0..(LOG_CAP + 20) {
        state = state.apply(ev(message("007/n", &i.to_string())));
    }
    assert_eq!(state.pages.console.log.borrow().entries.len(), LOG_CAP);
    assert_eq!(state.pages.console.log.borrow().entries[0].payload, b"20");
    assert_eq!(state.pages.console.log.borrow().dropped, 20);
    let state = state.apply(edit(Action::Log(LogAction::TogglePause)));
    assert!(state.pages.console.log.borrow().paused);
    let state = state.apply(ev(message("007/n", "held")));
    assert_eq!(
        state.pages.console.log.borrow().entries.back().unwrap().payload,
        format!("{}", LOG_CAP + 19).as_bytes()
    );
    assert_eq!(state.pages.console.log.borrow().held.len(), 1);
    let state = state.apply(edit(Action::Log(LogAction::TogglePause)));
    assert!(state.pages.console.log.borrow().held.is_empty());
    assert_eq!(state.pages.console.log.borrow().entries.len(), LOG_CAP);
    assert_eq!(
        state.pages.console.log.borrow().entries.back().unwrap().payload,
        b"held"
    );
    let ids: Vec<u64> = state
        .pages
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
        .apply(edit(Action::Log(LogAction::Clear)))
        .pages
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
    let mut state = started(PAGE);
    for i in 0..LOG_CAP {
        state = state.apply(ev(message("007/n", &i.to_string())));
    }
    let before = state.clone();
    let after = state.apply(ev(message("007/n", "one more")));
    assert!(
        after.pages.console.log.same_value(&before.pages.console.log),
        "no copy of the log"
    );
    assert_eq!(
        after.pages.console.log.version(),
        before.pages.console.log.version() + 1
    );
    assert_ne!(
        after.pages.console.log, before.pages.console.log,
        "the view sees a change"
    );
    assert_eq!(after.pages.console.log.borrow().entries.len(), LOG_CAP);
    assert!(after.pages.console.charts.same_value(&before.pages.console.charts));
    assert!(after.pages.platform.log.same_value(&before.pages.platform.log));
    assert!(std::rc::Rc::ptr_eq(&after.pages.platform, &before.pages.platform));
    assert!(std::rc::Rc::ptr_eq(&after.settings, &before.settings));
    assert!(std::rc::Rc::ptr_eq(&after.conn, &before.conn));
    assert_ne!(after, before);
}

#[test]
fn a_value_updates_its_chart_in_place() {
    let state = started(PAGE);
    let charts = state.pages.console.charts.clone();
    let state = state.apply(flow(
        1,
        Action::Output {
            at_ms: 6,
            output: ConsoleOutput::Received {
            topic: "007/temperature".into(),
            resource: "temperature".into(),
            payload: b"32".to_vec(),
            timestamp: None,
        },
        },
    ));
    assert!(state.pages.console.charts.same_value(&charts));
    assert_ne!(state.pages.console.charts, charts);
    // A new connection starts new charts; the old snapshot keeps its own.
    let restarted = state.clone().apply(start(2, PAGE));
    assert!(restarted.pages.console.charts.borrow().series.is_empty());
    assert_eq!(state.pages.console.charts.borrow().series.len(), 1);
}

#[test]
fn platform_writes_are_listed_and_charted_at_their_platform_time() {
    let state = started(PAGE);
    let state = state.apply(flow(
        1,
        Action::Output {
            at_ms: 99,
            output: ConsoleOutput::Received {
            topic: "$resource/temperature/1700000000000000".into(),
            resource: "temperature".into(),
            payload: b"212".to_vec(),
            timestamp: Some("1700000000000000".into()),
        },
        },
    ));
    assert_eq!(
        state.pages.console.writes.front(),
        Some(&PlatformWrite {
            resource: "temperature".into(),
            value: "212".into(),
            at_ms: 1_700_000_000_000,
        })
    );
    let charts = state.pages.console.charts.borrow();
    assert_eq!(
        charts.series["temperature"].back(),
        Some(&(1_700_000_000_000, 212.0)),
        "charted on the platform's time, not the arrival's"
    );
}

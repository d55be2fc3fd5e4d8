//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use core::time::Duration;

use mqtt_flows::DeviceOutput;
use mqtt_core::{ConnectionError, Event, TransportFailure};

use super::{Action, PAGE};
use crate::model::Dir;
use crate::state::test_support::{ev, flow, run, start, started};

#[test]
fn device_counts_sent_and_received() {
    let state = run(
        started(PAGE),
        [
            flow(1, Action::Output(DeviceOutput::Sent(b"hello".to_vec()))),
            flow(1, Action::Output(DeviceOutput::Received(b"elloh".to_vec()))),
            flow(9, Action::Output(DeviceOutput::Received(b"stale".to_vec()))),
            ev(Event::ConnectionLost {
                error: ConnectionError::Transport(TransportFailure::Dropped("gone".into())),
                reconnect_in: Some(Duration::from_secs(1)),
                attempt: 1,
            }),
        ],
    );
    let s = &state.pages.device.stats;
    assert_eq!((s.sent, s.received, s.errors), (1, 1, 1));
    assert_eq!(s.last[0], (Dir::In, "elloh".into()));
    assert!(s.running, "a retried loss keeps the loop running");
    // Starting again resets the counters.
    let state = state.apply(start(2, PAGE));
    assert_eq!(state.pages.device.stats.sent, 0);
}

#[test]
fn bridge_refusals_show_the_close_reason() {
    let state = started(PAGE).apply(ev(Event::ConnectionLost {
        error: ConnectionError::Transport(TransportFailure::Closed {
            code: 4403,
            reason: "origin not allowed".into(),
        }),
        reconnect_in: None,
        attempt: 1,
    }));
    assert!(state.conn.status.text().contains("origin not allowed"));
    assert!(!state.pages.device.stats.running);
    assert_eq!(state.pages.device.stats.errors, 1);
}

/// An output of another page's flow never reaches this one, even under the current generation.
#[test]
fn a_flow_output_reaches_only_the_page_that_runs() {
    use crate::pages::echo_host;
    let state = started(PAGE);
    let output = mqtt_flows::EchoOutput {
        received: b"x".to_vec(),
        sent: b"x".to_vec(),
    };
    let after = state.clone().apply(flow(1, echo_host::Action::Output(output)));
    assert_eq!(after, state);
}

//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use core::time::Duration;

use mqtt_core::flows::DeviceOutput;
use mqtt_core::{ConnectionError, Event, TransportFailure};

use crate::state::test_support::{ev, run, started};
use crate::state::{Action, Dir, Page};

#[test]
fn device_counts_sent_and_received() {
    let state = run(
        started(Page::Device),
        [
            Action::DeviceOutput {
                generation: 1,
                output: DeviceOutput::Sent(b"hello".to_vec()),
            },
            Action::DeviceOutput {
                generation: 1,
                output: DeviceOutput::Received(b"elloh".to_vec()),
            },
            Action::DeviceOutput {
                generation: 9,
                output: DeviceOutput::Received(b"stale".to_vec()),
            },
            ev(Event::ConnectionLost {
                error: ConnectionError::Transport(TransportFailure::Dropped("gone".into())),
                reconnect_in: Some(Duration::from_secs(1)),
                attempt: 1,
            }),
        ],
    );
    let s = &state.device.stats;
    assert_eq!((s.sent, s.received, s.errors), (1, 1, 1));
    assert_eq!(s.last[0], (Dir::In, "elloh".into()));
    assert!(s.running, "a retried loss keeps the loop running");
    // Starting again resets the counters.
    let state = state.apply(Action::Started {
        generation: 2,
        purpose: Page::Device,
    });
    assert_eq!(state.device.stats.sent, 0);
}

#[test]
fn bridge_refusals_show_the_close_reason() {
    let state = started(Page::Device).apply(ev(Event::ConnectionLost {
        error: ConnectionError::Transport(TransportFailure::Closed {
            code: 4403,
            reason: "origin not allowed".into(),
        }),
        reconnect_in: None,
        attempt: 1,
    }));
    assert!(state.conn.status.text().contains("origin not allowed"));
    assert!(!state.device.stats.running);
    assert_eq!(state.device.stats.errors, 1);
}

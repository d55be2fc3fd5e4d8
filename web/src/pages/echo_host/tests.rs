//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use mqtt_flows::rotate::Direction;
use mqtt_flows::EchoOutput;
use mqtt_core::Event;

use super::{Action, PAGE};
use crate::model::loop_stats::LAST_CAP;
use crate::model::{Dir, Report};
use crate::state::test_support::{edit, ev, flow, started};

#[test]
fn echo_host_counts_and_keeps_the_last_messages() {
    let mut state = started(PAGE).apply(edit(Action::SetDirection(Direction::Right)));
    assert_eq!(state.pages.echo_host.direction, Direction::Right);
    assert!(state.pages.echo_host.stats.running);
    for i in 0..12 {
        let output = EchoOutput {
            received: format!("m{i}").into_bytes(),
            sent: format!("{i}m").into_bytes(),
        };
        state = state.apply(flow(1, Action::Output(output)));
    }
    let stats = &state.pages.echo_host.stats;
    assert_eq!((stats.received, stats.sent, stats.errors), (12, 12, 0));
    assert_eq!(stats.last.len(), LAST_CAP);
    assert_eq!(stats.last[0], (Dir::Out, "11m".into()));
    let state = state.apply(Report::Stopped.into());
    assert!(!state.pages.echo_host.stats.running);
    assert_eq!(state.conn.purpose, None);
}

#[test]
fn refused_subscription_is_reported() {
    let state = started(PAGE).apply(ev(Event::Subscribed {
        request: mqtt_core::RequestId(1),
        granted: vec![None],
    }));
    assert_eq!(state.pages.echo_host.stats.errors, 1);
    assert!(state.notice.unwrap().contains("not authorized"));
}

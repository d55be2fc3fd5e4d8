//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use mqtt_core::flows::rotate::Direction;
use mqtt_core::flows::EchoOutput;
use mqtt_core::Event;

use super::state::Action as EchoAction;
use crate::state::loop_stats::LAST_CAP;
use crate::state::test_support::{ev, started};
use crate::state::{Action, Dir, Page};

#[test]
fn echo_host_counts_and_keeps_the_last_messages() {
    let mut state =
        started(Page::Echo).apply(Action::Echo(EchoAction::SetDirection(Direction::Right)));
    assert_eq!(state.echo.direction, Direction::Right);
    assert!(state.echo.stats.running);
    for i in 0..12 {
        let output = EchoOutput {
            received: format!("m{i}").into_bytes(),
            sent: format!("{i}m").into_bytes(),
        };
        state = state.apply(Action::EchoOutput {
            generation: 1,
            output,
        });
    }
    assert_eq!(
        (
            state.echo.stats.received,
            state.echo.stats.sent,
            state.echo.stats.errors
        ),
        (12, 12, 0)
    );
    assert_eq!(state.echo.stats.last.len(), LAST_CAP);
    assert_eq!(state.echo.stats.last[0], (Dir::Out, "11m".into()));
    let state = state.apply(Action::Stopped);
    assert!(!state.echo.stats.running);
    assert_eq!(state.conn.purpose, None);
}

#[test]
fn refused_subscription_is_reported() {
    let state = started(Page::Echo).apply(ev(Event::Subscribed {
        request: mqtt_core::RequestId(1),
        granted: vec![None],
    }));
    assert_eq!(state.echo.stats.errors, 1);
    assert!(state.notice.unwrap().contains("not authorized"));
}

//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use super::state::{Action as PlatformAction, Field as PlatformField};
use crate::state::log::LogAction;
use crate::state::test_support::{run, started};
use crate::state::{Action, Page};

#[test]
fn platform_writes_go_to_the_device_topic() {
    let state = run(
        started(Page::Platform),
        [
            Action::Platform(PlatformAction::Set(PlatformField::Identity, " 007 ".into())),
            Action::Sent {
                generation: 1,
                at_ms: 1,
                topic: "007/temperature".into(),
                payload: b"212".to_vec(),
                qos: 1,
                retain: false,
            },
        ],
    );
    assert_eq!(state.platform.topic(), "007/temperature");
    assert_eq!(state.platform.log.borrow().entries.len(), 1);
    let state = run(
        state,
        [
            Action::Navigate(Page::Platform),
            Action::Platform(PlatformAction::Log(LogAction::TogglePause)),
        ],
    );
    assert!(state.platform.log.borrow().paused);
    assert!(!state.console.log.borrow().paused);
}

//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use super::state::Field;
use super::{Action, PAGE};
use crate::model::log::LogAction;
use crate::model::Common;
use crate::state::test_support::{edit, run, sent, started};

#[test]
fn platform_writes_go_to_the_device_topic() {
    let state = run(
        started(PAGE),
        [
            edit(Action::Set(Field::Identity, " 007 ".into())),
            sent(1, "007/temperature", "212", 1),
        ],
    );
    assert_eq!(state.pages.platform.topic(), "007/temperature");
    assert_eq!(state.pages.platform.log.borrow().entries.len(), 1);
    let state = run(
        state,
        [
            Common::Navigate(PAGE).into(),
            edit(Action::Log(LogAction::TogglePause)),
        ],
    );
    assert!(state.pages.platform.log.borrow().paused);
    assert!(!state.pages.console.log.borrow().paused);
}

//! Helpers shared by the reducer tests of the app and of each page.

use mqtt_core::{Event, Message, QoS};
use mqtt_flows::Credentials;

use super::{Action, State};
use crate::model::settings::Action as SettingsAction;
use crate::model::settings::Field;
use crate::model::{Common, Dir, Page, Report, Row};
use crate::pages::PageAction;

pub(crate) fn run(state: State, actions: impl IntoIterator<Item = Action>) -> State {
    actions.into_iter().fold(state, State::apply)
}

pub(crate) fn started(purpose: Page) -> State {
    let state = State::new("ws://127.0.0.1:9/mqtt".into(), purpose, None, 0);
    run(state, [set(Field::Identity, "007"), start(1, purpose)])
}

/// A connection panel field typed.
pub(crate) fn set(field: Field, value: &str) -> Action {
    Common::Settings(SettingsAction::Set(field, value.into())).into()
}

/// The runtime opened a client for `purpose`.
pub(crate) fn start(generation: u64, purpose: Page) -> Action {
    Report::Started {
        generation,
        purpose,
    }
    .into()
}

/// An edit on a page.
pub(crate) fn edit(action: impl Into<PageAction>) -> Action {
    Action::Page(action.into())
}

/// An output of the flow of the client of `generation`.
pub(crate) fn flow(generation: u64, action: impl Into<PageAction>) -> Action {
    Action::Flow {
        generation,
        action: action.into(),
    }
}

/// A publish of the client of generation 1.
pub(crate) fn sent(at_ms: u64, topic: &str, payload: &str, qos: u8) -> Action {
    Report::Sent {
        generation: 1,
        row: Row {
            at_ms,
            dir: Dir::Out,
            topic: topic.into(),
            qos,
            retain: false,
            payload: payload.as_bytes().to_vec(),
        },
    }
    .into()
}

pub(crate) fn message(topic: &str, payload: &str) -> Event {
    Event::Message(Message {
        topic: topic.into(),
        payload: payload.as_bytes().to_vec(),
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
    })
}

pub(crate) fn ev(event: Event) -> Action {
    Report::Event {
        generation: 1,
        at_ms: 1_000,
        event,
    }
    .into()
}

pub(crate) fn creds() -> Credentials {
    Credentials {
        username: "007".into(),
        password: "b7b34f55e948b94841820ea50868a2490632d78f".into(),
    }
}

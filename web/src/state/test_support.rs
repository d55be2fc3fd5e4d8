//! Helpers shared by the reducer tests of the app and of each page.

use mqtt_core::flows::Credentials;
use mqtt_core::{Event, Message, QoS};

use super::{Action, Field, Page, State};

pub fn run(state: State, actions: impl IntoIterator<Item = Action>) -> State {
    actions.into_iter().fold(state, State::apply)
}

pub fn started(purpose: Page) -> State {
    let state = State::new("ws://127.0.0.1:9/mqtt".into(), purpose, None, 0);
    run(
        state,
        [
            Action::Set(Field::Identity, "007".into()),
            Action::Started {
                generation: 1,
                purpose,
            },
        ],
    )
}

pub fn message(topic: &str, payload: &str) -> Event {
    Event::Message(Message {
        topic: topic.into(),
        payload: payload.as_bytes().to_vec(),
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
    })
}

pub fn ev(event: Event) -> Action {
    Action::Event {
        generation: 1,
        at_ms: 1_000,
        event,
    }
}

pub fn creds() -> Credentials {
    Credentials {
        username: "007".into(),
        password: "b7b34f55e948b94841820ea50868a2490632d78f".into(),
    }
}

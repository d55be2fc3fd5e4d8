//! The seed flows as sans-IO state machines on top of an `mqtt-core` [`Session`]: events in,
//! commands out. Murano activation (legacy `activate` and `$provision`), the Murano console,
//! the Azure Sphere echo host and its device loop.
//!
//! A driver (the CLI, the web app, a test) feeds every session event to the flow, applies the
//! flow's commands to the session with [`apply`], and merges the flow's timeout with the
//! session's ([`earliest`]). [`pump`] does the middle step.
#![forbid(unsafe_code)]

mod activation;
mod console;
mod device;
mod echo_host;
pub mod resource;
pub mod rotate;

pub use activation::{Activation, ActivationError, ActivationMode, Credentials, LoginStyle};
pub use console::{Console, ConsoleMode, ConsoleOutput};
pub use device::{Device, DeviceConfig, DeviceOutput};
pub use echo_host::{EchoHost, EchoHostConfig, EchoOutput};

/// Kept at its old path for the drivers that merge a flow's timeout with the session's.
pub use mqtt_core::time::earliest;
use mqtt_core::{CommandError, Event, Instant, QoS, Session};

/// What a flow asks of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Subscribe to these filters, each at its requested QoS ([`Session::subscribe`]).
    Subscribe(Vec<(String, QoS)>),
    /// Unsubscribe from these filters ([`Session::unsubscribe`]).
    Unsubscribe(Vec<String>),
    /// Publish one message ([`Session::publish`]).
    Publish {
        /// The topic name (MQTT 3.1.1 §3.3.2.1 Topic Name).
        topic: String,
        /// The application message (MQTT 3.1.1 §3.3.3 Payload).
        payload: Vec<u8>,
        /// The QoS to publish with (MQTT 3.1.1 §3.3.1.2 QoS).
        qos: QoS,
        /// The RETAIN flag (MQTT 3.1.1 §3.3.1.3).
        retain: bool,
    },
    /// End the session cleanly ([`Session::disconnect`]): the flow is done.
    Disconnect,
}

/// A sans-IO flow driven by session events and its own timer.
pub trait Flow {
    /// What the flow reports to its user (lines to print, values to show).
    type Output;

    /// Called with every event the session reports, in order.
    fn handle_event(&mut self, now: Instant, event: &Event);

    /// Called when `poll_timeout` is due.
    fn handle_timeout(&mut self, _now: Instant) {}

    /// When the flow wants [`Flow::handle_timeout`]; `None` (the default) for never.
    #[must_use = "without a timer at this instant the flow's own steps stall"]
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// The next command for the session, oldest first; drain it after every input.
    #[must_use = "a command dropped never reaches the session"]
    fn poll_command(&mut self) -> Option<Command>;

    /// The next output for the user, oldest first; drain it after every input.
    #[must_use = "an output dropped never reaches the user"]
    fn poll_output(&mut self) -> Option<Self::Output>;
}

/// Applies a flow's command to the session.
pub fn apply(session: &mut Session, now: Instant, command: Command) -> Result<(), CommandError> {
    match command {
        Command::Subscribe(list) => {
            let filters: Vec<(&str, QoS)> = list.iter().map(|(f, q)| (f.as_str(), *q)).collect();
            session.subscribe(now, &filters).map(drop)
        }
        Command::Unsubscribe(list) => {
            let filters: Vec<&str> = list.iter().map(String::as_str).collect();
            session.unsubscribe(now, &filters).map(drop)
        }
        Command::Publish {
            topic,
            payload,
            qos,
            retain,
        } => session
            .publish(now, &topic, &payload, qos, retain)
            .map(drop),
        Command::Disconnect => {
            session.disconnect(now);
            Ok(())
        }
    }
}

/// Applies all of `flow`'s pending commands to `session`. Errors (e.g. a full queue) are
/// returned in order so the driver can count or show them; the other commands still apply.
pub fn pump<F: Flow>(session: &mut Session, flow: &mut F, now: Instant) -> Vec<CommandError> {
    let mut errors = Vec::new();
    while let Some(command) = flow.poll_command() {
        if let Err(e) = apply(session, now, command) {
            errors.push(e);
        }
    }
    errors
}

// The unit tests also run in headless Chromium (`wasm-pack test --headless --chrome`).
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg(test)]
mod tests;

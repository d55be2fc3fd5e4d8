//! What the console starts: a console flow on a client shared by the console tabs of one
//! identity, and the publishes and batches it sends.

use mqtt_flows::{Console, ConsoleMode};
use mqtt_core::{qos_from_u8, Options, QoS};

use super::state::{Action, ConsoleState as State, PAGE};
use crate::runtime::{required, wall_ms, with_credentials, Ops};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Connect,
    Publish,
    /// `$resource.batch` from the batch field (current API).
    SendBatch,
}

pub fn run(op: Op, state: &State, ops: Ops<'_, Action>) -> Result<(), String> {
    match op {
        Op::Connect => connect(ops),
        Op::Publish => publish(state, &ops),
        Op::SendBatch => send_batch(state, &ops),
    }
}

fn connect(mut ops: Ops<'_, Action>) -> Result<(), String> {
    let s = ops.settings;
    let identity = required(&s.identity, "device identity")?;
    let mut options = match s.api {
        ConsoleMode::Legacy => with_credentials(
            Options::new(s.client_id_for(PAGE)),
            &s.username,
            &s.password,
        ),
        // The current API: the log-in style decides client id and user name.
        ConsoleMode::Resource => s.login.login_options(identity, &s.password),
    };
    // A persistent session, shared by every console tab of this identity: one connection, and
    // accepted QoS 1/2 publishes survive a reload or a closed tab. Not with an empty client id
    // (the token-only log-in): the broker assigns one, which needs a clean session
    // [MQTT-3.1.3-7] and cannot be shared.
    let persistent = !options.client_id.is_empty();
    options.clean_session = !persistent;
    let flow = Console::new(identity, s.api);
    ops.run_flow(PAGE, options, persistent, flow, |output| Action::Output {
        at_ms: wall_ms(),
        output,
    })
}

fn publish(state: &State, ops: &Ops<'_, Action>) -> Result<(), String> {
    let resource = required(&state.topic, "topic")?;
    let console = Console::new(ops.settings.identity.trim(), ops.settings.api);
    let topic = console.topic_for(resource);
    let qos = qos_from_u8(state.qos).unwrap_or(QoS::AtMostOnce);
    console
        .check(qos, state.message.as_bytes())
        .map_err(|e| e.to_string())?;
    ops.publish(PAGE, topic, &state.message, qos, state.retain)
}

fn send_batch(state: &State, ops: &Ops<'_, Action>) -> Result<(), String> {
    let qos = qos_from_u8(state.qos).unwrap_or(QoS::AtMostOnce);
    let now_us = wall_ms().saturating_mul(1000);
    Console::new(ops.settings.identity.trim(), ConsoleMode::Resource)
        .check(qos, b"")
        .map_err(|e| e.to_string())?;
    let (topic, body) = Console::batch(&state.batch, now_us).map_err(|e| e.to_string())?;
    let body = String::from_utf8(body).map_err(|e| e.to_string())?;
    ops.publish(PAGE, topic, &body, qos, false)
}

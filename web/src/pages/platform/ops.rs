//! What the platform page starts: a portal client, and the writes it publishes.

use mqtt_core::{Options, QoS};

use super::state::{Action, PlatformState as State, PAGE};
use crate::runtime::{required, with_credentials, Ops};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Connect,
    Write,
}

pub fn run(op: Op, state: &State, mut ops: Ops<'_, Action>) -> Result<(), String> {
    match op {
        Op::Connect => {
            let user = required(&state.username, "platform user name")?;
            let options = with_credentials(
                Options::new(format!("{user}-portal")),
                user,
                &state.password,
            );
            ops.open(PAGE, options, false)?;
        }
        Op::Write => {
            required(&state.identity, "device identity")?;
            required(&state.resource, "resource")?;
            let topic = state.topic();
            ops.publish(PAGE, topic, &state.value, QoS::AtLeastOnce, false)?;
        }
    }
    Ok(())
}

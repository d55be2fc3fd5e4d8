//! What the echo host starts: the echo host flow on a client of its own.

use mqtt_flows::{EchoHost, EchoHostConfig};
use mqtt_core::QoS;

use super::state::{Action, EchoState as State, PAGE};
use crate::runtime::{required, Ops};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Start,
}

pub fn run(op: Op, state: &State, mut ops: Ops<'_, Action>) -> Result<(), String> {
    match op {
        Op::Start => {
            let config = EchoHostConfig {
                in_topic: required(&state.in_topic, "input topic")?.into(),
                out_topic: required(&state.out_topic, "output topic")?.into(),
                direction: state.direction,
                qos: QoS::AtMostOnce,
            };
            let options = ops.device_options(PAGE);
            ops.run_flow(PAGE, options, false, EchoHost::new(config), Action::Output)?;
        }
    }
    Ok(())
}

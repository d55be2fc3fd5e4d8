//! What the device page starts: the device loop on a client of its own.

use core::time::Duration;

use mqtt_flows::{Device, DeviceConfig};
use mqtt_core::QoS;

use super::state::{Action, DeviceState as State, PAGE};
use crate::runtime::{required, Ops};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Start,
}

pub fn run(op: Op, state: &State, mut ops: Ops<'_, Action>) -> Result<(), String> {
    match op {
        Op::Start => {
            let interval = state
                .interval()
                .ok_or("the interval must be a number of milliseconds")?;
            let config = DeviceConfig {
                in_topic: required(&state.in_topic, "input topic")?.into(),
                out_topic: required(&state.out_topic, "output topic")?.into(),
                interval: Duration::from_millis(interval),
                message: state.message.clone(),
                qos: QoS::AtMostOnce,
            };
            let options = ops.device_options(PAGE);
            ops.run_flow(PAGE, options, false, Device::new(config), Action::Output)?;
        }
    }
    Ok(())
}

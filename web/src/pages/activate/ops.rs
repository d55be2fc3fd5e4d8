//! What the activation page starts: the activation flow on an anonymous client of its own.

use mqtt_flows::{Activation, ActivationMode, LoginStyle};

use super::state::{Action, ActivationState as State, PAGE};
use crate::runtime::{required, Ops};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Activate,
}

pub fn run(op: Op, state: &State, mut ops: Ops<'_, Action>) -> Result<(), String> {
    match op {
        Op::Activate => {
            let identity = required(&ops.settings.identity, "device identity")?;
            // The log-in styles and a pushed reply belong to the current API.
            let current = state.mode == ActivationMode::Provision;
            let login = if current {
                state.login
            } else {
                LoginStyle::Identity
            };
            let flow = Activation::new(identity, state.mode)
                .with_login(login)
                .subscribing(state.subscribe || !current);
            let options = flow.session_options();
            ops.run_flow(PAGE, options, false, flow, Action::Outcome)?;
        }
    }
    Ok(())
}

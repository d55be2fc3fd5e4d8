//! The loop `echo-host` and `device` share.

use mqtt_core::Session;
use mqtt_flows::Flow;
use mqttws::{Driver, Output, Step};

use super::connect::ConnectArgs;
use super::io::{inputs, warn, Input, Out};
use crate::exit::CliError;

/// The loop of `echo-host` and `device`: runs `flow` until interrupted, or until `count` of its
/// outputs counted (`report` prints one and says whether it counts).
pub(super) async fn run_until_done<F: Flow>(
    link: &ConnectArgs,
    in_topic: &str,
    flow: F,
    count: Option<u64>,
    verb: &str,
    mut report: impl FnMut(&Out, F::Output) -> Result<bool, CliError>,
) -> Result<(), CliError> {
    let (mut watch, connector, options) = link.start(vec![in_topic.to_owned()], true)?;
    let mut driver = Driver::new(connector, Session::new(options), flow);
    driver.connect();
    let (_keep, mut input) = inputs(false);
    let out = Out;
    let mut counted = 0u64;
    while let Some(step) = driver.next_or(&mut input).await {
        match step {
            Step::Output(Output::Flow(output)) => {
                if report(&out, output)? {
                    counted += 1;
                    if count.is_some_and(|c| counted >= c) {
                        driver.disconnect();
                    }
                }
            }
            Step::Output(Output::Event(event)) => watch.event(&driver, &event)?,
            Step::Output(Output::CommandFailed(e)) => {
                warn(format_args!("cannot {verb}: {e}"));
            }
            Step::External(Some(Input::Interrupt)) => driver.disconnect(),
            Step::External(_) => {}
        }
    }
    Ok(())
}

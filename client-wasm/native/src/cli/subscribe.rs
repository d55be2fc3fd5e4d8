//! `mqttws sub`: subscribe and print what arrives (like mosquitto_sub).

use clap::Args;
use mqtt_core::{Event, QoS, Session};
use mqttws::{Driver, Output, Step};

use super::connect::ConnectArgs;
use super::io::{inputs, text, Input, Out};
use super::topics::{check_filter, qos};
use crate::exit::{CliError, Failure};

#[derive(Args, Debug)]
pub(crate) struct SubArgs {
    #[command(flatten)]
    pub(super) link: ConnectArgs,
    /// Topic filter (repeatable)
    #[arg(short = 't', long = "topic", value_name = "FILTER", required = true)]
    topics: Vec<String>,
    /// Quality of service requested
    #[arg(short = 'q', long, value_name = "0|1|2", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    /// Exit after COUNT messages
    #[arg(short = 'C', long = "count", value_name = "COUNT")]
    count: Option<u64>,
    /// Print 'topic payload' instead of the payload alone
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Keep the session on the broker
    #[arg(long)]
    no_clean: bool,
}

pub(super) async fn subscribe(args: SubArgs) -> Result<(), CliError> {
    for filter in &args.topics {
        check_filter(filter)?;
    }
    let (mut watch, connector, options) = args.link.start(args.topics.clone(), !args.no_clean)?;
    let mut driver = Driver::plain(connector, Session::new(options));
    let filters: Vec<(&str, QoS)> = args
        .topics
        .iter()
        .map(|t| (t.as_str(), qos(args.qos)))
        .collect();
    driver
        .subscribe(&filters)
        .map_err(|e| CliError::new(Failure::Usage, e))?;
    driver.connect();
    let (_keep, mut input) = inputs(false);
    let out = Out;
    let mut received = 0u64;
    let mut finished = args.count == Some(0);
    if finished {
        driver.disconnect();
    }
    while let Some(step) = driver.next_or(&mut input).await {
        match step {
            Step::Output(Output::Event(Event::Message(m))) if !finished => {
                if args.verbose {
                    out.line(format_args!("{} {}", m.topic, text(&m.payload)))?;
                } else {
                    out.line(text(&m.payload))?;
                }
                received += 1;
                if args.count.is_some_and(|c| received >= c) {
                    finished = true;
                    driver.disconnect();
                }
            }
            Step::Output(Output::Event(event)) => watch.event(&driver, &event)?,
            Step::Output(_) => {}
            Step::External(Some(Input::Interrupt)) => {
                finished = true;
                driver.disconnect();
            }
            Step::External(_) => {}
        }
    }
    Ok(())
}

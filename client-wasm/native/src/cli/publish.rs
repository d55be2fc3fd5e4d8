//! `mqttws pub`: publish a message, or COUNT numbered ones (like mosquitto_pub).

use clap::Args;
use mqtt_core::{Event, Session, Will};
use mqttws::{Driver, Output};

use super::connect::ConnectArgs;
use super::io::debug;
use super::topics::{check_topic, qos};
use crate::exit::{CliError, Failure};

#[derive(Args, Debug)]
pub(crate) struct PubArgs {
    #[command(flatten)]
    pub(super) link: ConnectArgs,
    /// Topic to publish on
    #[arg(short = 't', long, value_name = "TOPIC")]
    topic: String,
    /// Message payload (with -n: each payload is 'MSG <n>', n from 1 to COUNT)
    #[arg(short = 'm', long, value_name = "MSG")]
    message: String,
    /// Quality of service
    #[arg(short = 'q', long, value_name = "0|1|2", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    /// Retain the message
    #[arg(short = 'r', long)]
    retain: bool,
    /// Publish COUNT numbered messages (load tests)
    #[arg(short = 'n', long, value_name = "COUNT", default_value_t = 1)]
    count: u64,
    /// Will topic
    #[arg(long, value_name = "T")]
    will_topic: Option<String>,
    /// Will payload
    #[arg(long, value_name = "P", requires = "will_topic", default_value = "")]
    will_payload: String,
    /// Will QoS
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    will_qos: u8,
    /// Retain the will
    #[arg(long)]
    will_retain: bool,
    /// Start a clean session (the default)
    #[arg(long, overrides_with = "no_clean")]
    clean: bool,
    /// Keep the session on the broker and reconnect when the link drops, resending what was
    /// not acknowledged
    #[arg(long, overrides_with = "clean")]
    no_clean: bool,
}

/// At most this many publishes wait in the session at once (its queue holds 1,000).
const PUBLISH_WINDOW: usize = 500;

pub(super) async fn publish(args: PubArgs) -> Result<(), CliError> {
    check_topic(&args.topic)?;
    if let Some(will) = &args.will_topic {
        check_topic(will)?;
    }
    let (mut watch, connector, mut options) = args.link.start(Vec::new(), !args.no_clean)?;
    // A kept session (--no-clean) outlives a dropped link: reconnect and let the session resend
    // what was not acknowledged (MQTT-4.4.0-1), as `sub` does. A clean one would lose it anyway.
    options.reconnect.enabled = args.no_clean;
    options.will = args.will_topic.as_ref().map(|topic| Will {
        topic: topic.clone(),
        payload: args.will_payload.clone().into_bytes(),
        qos: qos(args.will_qos),
        retain: args.will_retain,
    });
    let mut driver = Driver::plain(connector, Session::new(options));
    driver.connect();
    let (total, qos) = (args.count, qos(args.qos));
    let payload = |n: u64| {
        if total == 1 {
            args.message.clone()
        } else {
            format!("{} {n}", args.message)
        }
    };
    let (mut next, mut done) = (1u64, 0u64);
    if total == 0 {
        driver.disconnect();
    }
    while let Some(output) = driver.next().await {
        match output {
            Output::Event(Event::Published { .. }) => {
                done += 1;
                if done == total {
                    driver.disconnect();
                }
            }
            Output::Event(Event::PublishFailed { reason, .. }) => {
                return Err(CliError::new(
                    Failure::Network,
                    format!("a message was not delivered: {reason}"),
                ));
            }
            Output::Event(event) => watch.event(&driver, &event)?,
            Output::Flow(never) => match never {},
            Output::CommandFailed(_) => {}
        }
        while watch.connected_once
            && next <= total
            && driver.session().pending_count() < PUBLISH_WINDOW
        {
            driver
                .publish(&args.topic, payload(next).as_bytes(), qos, args.retain)
                .map_err(|e| {
                    CliError::new(
                        Failure::of_command(&e),
                        format!("cannot publish on '{}': {e}", args.topic),
                    )
                })?;
            next += 1;
        }
    }
    if done < total {
        return Err(CliError::new(
            Failure::Network,
            format!("the connection ended after {done} of {total} messages were acknowledged"),
        ));
    }
    debug(
        args.link.run.debug,
        format_args!("{done} message(s) published"),
    );
    Ok(())
}

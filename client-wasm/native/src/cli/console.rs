//! `mqttws console`: the Murano device console (seed publish.py).

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use mqtt_core::flows::resource::{self, ResourceError};
use mqtt_core::flows::{Console, ConsoleMode, ConsoleOutput, LoginStyle};
use mqtt_core::{Event, QoS, Session};
use mqttws::{credentials, BrokerUrl, Driver, Output, Step};

use super::activate::login_style;
use super::connect::{start, AuthArgs, RunArgs, TlsArgs};
use super::io::{inputs, text, warn, Input, Out};
use super::topics::qos;
use crate::exit::{CliError, Failure};

pub(super) const CONSOLE_HELP: &str = "INPUT:
  Standard input gives a topic line, then a message line, as often as wanted (what the seed's
  'Topic? ' and 'Message? ' prompts ask for; the prompts are shown only when stdin is a terminal).
  A topic not starting with '<identity>/' names a resource of the device: 'temperature' means
  '<identity>/temperature' (devices may only use their own topics).
  An empty topic line or the end of input finishes: pending messages are acknowledged first.

MURANO'S CURRENT API (--resource):
  'data_in' means '$resource/data_in'. The topic '$resource.batch' takes one line of
  '[TIMESTAMP] alias=value alias=value' entries separated by ';' (no timestamp: now, in
  microseconds), or a JSON array as is. Platform writes arrive on
  '$resource/<alias>/<timestamp>' and are printed with 'time = ' (the timestamp read as seconds,
  milliseconds or microseconds by its magnitude). QoS 2 (-q 2) and values over 1048576 bytes
  are refused before anything is sent (exit status 2).

EXIT STATUS: see 'mqttws --help'.";

#[derive(Args, Debug)]
pub(crate) struct ConsoleArgs {
    /// Broker URL
    #[arg(long, value_name = "URL")]
    url: BrokerUrl,
    /// Device identity (client id and user name)
    #[arg(long, value_name = "ID", required_unless_present = "credentials")]
    identity: Option<String>,
    /// Device password (from activation)
    #[arg(
        long,
        value_name = "PW",
        required_unless_present = "credentials",
        requires = "identity"
    )]
    password: Option<String>,
    /// Read identity and password from a file written by `activate --save`
    #[arg(long, value_name = "FILE", conflicts_with_all = ["identity", "password"])]
    credentials: Option<PathBuf>,
    /// Murano's current API: publish on $resource/<alias>, receive platform writes on
    /// $resource/<alias>/<timestamp>, batches on $resource.batch
    #[arg(long)]
    resource: bool,
    /// How to log in: `identity` (client id and user name = identity) or `token-only` (empty
    /// client id and user name, the password alone)
    #[arg(long, value_name = "STYLE", default_value = "identity", value_parser = login_style)]
    login: LoginStyle,
    /// Quality of service of publishes and of the subscription
    #[arg(short = 'q', long, value_name = "0|1|2", default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    pub(super) run: RunArgs,
}

pub(super) async fn console(args: ConsoleArgs) -> Result<(), CliError> {
    let (identity, password) = match (&args.credentials, &args.identity, &args.password) {
        (Some(path), _, _) => {
            let c = credentials::load(path).map_err(|e| CliError::new(Failure::Usage, e))?;
            (c.username, c.password)
        }
        (None, Some(identity), Some(password)) => (identity.clone(), password.clone()),
        _ => {
            return Err(CliError::new(
                Failure::Usage,
                "give --identity and --password, or --credentials",
            ))
        }
    };
    let mode = match args.resource {
        true => ConsoleMode::Resource,
        false => ConsoleMode::Legacy,
    };
    let flow = Console::new(identity.clone(), mode);
    let qos = qos(args.qos);
    flow.check(qos, b"")
        .map_err(|e| CliError::new(Failure::Usage, e))?;
    let login = args.login.login_options(&identity, &password);
    let auth = AuthArgs {
        id: Some(login.client_id),
        username: login.username,
        password: Some(password),
    };
    let (mut watch, connector, options) = start(
        &args.url,
        &auth,
        &args.tls,
        &args.run,
        vec![flow.filter()],
        true,
    )?;
    let mut driver = Driver::new(connector, Session::new(options), flow);
    driver.connect();
    let tty = std::io::stdin().is_terminal();
    let (_keep, mut input) = inputs(true);
    let out = Out;
    let mut topic: Option<String> = None;
    let mut unacked = BTreeSet::new();
    let mut closing = false;
    let mut prompted = false;
    while let Some(step) = driver.next_or(&mut input).await {
        match step {
            Step::Output(Output::Flow(ConsoleOutput::Received {
                topic,
                payload,
                timestamp,
                ..
            })) => {
                out.line("Message received!")?;
                out.line(format_args!("topic = {topic}"))?;
                out.line(format_args!("payload = {}", text(&payload)))?;
                if let Some(ms) = timestamp.as_deref().and_then(resource::timestamp_ms) {
                    out.line(format_args!("time = {}", resource::format_utc(ms)))?;
                }
            }
            Step::Output(Output::Flow(ConsoleOutput::Sent { .. })) => {}
            Step::Output(Output::Event(Event::Published { id })) => {
                if unacked.remove(&id) {
                    out.line("Message successfully sent!")?;
                }
            }
            Step::Output(Output::Event(Event::PublishFailed { id, reason })) => {
                if unacked.remove(&id) {
                    warn(format_args!("message not delivered: {reason}"));
                }
            }
            // Murano pushes platform writes without a subscription: a refused `$resource/#`
            // is worth a warning, not the end.
            Step::Output(Output::Event(Event::Subscribed { granted, .. }))
                if mode == ConsoleMode::Resource && granted.iter().any(Option::is_none) =>
            {
                warn(format_args!(
                    "the broker refused {} (SUBACK 0x80); platform writes still arrive if it pushes them, as Murano does",
                    driver.flow().filter()
                ));
                if tty && !prompted {
                    prompted = true;
                    out.prompt("Topic? ")?;
                }
            }
            Step::Output(Output::Event(event)) => {
                watch.event(&driver, &event)?;
                if tty && !prompted && matches!(event, Event::Subscribed { .. }) {
                    prompted = true;
                    out.prompt("Topic? ")?;
                }
            }
            Step::Output(Output::CommandFailed(e)) => {
                return Err(CliError::new(Failure::of_command(&e), e))
            }
            Step::External(Some(Input::Line(line))) if !closing => match topic.take() {
                None if line.trim().is_empty() => closing = true,
                None => {
                    topic = Some(line.trim().to_string());
                    if tty {
                        out.prompt("Message? ")?;
                    }
                }
                Some(resource) => {
                    let (name, payload) = match outgoing(driver.flow(), &resource, &line, qos) {
                        Ok(message) => message,
                        Err(e) => {
                            out.line("Failed to send message...")?;
                            return Err(CliError::new(
                                Failure::Usage,
                                format!("not sent to '{resource}': {e}"),
                            ));
                        }
                    };
                    match driver.publish(&name, &payload, qos, false) {
                        Ok(id) => {
                            unacked.insert(id);
                        }
                        Err(e) => {
                            out.line("Failed to send message...")?;
                            warn(format_args!("cannot publish on '{name}': {e}"));
                        }
                    }
                    if tty {
                        out.prompt("Topic? ")?;
                    }
                }
            },
            Step::External(Some(Input::Eof | Input::Interrupt)) => closing = true,
            Step::External(_) => {}
        }
        if closing && unacked.is_empty() && driver.session().is_connected() {
            driver.disconnect();
        }
    }
    Ok(())
}

/// The topic and payload for a topic line and a message line, or why Murano's `$resource` API
/// would refuse them (checked before sending).
fn outgoing(
    console: &Console,
    resource: &str,
    line: &str,
    qos: QoS,
) -> Result<(String, Vec<u8>), ResourceError> {
    if console.mode() == ConsoleMode::Resource && resource == resource::BATCH_TOPIC {
        let now_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        return Console::batch(line, now_us);
    }
    console.check(qos, line.as_bytes())?;
    Ok((console.topic_for(resource), line.as_bytes().to_vec()))
}

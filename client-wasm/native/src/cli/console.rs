//! `mqttws console`: the Murano device console (seed publish.py).

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use mqtt_core::{Event, PublishId, QoS, Session};
use mqtt_flows::resource::{self, ResourceError};
use mqtt_flows::{Console, ConsoleMode, ConsoleOutput, LoginStyle};
use mqttws::{credentials, BrokerUrl, Driver, Output, Step};

use super::activate::login_style;
use super::connect::{start, AuthArgs, RunArgs, TlsArgs};
use super::io::{inputs, text, warn, Input, Out};
use super::topics::qos;
use super::watch::Watch;
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

/// Runs the console: log in, then publish each topic line + message line read, print what
/// arrives, and finish (pending messages acknowledged) at an empty topic line or end of input.
pub(super) async fn console(args: ConsoleArgs) -> Result<(), CliError> {
    let (identity, password) = credentials(&args)?;
    let mode = match args.resource {
        true => ConsoleMode::Resource,
        false => ConsoleMode::Legacy,
    };
    let flow = Console::new(identity.clone(), mode);
    let qos = qos(args.qos);
    flow.check(qos, b"")
        .map_err(|e| CliError::new(Failure::Usage, e))?;
    let (watch, mut driver) = connect(&args, flow, &identity, password)?;
    let mut state = Conversation::new(watch, qos);
    let (_keep, mut input) = inputs(true);
    while let Some(step) = driver.next_or(&mut input).await {
        match step {
            Step::Output(output) => state.output(&driver, output)?,
            Step::External(Some(Input::Line(line))) if !state.closing => {
                state.line(&mut driver, line)?;
            }
            Step::External(Some(Input::Eof | Input::Interrupt)) => state.closing = true,
            Step::External(_) => {}
        }
        if state.closing && state.unacked.is_empty() && driver.session().is_connected() {
            driver.disconnect();
        }
    }
    Ok(())
}

/// The identity and password: from `--credentials`, or from `--identity` and `--password`.
fn credentials(args: &ConsoleArgs) -> Result<(String, String), CliError> {
    match (&args.credentials, &args.identity, &args.password) {
        (Some(path), _, _) => {
            let c = credentials::load(path).map_err(|e| CliError::new(Failure::Usage, e))?;
            Ok((c.username, c.password))
        }
        (None, Some(identity), Some(password)) => Ok((identity.clone(), password.clone())),
        _ => Err(CliError::new(
            Failure::Usage,
            "give --identity and --password, or --credentials",
        )),
    }
}

/// The progress reporter and the driver, connecting with the `--login` style's credentials.
fn connect(
    args: &ConsoleArgs,
    flow: Console,
    identity: &str,
    password: String,
) -> Result<(Watch, Driver<Console>), CliError> {
    let login = args.login.login_options(identity, &password);
    let auth = AuthArgs {
        id: Some(login.client_id),
        username: login.username,
        password: Some(password),
    };
    let filters = vec![flow.filter()];
    let (watch, connector, options) = start(&args.url, &auth, &args.tls, &args.run, filters, true)?;
    let mut driver = Driver::new(connector, Session::new(options), flow);
    driver.connect();
    Ok((watch, driver))
}

/// What the console remembers between steps: the seed's topic-then-message dialogue and the
/// publishes still waiting for their acknowledgement.
struct Conversation {
    watch: Watch,
    out: Out,
    qos: QoS,
    /// Prompts are shown only when stdin is a terminal.
    tty: bool,
    /// The first "Topic? " prompt is shown once subscribed.
    prompted: bool,
    /// The topic line read, waiting for its message line.
    topic: Option<String>,
    /// Sent and not yet acknowledged: "Message successfully sent!" is printed for these.
    unacked: BTreeSet<PublishId>,
    /// An empty topic line or the end of input was read: finish once nothing is pending.
    closing: bool,
}

impl Conversation {
    fn new(watch: Watch, qos: QoS) -> Self {
        Self {
            watch,
            out: Out,
            qos,
            tty: std::io::stdin().is_terminal(),
            prompted: false,
            topic: None,
            unacked: BTreeSet::new(),
            closing: false,
        }
    }

    /// Prints what the flow received, reports acknowledgements, and reacts to the session.
    fn output(
        &mut self,
        driver: &Driver<Console>,
        output: Output<ConsoleOutput>,
    ) -> Result<(), CliError> {
        match output {
            Output::Flow(ConsoleOutput::Received {
                topic,
                payload,
                timestamp,
                ..
            }) => self.received(&topic, &payload, timestamp.as_deref()),
            Output::Flow(ConsoleOutput::Sent { .. }) => Ok(()),
            Output::Event(Event::Published { id }) => match self.unacked.remove(&id) {
                true => self.out.line("Message successfully sent!"),
                false => Ok(()),
            },
            Output::Event(Event::PublishFailed { id, reason }) => {
                if self.unacked.remove(&id) {
                    warn(format_args!("message not delivered: {reason}"));
                }
                Ok(())
            }
            // Murano pushes platform writes without a subscription: a refused `$resource/#`
            // is worth a warning, not the end.
            Output::Event(Event::Subscribed { granted, .. })
                if driver.flow().mode() == ConsoleMode::Resource
                    && granted.iter().any(Option::is_none) =>
            {
                warn(format_args!(
                    "the broker refused {} (SUBACK 0x80); platform writes still arrive if it pushes them, as Murano does",
                    driver.flow().filter()
                ));
                self.first_prompt()
            }
            Output::Event(event) => {
                self.watch.event(driver, &event)?;
                match event {
                    Event::Subscribed { .. } => self.first_prompt(),
                    _ => Ok(()),
                }
            }
            Output::CommandFailed(e) => Err(CliError::new(Failure::of_command(&e), e)),
        }
    }

    /// The seed's printout of a message.
    fn received(
        &self,
        topic: &str,
        payload: &[u8],
        timestamp: Option<&str>,
    ) -> Result<(), CliError> {
        self.out.line("Message received!")?;
        self.out.line(format_args!("topic = {topic}"))?;
        self.out.line(format_args!("payload = {}", text(payload)))?;
        if let Some(ms) = timestamp.and_then(resource::timestamp_ms) {
            self.out
                .line(format_args!("time = {}", resource::format_utc(ms)))?;
        }
        Ok(())
    }

    /// "Topic? " once, when the dialogue can start.
    fn first_prompt(&mut self) -> Result<(), CliError> {
        if self.tty && !self.prompted {
            self.prompted = true;
            self.out.prompt("Topic? ")?;
        }
        Ok(())
    }

    /// A line of stdin: a topic (an empty one finishes), or the message for the topic read.
    fn line(&mut self, driver: &mut Driver<Console>, line: String) -> Result<(), CliError> {
        match self.topic.take() {
            None if line.trim().is_empty() => self.closing = true,
            None => {
                self.topic = Some(line.trim().to_string());
                if self.tty {
                    self.out.prompt("Message? ")?;
                }
            }
            Some(resource) => {
                self.send(driver, &resource, &line)?;
                if self.tty {
                    self.out.prompt("Topic? ")?;
                }
            }
        }
        Ok(())
    }

    /// Publishes `line` to `resource`. A message Murano would refuse ends the command before
    /// anything is sent; a publish the session refuses is reported and the console goes on.
    fn send(
        &mut self,
        driver: &mut Driver<Console>,
        resource: &str,
        line: &str,
    ) -> Result<(), CliError> {
        let (name, payload) = match outgoing(driver.flow(), resource, line, self.qos) {
            Ok(message) => message,
            Err(e) => {
                self.out.line("Failed to send message...")?;
                return Err(CliError::new(
                    Failure::Usage,
                    format!("not sent to '{resource}': {e}"),
                ));
            }
        };
        match driver.publish(&name, &payload, self.qos, false) {
            Ok(id) => {
                self.unacked.insert(id);
            }
            Err(e) => {
                self.out.line("Failed to send message...")?;
                warn(format_args!("cannot publish on '{name}': {e}"));
            }
        }
        Ok(())
    }
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

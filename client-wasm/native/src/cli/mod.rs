//! The command line: its schema (one subcommand per file) and the dispatch with `--timeout`.

mod activate;
mod connect;
mod console;
mod device;
mod echo_host;
mod flow_loop;
mod io;
mod publish;
mod subscribe;
mod topics;
mod watch;

use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::exit::{CliError, Failure};

const ABOUT: &str =
    "MQTT over TCP, TLS, WebSocket and WebSocket+TLS, with the Murano and Azure Sphere flows.

URLs: mqtt://HOST[:1883], mqtts://HOST[:8883], ws://HOST[:80][/PATH], wss://HOST[:443][/PATH].
For mqtts and wss the URL's host is the TLS server name (SNI) and the name verified;
--connect-to HOST:PORT dials another address while keeping that name.";

#[derive(Parser, Debug)]
#[command(name = "mqttws", version, about = ABOUT, after_help = Failure::TABLE)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Activate a Murano device (seed activate.py): prints its username and password.
    #[command(after_help = Failure::TABLE)]
    Activate(activate::ActivateArgs),
    /// Publish a message (or COUNT numbered messages), like mosquitto_pub.
    #[command(after_help = Failure::TABLE)]
    Pub(publish::PubArgs),
    /// Subscribe and print messages, like mosquitto_sub.
    #[command(after_help = Failure::TABLE)]
    Sub(subscribe::SubArgs),
    /// The Murano device console (seed publish.py): publish resources, print what arrives.
    #[command(after_help = console::CONSOLE_HELP)]
    Console(console::ConsoleArgs),
    /// The Azure Sphere echo host: send back each message rotated by one character.
    #[command(after_help = Failure::TABLE)]
    EchoHost(echo_host::EchoArgs),
    /// The Azure Sphere device loop: publish every interval, republish what comes back.
    #[command(after_help = Failure::TABLE)]
    Device(device::DeviceArgs),
}

/// Runs `command`, giving up after its `--timeout` (exit status 7) when one is set.
pub(crate) async fn run(command: Command) -> Result<(), CliError> {
    let timeout = match &command {
        Command::Activate(a) => a.run.timeout,
        Command::Pub(a) => a.link.run.timeout,
        Command::Sub(a) => a.link.run.timeout,
        Command::Console(a) => a.run.timeout,
        Command::EchoHost(a) => a.link.run.timeout,
        Command::Device(a) => a.link.run.timeout,
    };
    let work = async move {
        match command {
            Command::Activate(a) => activate::activate(a).await,
            Command::Pub(a) => publish::publish(a).await,
            Command::Sub(a) => subscribe::subscribe(a).await,
            Command::Console(a) => console::console(a).await,
            Command::EchoHost(a) => echo_host::echo_host(a).await,
            Command::Device(a) => device::device(a).await,
        }
    };
    if timeout > 0.0 && timeout.is_finite() {
        match tokio::time::timeout(Duration::from_secs_f64(timeout), work).await {
            Ok(result) => result,
            Err(_) => Err(CliError::new(
                Failure::Timeout,
                format!("gave up after {timeout} s (--timeout)"),
            )),
        }
    } else {
        work.await
    }
}

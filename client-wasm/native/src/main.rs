//! `mqttws`: MQTT 3.1.1 from the command line over `mqtt://`, `mqtts://`, `ws://` and `wss://`,
//! with the seed flows (Murano activation and console, Azure Sphere echo host and device).
//!
//! Every failure is one line on stderr (`mqttws: error: ...`) and a distinct exit status (see
//! `mqttws --help`).
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::fmt::Display;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use mqtt_core::flows::rotate::Direction;
use mqtt_core::flows::{
    Activation, ActivationError, ActivationMode, Console, ConsoleMode, ConsoleOutput, Device,
    DeviceConfig, DeviceOutput, EchoHost, EchoHostConfig, Flow,
};
use mqtt_core::{
    qos_from_u8, qos_to_u8, topic, ConnectionError, Event, Options, QoS, Session, Will,
};
use mqttws::{
    credentials, murano_product_url, BrokerUrl, ClientAuth, ConnectTo, Connector, Driver, Failure,
    Output, Step, TlsOptions,
};
use tokio::sync::mpsc;

const ABOUT: &str =
    "MQTT over TCP, TLS, WebSocket and WebSocket+TLS, with the Murano and Azure Sphere flows.

URLs: mqtt://HOST[:1883], mqtts://HOST[:8883], ws://HOST[:80][/PATH], wss://HOST[:443][/PATH].
For mqtts and wss the URL's host is the TLS server name (SNI) and the name verified;
--connect-to HOST:PORT dials another address while keeping that name.";

#[derive(Parser, Debug)]
#[command(name = "mqttws", version, about = ABOUT, after_help = Failure::TABLE)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Activate a Murano device (seed activate.py): prints its username and password.
    #[command(after_help = Failure::TABLE)]
    Activate(ActivateArgs),
    /// Publish a message (or COUNT numbered messages), like mosquitto_pub.
    #[command(after_help = Failure::TABLE)]
    Pub(PubArgs),
    /// Subscribe and print messages, like mosquitto_sub.
    #[command(after_help = Failure::TABLE)]
    Sub(SubArgs),
    /// The Murano device console (seed publish.py): publish resources, print what arrives.
    #[command(after_help = CONSOLE_HELP)]
    Console(ConsoleArgs),
    /// The Azure Sphere echo host: send back each message rotated by one character.
    #[command(after_help = Failure::TABLE)]
    EchoHost(EchoArgs),
    /// The Azure Sphere device loop: publish every interval, republish what comes back.
    #[command(after_help = Failure::TABLE)]
    Device(DeviceArgs),
}

const CONSOLE_HELP: &str = "INPUT:
  Standard input gives a topic line, then a message line, as often as wanted (what the seed's
  'Topic? ' and 'Message? ' prompts ask for; the prompts are shown only when stdin is a terminal).
  A topic not starting with '<identity>/' names a resource of the device: 'temperature' means
  '<identity>/temperature' (devices may only use their own topics).
  An empty topic line or the end of input finishes: pending messages are acknowledged first.

EXIT STATUS: see 'mqttws --help'.";

#[derive(Args, Debug, Clone)]
struct TlsArgs {
    /// PEM file of CA certificates to trust (default: the public web roots)
    #[arg(long, value_name = "FILE")]
    cafile: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) of the client certificate
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Dial HOST:PORT instead of the URL's host and port; TLS still sends and verifies the URL's host
    #[arg(long, value_name = "HOST:PORT")]
    connect_to: Option<ConnectTo>,
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// Give up after SECS seconds (exit status 7); 0 waits for ever
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    timeout: f64,
    /// Seconds allowed to open the connection and get CONNACK (exit status 7 after)
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    connect_timeout: f64,
    /// QoS 1/2 publishes in flight at once. 20 matches mosquitto's default for MQTT 3.1.1
    /// clients, which drops (!) QoS 2 messages beyond it
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..))]
    max_inflight: u16,
    /// Keepalive interval in seconds (0 disables PINGREQ)
    #[arg(short = 'k', long, value_name = "SECS", default_value_t = 60)]
    keepalive: u16,
    /// Report progress (connected, subscribed, reconnecting) on stderr
    #[arg(short = 'd', long)]
    debug: bool,
}

#[derive(Args, Debug, Clone)]
struct AuthArgs {
    /// Client identifier (default: mqttws-<process id>)
    #[arg(short = 'i', long = "id", value_name = "ID")]
    id: Option<String>,
    /// User name
    #[arg(short = 'u', long, value_name = "USER")]
    username: Option<String>,
    /// Password
    #[arg(short = 'P', long, value_name = "PASS", requires = "username")]
    password: Option<String>,
}

#[derive(Args, Debug)]
struct ActivateArgs {
    /// Broker URL, e.g. mqtts://mqtt-<product>.hosted.exosite.io:8883
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "murano_product",
        conflicts_with = "murano_product"
    )]
    url: Option<BrokerUrl>,
    /// Murano product id: connects to mqtts://mqtt-<ID>.hosted.exosite.io:8883
    #[arg(long, value_name = "ID")]
    murano_product: Option<String>,
    /// The device identity (also the client id and, afterwards, the user name)
    #[arg(long, value_name = "ID")]
    identity: String,
    /// Use the current Murano API ($provision/<identity>) instead of activate / activate/<identity>
    #[arg(long)]
    provision: bool,
    /// Also write the credentials to FILE (mode 0600; read back with `console --credentials`)
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Seconds to wait for the activation reply
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    reply_timeout: u64,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Debug)]
struct PubArgs {
    #[command(flatten)]
    link: ConnectArgs,
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
    /// Keep the session on the broker (resume in-flight messages)
    #[arg(long, overrides_with = "clean")]
    no_clean: bool,
}

#[derive(Args, Debug)]
struct SubArgs {
    #[command(flatten)]
    link: ConnectArgs,
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

#[derive(Args, Debug)]
struct ConsoleArgs {
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
    /// Quality of service of publishes and of the subscription
    #[arg(short = 'q', long, value_name = "0|1|2", default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// Where `pub`, `sub`, `echo-host` and `device` connect, and how.
#[derive(Args, Debug)]
struct ConnectArgs {
    /// Broker URL
    #[arg(long, value_name = "URL")]
    url: BrokerUrl,
    #[command(flatten)]
    auth: AuthArgs,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    run: RunArgs,
}

impl ConnectArgs {
    /// What a connecting command starts from: its progress reporter (for `filters`), the
    /// connector and the session options.
    fn start(
        &self,
        filters: Vec<String>,
        clean: bool,
    ) -> Result<(Watch, Connector, Options), CliError> {
        let watch = Watch::new(&self.run, &self.url, filters);
        let connector = connector(self.url.clone(), &self.tls)?;
        let options = options(client_id(&self.auth), &self.auth, &self.run, clean);
        Ok((watch, connector, options))
    }
}

#[derive(Args, Debug)]
struct EchoArgs {
    #[command(flatten)]
    link: ConnectArgs,
    /// Topic the device publishes on
    #[arg(
        long = "in",
        value_name = "TOPIC",
        default_value = "azuresphere/sample/host"
    )]
    in_topic: String,
    /// Topic the rotated message goes to
    #[arg(
        long = "out",
        value_name = "TOPIC",
        default_value = "azuresphere/sample/device"
    )]
    out_topic: String,
    /// Rotation: left ("hello" -> "elloh", as the seed says) or right (as its Python code does)
    #[arg(long, value_name = "left|right", default_value = "left")]
    rotate: Direction,
    /// Quality of service
    #[arg(short = 'q', long, value_name = "0|1|2", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    /// Exit after echoing COUNT messages
    #[arg(long, value_name = "COUNT")]
    count: Option<u64>,
}

#[derive(Args, Debug)]
struct DeviceArgs {
    #[command(flatten)]
    link: ConnectArgs,
    /// Topic the echo host answers on
    #[arg(
        long = "in",
        value_name = "TOPIC",
        default_value = "azuresphere/sample/device"
    )]
    in_topic: String,
    /// Topic the device publishes on
    #[arg(
        long = "out",
        value_name = "TOPIC",
        default_value = "azuresphere/sample/host"
    )]
    out_topic: String,
    /// Milliseconds between publishes
    #[arg(long, value_name = "N", default_value_t = 1000)]
    interval_ms: u64,
    /// The first message
    #[arg(long, value_name = "TEXT", default_value = "Hello from Azure Sphere")]
    message: String,
    /// Exit after COUNT messages came back
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Quality of service
    #[arg(short = 'q', long, value_name = "0|1|2", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
}

/// A failure: its class (the exit status) and one line for the user.
#[derive(Debug)]
struct CliError {
    failure: Failure,
    message: String,
}

impl CliError {
    fn new(failure: Failure, message: impl Display) -> Self {
        Self {
            failure,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Failure::Usage.exit_code()
            } else {
                0
            });
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report(&CliError::new(
                Failure::Local,
                format!("cannot start the runtime: {e}"),
            ))
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

fn report(error: &CliError) -> ExitCode {
    let _ = writeln!(std::io::stderr().lock(), "mqttws: error: {}", error.message);
    ExitCode::from(error.failure.exit_code())
}

async fn run(command: Command) -> Result<(), CliError> {
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
            Command::Activate(a) => activate(a).await,
            Command::Pub(a) => publish(a).await,
            Command::Sub(a) => subscribe(a).await,
            Command::Console(a) => console(a).await,
            Command::EchoHost(a) => echo_host(a).await,
            Command::Device(a) => device(a).await,
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

// ---- shared helpers ----------------------------------------------------------------------------

fn connector(url: BrokerUrl, tls: &TlsArgs) -> Result<Connector, CliError> {
    let client_auth = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => Some(ClientAuth {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    if !url.scheme.is_tls() && (tls.cafile.is_some() || client_auth.is_some()) {
        return Err(CliError::new(
            Failure::Usage,
            format!("--cafile/--cert/--key need an mqtts:// or wss:// URL, not {url}"),
        ));
    }
    let options = TlsOptions {
        ca_file: tls.cafile.clone(),
        client_auth,
    };
    Connector::new(url, &options, tls.connect_to.clone())
        .map_err(|e| CliError::new(Failure::Usage, e))
}

fn options(client_id: String, auth: &AuthArgs, run: &RunArgs, clean: bool) -> Options {
    let mut options = Options::new(client_id);
    options.keep_alive_secs = run.keepalive;
    options.connect_timeout = connect_timeout(run);
    options.max_inflight = usize::from(run.max_inflight);
    options.clean_session = clean;
    options.username = auth.username.clone();
    options.password = auth.password.clone().map(String::into_bytes);
    options.reconnect.seed = jitter_seed();
    options
}

fn connect_timeout(run: &RunArgs) -> Duration {
    let secs = if run.connect_timeout.is_finite() && run.connect_timeout > 0.0 {
        run.connect_timeout
    } else {
        10.0
    };
    Duration::from_secs_f64(secs.min(3600.0))
}

fn client_id(auth: &AuthArgs) -> String {
    auth.id
        .clone()
        .unwrap_or_else(|| format!("mqttws-{}", std::process::id()))
}

fn jitter_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (u64::from(std::process::id()) << 32) ^ u64::from(nanos)
}

fn qos(value: u8) -> QoS {
    qos_from_u8(value).unwrap_or(QoS::AtMostOnce)
}

fn check_topic(name: &str) -> Result<(), CliError> {
    topic::validate_name(name)
        .map_err(|e| CliError::new(Failure::Usage, format!("invalid topic '{name}': {e}")))
}

fn check_filter(filter: &str) -> Result<(), CliError> {
    topic::validate_filter(filter).map_err(|e| {
        CliError::new(
            Failure::Usage,
            format!("invalid topic filter '{filter}': {e}"),
        )
    })
}

/// The error behind a lost connection: the exit class from the session's typed error; a
/// transport failure in the transport's own words.
fn lost(error: &ConnectionError) -> CliError {
    let failure = Failure::of_connection(error);
    match error {
        ConnectionError::Transport(cause) if error.close_code().is_none() => {
            CliError::new(failure, cause)
        }
        _ => CliError::new(failure, error),
    }
}

/// Writes lines to stdout; a closed stdout is a local failure, never a panic.
struct Out;

impl Out {
    fn line(&self, text: impl Display) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}")
            .and_then(|()| stdout.flush())
            .map_err(|e| CliError::new(Failure::Local, format!("cannot write to stdout: {e}")))
    }

    fn prompt(&self, text: &str) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        write!(stdout, "{text}")
            .and_then(|()| stdout.flush())
            .map_err(|e| CliError::new(Failure::Local, format!("cannot write to stdout: {e}")))
    }
}

fn debug(enabled: bool, text: impl Display) {
    if enabled {
        let _ = writeln!(std::io::stderr().lock(), "mqttws: {text}");
    }
}

/// Watches connection events common to every command. Fatal: any loss before the first
/// CONNACK, a loss the session will not retry, and a refused subscription.
struct Watch {
    debug: bool,
    url: String,
    connected_once: bool,
    /// Filters this command subscribes to, to name a refused one.
    filters: Vec<String>,
}

impl Watch {
    fn new(run: &RunArgs, url: &BrokerUrl, filters: Vec<String>) -> Self {
        Self {
            debug: run.debug,
            url: url.to_string(),
            connected_once: false,
            filters,
        }
    }

    fn event<F: Flow>(&mut self, driver: &Driver<F>, event: &Event) -> Result<(), CliError> {
        match event {
            Event::Connected { session_present } => {
                self.connected_once = true;
                debug(
                    self.debug,
                    format_args!(
                        "connected to {} (session present: {session_present})",
                        self.url
                    ),
                );
            }
            Event::ConnectionLost {
                error,
                reconnect_in,
                ..
            } => {
                let error = lost(error);
                match reconnect_in {
                    Some(delay) if self.connected_once => {
                        let _ = writeln!(
                            std::io::stderr().lock(),
                            "mqttws: connection lost: {}; reconnecting in {} ms",
                            error.message,
                            delay.as_millis()
                        );
                    }
                    _ => return Err(error),
                }
            }
            Event::Reconnecting { attempt } => {
                debug(self.debug, format_args!("reconnecting (attempt {attempt})"))
            }
            Event::Subscribed { granted, .. } => {
                if granted.iter().any(Option::is_none) {
                    let kept = driver.session().subscriptions();
                    let refused: Vec<&str> = self
                        .filters
                        .iter()
                        .filter(|f| !kept.iter().any(|(k, _)| k == *f))
                        .map(String::as_str)
                        .collect();
                    let which = if refused.is_empty() {
                        "a topic filter".to_string()
                    } else {
                        refused.join(", ")
                    };
                    return Err(CliError::new(
                        Failure::Auth,
                        format!("not authorised to subscribe to {which} (SUBACK 0x80)"),
                    ));
                }
                let shown: Vec<String> = granted
                    .iter()
                    .flatten()
                    .map(|q| format!("QoS {}", qos_to_u8(*q)))
                    .collect();
                debug(
                    self.debug,
                    format_args!(
                        "subscribed to {} (granted {})",
                        self.filters.join(", "),
                        shown.join(", ")
                    ),
                );
            }
            _ => {}
        }
        Ok(())
    }
}

/// What arrives besides the broker: lines of stdin, its end, Ctrl-C or SIGTERM.
enum Input {
    Line(String),
    Eof,
    Interrupt,
}

/// The sender is returned so the channel never closes while the command runs.
fn inputs(read_stdin: bool) -> (mpsc::UnboundedSender<Input>, mpsc::UnboundedReceiver<Input>) {
    let (tx, rx) = mpsc::unbounded_channel();
    if read_stdin {
        let lines = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let line = line.strip_suffix('\r').map(str::to_string).unwrap_or(line);
                if lines.send(Input::Line(line)).is_err() {
                    return;
                }
            }
            let _ = lines.send(Input::Eof);
        });
    }
    let keep = tx.clone();
    let interrupt = tx.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = interrupt.send(Input::Interrupt);
        }
    });
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            if term.recv().await.is_some() {
                let _ = tx.send(Input::Interrupt);
            }
        }
    });
    (keep, rx)
}

fn text(payload: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(payload)
}

// ---- activate ----------------------------------------------------------------------------------

async fn activate(args: ActivateArgs) -> Result<(), CliError> {
    let url = match (args.url, &args.murano_product) {
        (Some(url), _) => url,
        (None, Some(product)) => {
            murano_product_url(product).map_err(|e| CliError::new(Failure::Usage, e))?
        }
        (None, None) => {
            return Err(CliError::new(
                Failure::Usage,
                "give --url or --murano-product",
            ))
        }
    };
    if args.identity.is_empty() || args.identity.contains(['/', '+', '#']) {
        return Err(CliError::new(
            Failure::Usage,
            format!("invalid identity '{}'", args.identity),
        ));
    }
    let mut watch = Watch::new(&args.run, &url, Vec::new());
    let connector = connector(url, &args.tls)?;
    let mode = if args.provision {
        ActivationMode::Provision
    } else {
        ActivationMode::Legacy
    };
    let flow = Activation::new(args.identity.clone(), mode)
        .with_reply_timeout(Duration::from_secs(args.reply_timeout));
    let mut options = flow.session_options();
    options.keep_alive_secs = args.run.keepalive;
    options.connect_timeout = connect_timeout(&args.run);
    let mut driver = Driver::new(connector, Session::new(options), flow);
    driver.connect();
    let out = Out;
    let mut result = Err(CliError::new(
        Failure::Network,
        "the connection ended before activation finished",
    ));
    while let Some(output) = driver.next().await {
        match output {
            Output::Flow(Ok(credentials)) => {
                out.line("Activation succeeded!")?;
                out.line(format_args!("username = {}", credentials.username))?;
                out.line(format_args!("password = {}", credentials.password))?;
                result = match &args.save {
                    Some(path) => credentials::save(path, &credentials)
                        .map_err(|e| CliError::new(Failure::Local, e)),
                    None => Ok(()),
                };
            }
            Output::Flow(Err(ActivationError::Session(error))) => result = Err(lost(&error)),
            Output::Flow(Err(error)) => {
                let message = format!("activation of '{}' failed: {error}", args.identity);
                result = Err(CliError::new(Failure::of_activation(&error), message));
            }
            Output::Event(Event::Subscribed { .. }) => {
                debug(args.run.debug, "waiting for the activation reply")
            }
            Output::Event(event @ (Event::Connected { .. } | Event::Reconnecting { .. })) => {
                let _ = watch.event(&driver, &event);
            }
            Output::Event(_) | Output::CommandFailed(_) => {}
        }
    }
    result
}

// ---- pub ---------------------------------------------------------------------------------------

/// At most this many publishes wait in the session at once (its queue holds 1,000).
const PUBLISH_WINDOW: usize = 500;

async fn publish(args: PubArgs) -> Result<(), CliError> {
    check_topic(&args.topic)?;
    if let Some(will) = &args.will_topic {
        check_topic(will)?;
    }
    let (mut watch, connector, mut options) = args.link.start(Vec::new(), !args.no_clean)?;
    options.reconnect.enabled = false;
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

// ---- sub ---------------------------------------------------------------------------------------

async fn subscribe(args: SubArgs) -> Result<(), CliError> {
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

// ---- console -----------------------------------------------------------------------------------

async fn console(args: ConsoleArgs) -> Result<(), CliError> {
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
    let flow = Console::new(identity.clone(), ConsoleMode::Legacy);
    let mut watch = Watch::new(&args.run, &args.url, vec![flow.filter()]);
    let connector = connector(args.url.clone(), &args.tls)?;
    let auth = AuthArgs {
        id: Some(identity.clone()),
        username: Some(identity),
        password: Some(password),
    };
    let options = options(client_id(&auth), &auth, &args.run, true);
    let mut driver = Driver::new(connector, Session::new(options), flow);
    driver.connect();
    let tty = std::io::stdin().is_terminal();
    let (_keep, mut input) = inputs(true);
    let out = Out;
    let qos = qos(args.qos);
    let mut topic: Option<String> = None;
    let mut unacked = BTreeSet::new();
    let mut closing = false;
    let mut prompted = false;
    while let Some(step) = driver.next_or(&mut input).await {
        match step {
            Step::Output(Output::Flow(ConsoleOutput::Received { topic, payload, .. })) => {
                out.line("Message received!")?;
                out.line(format_args!("topic = {topic}"))?;
                out.line(format_args!("payload = {}", text(&payload)))?;
            }
            Step::Output(Output::Flow(ConsoleOutput::Sent { .. })) => {}
            Step::Output(Output::Event(Event::Published { id })) => {
                if unacked.remove(&id) {
                    out.line("Message successfully sent!")?;
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
                    let name = driver.flow().topic_for(&resource);
                    match driver.publish(&name, line.as_bytes(), qos, false) {
                        Ok(id) => {
                            unacked.insert(id);
                        }
                        Err(e) => {
                            out.line("Failed to send message...")?;
                            let _ = writeln!(
                                std::io::stderr().lock(),
                                "mqttws: cannot publish on '{name}': {e}"
                            );
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

// ---- echo-host ---------------------------------------------------------------------------------

async fn echo_host(args: EchoArgs) -> Result<(), CliError> {
    check_filter(&args.in_topic)?;
    check_topic(&args.out_topic)?;
    let config = EchoHostConfig {
        in_topic: args.in_topic.clone(),
        out_topic: args.out_topic.clone(),
        direction: args.rotate,
        qos: qos(args.qos),
    };
    run_until_done(
        &args.link,
        &args.in_topic,
        EchoHost::new(config),
        args.count,
        "echo",
        |out, echo| {
            out.line(format_args!("received: {}", text(&echo.received)))?;
            out.line(format_args!("sent: {}", text(&echo.sent)))?;
            Ok(true)
        },
    )
    .await
}

// ---- device ------------------------------------------------------------------------------------

async fn device(args: DeviceArgs) -> Result<(), CliError> {
    check_filter(&args.in_topic)?;
    check_topic(&args.out_topic)?;
    if args.interval_ms == 0 {
        return Err(CliError::new(
            Failure::Usage,
            "--interval-ms must be at least 1",
        ));
    }
    let config = DeviceConfig {
        in_topic: args.in_topic.clone(),
        out_topic: args.out_topic.clone(),
        interval: Duration::from_millis(args.interval_ms),
        message: args.message.clone(),
        qos: qos(args.qos),
    };
    run_until_done(
        &args.link,
        &args.in_topic,
        Device::new(config),
        args.count,
        "publish",
        |out, output| {
            match output {
                DeviceOutput::Sent(payload) => {
                    out.line(format_args!("sent: {}", text(&payload)))?
                }
                DeviceOutput::Received(payload) => {
                    out.line(format_args!("received: {}", text(&payload)))?;
                    return Ok(true);
                }
            }
            Ok(false)
        },
    )
    .await
}

/// The loop of `echo-host` and `device`: runs `flow` until interrupted, or until `count` of its
/// outputs counted (`report` prints one and says whether it counts).
async fn run_until_done<F: Flow>(
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
                let _ = writeln!(std::io::stderr().lock(), "mqttws: cannot {verb}: {e}");
            }
            Step::External(Some(Input::Interrupt)) => driver.disconnect(),
            Step::External(_) => {}
        }
    }
    Ok(())
}

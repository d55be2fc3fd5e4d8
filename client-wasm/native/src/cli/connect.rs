//! The connection flags shared by the commands, and what they build: the [`Connector`] and the
//! session [`Options`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use mqtt_core::Options;
use mqttws::{BrokerUrl, ClientAuth, ConnectTo, Connector, TlsOptions};

use super::watch::Watch;
use crate::exit::{CliError, Failure};

#[derive(Args, Debug, Clone)]
pub(super) struct TlsArgs {
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
pub(super) struct RunArgs {
    /// Give up after SECS seconds (exit status 7); 0 waits for ever
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub(super) timeout: f64,
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
    pub(super) debug: bool,
}

#[derive(Args, Debug, Clone)]
pub(super) struct AuthArgs {
    /// Client identifier (default: mqttws-<process id>)
    #[arg(short = 'i', long = "id", value_name = "ID")]
    pub(super) id: Option<String>,
    /// User name
    #[arg(short = 'u', long, value_name = "USER")]
    pub(super) username: Option<String>,
    /// Password
    #[arg(short = 'P', long, value_name = "PASS", requires = "username")]
    pub(super) password: Option<String>,
}

/// Where `pub`, `sub`, `echo-host` and `device` connect, and how.
#[derive(Args, Debug)]
pub(super) struct ConnectArgs {
    /// Broker URL
    #[arg(long, value_name = "URL")]
    url: BrokerUrl,
    #[command(flatten)]
    auth: AuthArgs,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    pub(super) run: RunArgs,
}

impl ConnectArgs {
    /// What a connecting command starts from (see [`start`]).
    pub(super) fn start(
        &self,
        filters: Vec<String>,
        clean: bool,
    ) -> Result<(Watch, Connector, Options), CliError> {
        start(&self.url, &self.auth, &self.tls, &self.run, filters, clean)
    }
}

/// What a connecting command starts from: its progress reporter (for `filters`), the
/// connector and the session options.
pub(super) fn start(
    url: &BrokerUrl,
    auth: &AuthArgs,
    tls: &TlsArgs,
    run: &RunArgs,
    filters: Vec<String>,
    clean: bool,
) -> Result<(Watch, Connector, Options), CliError> {
    let watch = Watch::new(run.debug, url, filters);
    let connector = connector(url.clone(), tls)?;
    Ok((watch, connector, options(auth, run, clean)))
}

pub(super) fn connector(url: BrokerUrl, tls: &TlsArgs) -> Result<Connector, CliError> {
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

fn options(auth: &AuthArgs, run: &RunArgs, clean: bool) -> Options {
    let client_id = auth
        .id
        .clone()
        .unwrap_or_else(|| format!("mqttws-{}", std::process::id()));
    let mut options = Options::new(client_id);
    run.apply(&mut options);
    options.max_inflight = usize::from(run.max_inflight);
    options.clean_session = clean;
    options.username = auth.username.clone();
    options.password = auth.password.clone().map(String::into_bytes);
    options.reconnect.seed = jitter_seed();
    options
}

impl RunArgs {
    /// Sets the keepalive and the connect timeout, which every command takes from the flags.
    pub(super) fn apply(&self, options: &mut Options) {
        options.keep_alive_secs = self.keepalive;
        options.connect_timeout = self.connect_timeout();
    }

    fn connect_timeout(&self) -> Duration {
        let secs = if self.connect_timeout.is_finite() && self.connect_timeout > 0.0 {
            self.connect_timeout
        } else {
            10.0
        };
        Duration::from_secs_f64(secs.min(3600.0))
    }
}

fn jitter_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (u64::from(std::process::id()) << 32) ^ u64::from(nanos)
}

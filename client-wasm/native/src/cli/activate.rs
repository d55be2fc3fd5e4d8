//! `mqttws activate`: the Murano activation (seed activate.py).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use mqtt_core::{Event, Session};
use mqtt_flows::{Activation, ActivationError, ActivationMode, Credentials, LoginStyle};
use mqttws::{credentials, murano_m2_url, murano_product_url, BrokerUrl, Driver, Output};

use super::connect::{connector, RunArgs, TlsArgs};
use super::io::{debug, Out};
use super::watch::{lost, Watch};
use crate::exit::{CliError, Failure};

#[derive(Args, Debug)]
pub(crate) struct ActivateArgs {
    /// Broker URL, e.g. mqtts://mqtt-<product>.hosted.exosite.io:8883
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "murano_product",
        conflicts_with = "murano_product"
    )]
    url: Option<BrokerUrl>,
    /// Murano product id: connects to mqtts://mqtt-<ID>.hosted.exosite.io:8883, or with
    /// --provision to the current endpoint mqtts://<ID>.m2.exosite.io:8883
    #[arg(long, value_name = "ID")]
    murano_product: Option<String>,
    /// The device identity (also the client id and, afterwards, the user name)
    #[arg(long, value_name = "ID")]
    identity: String,
    /// Use the current Murano API ($provision/<identity>, empty request at QoS 1) instead of
    /// activate / activate/<identity>
    #[arg(long)]
    provision: bool,
    /// How the device logs in afterwards: `identity` (client id and user name = identity,
    /// password = token; Exosite's documentation) or `token-only` (empty client id, also while
    /// provisioning; empty user name, password = token; some published examples)
    #[arg(long, value_name = "STYLE", default_value = "identity", value_parser = login_style)]
    login: LoginStyle,
    /// Publish the request without subscribing to the reply topic first (the reply must be
    /// pushed, as some Murano versions do); a reply is taken either way
    #[arg(long)]
    no_subscribe: bool,
    /// Also write the credentials to FILE (mode 0600; read back with `console --credentials`)
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Seconds to wait for the activation reply
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    reply_timeout: u64,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    pub(super) run: RunArgs,
}

pub(super) async fn activate(args: ActivateArgs) -> Result<(), CliError> {
    let url = match (args.url, &args.murano_product) {
        (Some(url), _) => url,
        (None, Some(product)) => match args.provision {
            true => murano_m2_url(product),
            false => murano_product_url(product),
        }
        .map_err(|e| CliError::new(Failure::Usage, e))?,
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
    if !args.provision && (args.login == LoginStyle::TokenOnly || args.no_subscribe) {
        return Err(CliError::new(
            Failure::Usage,
            "--login token-only and --no-subscribe are for the current API: add --provision",
        ));
    }
    let mut watch = Watch::new(args.run.debug, &url, Vec::new());
    let connector = connector(url, &args.tls)?;
    let mode = if args.provision {
        ActivationMode::Provision
    } else {
        ActivationMode::Legacy
    };
    let flow = Activation::new(args.identity.clone(), mode)
        .with_login(args.login)
        .subscribing(!args.no_subscribe)
        .with_reply_timeout(Duration::from_secs(args.reply_timeout));
    let mut options = flow.session_options();
    args.run.apply(&mut options);
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
                out.line(format!("username = {}", credentials.username).trim_end())?;
                out.line(format_args!("password = {}", credentials.password))?;
                // The file names the identity whatever the log-in style (`console --login`).
                let saved = Credentials {
                    username: args.identity.clone(),
                    password: credentials.password.clone(),
                };
                result = match &args.save {
                    Some(path) => credentials::save(path, &saved)
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
                debug(args.run.debug, "waiting for the activation reply");
            }
            Output::Event(event @ (Event::Connected { .. } | Event::Reconnecting { .. })) => {
                let _ = watch.event(&driver, &event);
            }
            Output::Event(_) | Output::CommandFailed(_) => {}
        }
    }
    result
}

/// Parses `--login`.
pub(super) fn login_style(value: &str) -> Result<LoginStyle, String> {
    LoginStyle::from_key(value).ok_or_else(|| format!("{value:?}: expected identity or token-only"))
}

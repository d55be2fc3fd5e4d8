//! `ws-bridge` command line: see `ws-bridge --help` and the crate docs.
#![forbid(unsafe_code)]

mod token_cmd;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ws_bridge::config::{split_host_port, InvalidValue};
use ws_bridge::{Bridge, BridgeError, Config, ConfigError, RouteConfig, ServerTls};

/// A WebSocket (MQTT over WebSockets) to TLS+SNI relay.
///
/// Quick form: one route served at /mqtt. Full form: --config bridge.toml.
/// `ws-bridge token --config bridge.toml --route R` mints an admission token.
#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// TOML configuration (named routes at /mqtt/<route>); excludes the quick-form flags.
    #[arg(long, conflicts_with_all = ["upstream", "sni", "ca", "cert", "key", "allow_origin"])]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file's `listen`).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Upstream broker HOST:PORT (quick form).
    #[arg(long)]
    upstream: Option<String>,
    /// Name sent as SNI and verified (default: the upstream host).
    #[arg(long)]
    sni: Option<String>,
    /// PEM file of trusted CAs for the upstream (default: public web roots).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Client certificate for mutual TLS with the upstream.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Client key for mutual TLS with the upstream.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Allowed browser Origin (repeatable; default: any).
    #[arg(long = "allow-origin")]
    allow_origin: Vec<String>,
    /// Serve this folder (the built web app) on the same listener.
    #[arg(long = "static")]
    static_dir: Option<PathBuf>,
    /// Serve wss:// with this certificate chain (PEM).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key for --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Mint an admission token for a route (printed on stdout).
    Token(token_cmd::TokenArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LogFormat {
    Text,
    Json,
}

fn build_config(cli: &Cli) -> Result<Config, ConfigError> {
    let mut config = match (&cli.config, &cli.upstream) {
        (Some(path), _) => {
            let mut c = Config::load(path)?;
            if let Some(l) = cli.listen {
                c.listen = l;
            }
            c
        }
        (None, Some(up)) => {
            let (host, port) = split_host_port(up)?;
            let listen = cli
                .listen
                .ok_or_else(|| ConfigError::Invalid(InvalidValue::ListenRequired))?;
            Config::single_route(
                listen,
                RouteConfig {
                    host,
                    port,
                    sni: cli.sni.clone(),
                    ca_file: cli.ca.clone(),
                    client_cert: cli.cert.clone(),
                    client_key: cli.key.clone(),
                    allowed_origins: cli.allow_origin.clone(),
                    admission: None,
                },
            )?
        }
        (None, None) => return Err(ConfigError::Invalid(InvalidValue::NoConfiguration)),
    };
    if let Some(d) = &cli.static_dir {
        config.static_dir = Some(d.clone());
    }
    if let (Some(cert), Some(key)) = (&cli.tls_cert, &cli.tls_key) {
        config.tls = Some(ServerTls {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    config.validate()?;
    Ok(config)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Token(args)) = &cli.command {
        return token_cmd::run(args);
    }
    init_logging(cli.log_format);
    let config = match build_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ws-bridge: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ws-bridge: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match ws_bridge::fd_budget::raise() {
        Ok(sessions) if sessions < config.limits.max_connections as u64 => tracing::warn!(
            sessions,
            max_connections = config.limits.max_connections,
            "the open-file limit holds fewer sessions than max_connections: raise it (LimitNOFILE, ulimit -n)"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read or raise the open-file limit"),
    }
    // Cross-site WebSocket hijacking: any web page may open a route without an Origin list;
    // password guessing through the bridge: nothing slows it without a CONNECT rate limit.
    if !config.listen.ip().is_loopback() {
        for (name, route) in &config.routes {
            if route.allowed_origins.is_empty() || route.allowed_origins.iter().any(|o| o == "*") {
                tracing::warn!(route = %name, "route accepts WebSockets from any web page: set allowed_origins (--allow-origin)");
            }
        }
        if config.limits.connects_per_minute == 0 {
            tracing::warn!("no CONNECT rate limit: set limits.connects_per_minute to slow password guessing through the bridge");
        }
    }
    rt.block_on(async move {
        let (addr, handle) = match Bridge::bind(config).await {
            Ok(x) => x,
            Err(e @ BridgeError::Bind { .. }) => {
                eprintln!("ws-bridge: {e}");
                return ExitCode::from(3);
            }
            Err(e) => {
                eprintln!("ws-bridge: {e}");
                return ExitCode::from(2);
            }
        };
        // One machine-readable line on stdout: harnesses and scripts read the bound address.
        println!("ws-bridge listening on {}", handle.url("/mqtt"));
        let _ = addr;
        ws_bridge::shutdown_signal().await;
        tracing::info!("signal received: shutting down");
        handle.shutdown().await;
        ExitCode::SUCCESS
    })
}

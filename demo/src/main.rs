//! `cargo run -p demo -- <command>`: the demo and its platform-side writer.
//!
//! ```text
//! demo demo [--data-dir .demo] [--listen ADDR] [--broker-port N] [--web-dir DIR]
//!            [--upstream HOST:PORT [--ca FILE] [--sni NAME]]
//! demo demo-write --identity ID --resource NAME --value V [--data-dir .demo] [--broker ADDR] [--current-api]
//! ```
#![forbid(unsafe_code)]

mod demo;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "demo", about = "The one-command demo and its platform writer")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole product on this machine: embedded broker behind a TLS front with
    /// Murano-like rules, activation service, and the bridge serving the web app.
    Demo {
        /// CA, certificates, activated devices and the platform password (kept across runs).
        #[arg(long, default_value = ".demo")]
        data_dir: PathBuf,
        /// The bridge's address (default 127.0.0.1:8080, or a free port if taken).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// The TLS front's port on 127.0.0.1 (default 8883, or a free port if taken; 0: any).
        #[arg(long)]
        broker_port: Option<u16>,
        /// The built web app (scripts/build-web.sh).
        #[arg(long)]
        web_dir: Option<PathBuf>,
        /// Use this broker (HOST:PORT, TLS) instead of the embedded one.
        #[arg(long)]
        upstream: Option<String>,
        /// With --upstream: PEM file of trusted CAs (default: the public web roots).
        #[arg(long, requires = "upstream")]
        ca: Option<PathBuf>,
        /// With --upstream: the name sent as SNI and verified (default: the host).
        #[arg(long, requires = "upstream")]
        sni: Option<String>,
    },
    /// Write a device resource as the platform (the Murano portal's role), through the running
    /// demo's TLS front.
    DemoWrite {
        /// Device identity.
        #[arg(long)]
        identity: String,
        /// Resource (alias): the value goes to <identity>/<resource>.
        #[arg(long)]
        resource: String,
        /// The value.
        #[arg(long)]
        value: String,
        /// The running demo's data directory.
        #[arg(long, default_value = ".demo")]
        data_dir: PathBuf,
        /// The TLS front's address (default: read from the data directory).
        #[arg(long)]
        broker: Option<String>,
        /// Murano's current API: the device receives the value on $resource/<resource>/<µs>
        #[arg(long)]
        current_api: bool,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // rumqttd logs every client disconnect as an error: silent unless RUST_LOG asks.
        tracing_subscriber::EnvFilter::new("warn,demo=info,ws_bridge=info,rumqttd=off")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

/// The workspace root (the demo crate lives one level below it).
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn demo_options(command: Command) -> Result<demo::DemoOptions, demo::DemoError> {
    let Command::Demo {
        data_dir,
        listen,
        broker_port,
        web_dir,
        upstream,
        ca,
        sni,
    } = command
    else {
        return Err(demo::DemoError::Usage("not the demo command".into()));
    };
    let upstream = match upstream {
        None => None,
        Some(text) => {
            let (host, port) = ws_bridge::config::split_host_port(&text)
                .map_err(|e| demo::DemoError::Usage(e.to_string()))?;
            Some(demo::Upstream {
                host,
                port,
                ca,
                sni,
            })
        }
    };
    Ok(demo::DemoOptions {
        data_dir,
        listen,
        broker_port,
        web_dir: web_dir.unwrap_or_else(|| workspace_root().join("web").join("dist")),
        upstream,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("demo: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::DemoWrite {
                identity,
                resource,
                value,
                data_dir,
                broker,
                current_api,
            } => {
                demo::write::run(demo::write::WriteOptions {
                    data_dir,
                    identity,
                    resource,
                    value,
                    broker,
                    current_api,
                })
                .await
            }
            demo_command => match demo_options(demo_command) {
                Ok(options) => demo::run(options).await,
                Err(e) => Err(e),
            },
        }
    });
    // rumqttd's threads have no shutdown: leaving main ends them with the process.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ (demo::DemoError::Usage(_) | demo::DemoError::Bridge(_))) => {
            eprintln!("demo: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::from(1)
        }
    }
}

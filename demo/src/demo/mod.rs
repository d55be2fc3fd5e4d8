//! `demo demo`: the whole product on one machine.
//!
//! ```text
//!  browser ──ws──▶ ws-bridge (in process, serves web/dist) ──TLS+SNI──▶ front (127.0.0.1:8883)
//!                                                                         │ CONNECT auth, topic rules
//!                                              activation service ◀─link─ rumqttd (loopback, internal login)
//! ```
//!
//! With `--upstream host:port` there is no embedded broker: the bridge routes to that broker.

mod activation;
mod broker;
mod front;
pub(crate) mod guard;
pub(crate) mod pki;
pub(crate) mod policy;
pub(crate) mod resource;
pub(crate) mod store;
pub(crate) mod write;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the demo could not start (or a subcommand failed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum DemoError {
    /// A file in the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// Generating or loading the certificates failed.
    #[error("certificates: {0}")]
    Pki(String),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// A socket for the embedded broker could not be set up.
    #[error("embedded broker: {0}")]
    Broker(std::io::Error),
    /// rumqttd did not start.
    #[error("embedded broker: {0}")]
    Embedded(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The IO error.
        source: std::io::Error,
    },
    /// The bridge refused its configuration or could not start.
    #[error("bridge: {0}")]
    Bridge(String),
    /// A command-line value is wrong.
    #[error("{0}")]
    Usage(String),
    /// `demo-write` failed.
    #[error("{0}")]
    Write(String),
}

/// Options of `demo demo`.
#[derive(Debug, Clone)]
pub(crate) struct DemoOptions {
    /// Where the CA, certificates, devices and platform password live.
    pub data_dir: PathBuf,
    /// The bridge's address; `None`: 127.0.0.1:8080, or an ephemeral port when that is taken.
    pub listen: Option<SocketAddr>,
    /// The TLS front's port; `None`: 8883, or an ephemeral port when that is taken.
    pub broker_port: Option<u16>,
    /// The built web app.
    pub web_dir: PathBuf,
    /// A real broker instead of the embedded one.
    pub upstream: Option<Upstream>,
}

/// `--upstream host:port [--ca file] [--sni name]`.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    /// Host to dial.
    pub host: String,
    /// Port to dial.
    pub port: u16,
    /// Trusted CAs (PEM); `None`: the public web roots.
    pub ca: Option<PathBuf>,
    /// SNI and verified name; `None`: the host.
    pub sni: Option<String>,
}

/// The state file through which `demo-write` finds a running demo.
pub(crate) fn state_file(data_dir: &Path) -> PathBuf {
    data_dir.join("demo.state")
}

/// The largest packet the front relays: Murano's largest resource value (1 MiB) with room for
/// its topic and header.
const MAX_PACKET: usize = mqtt_flows::resource::MAX_VALUE + 64 * 1024;

/// Binds `preferred`, or an ephemeral port on the same address when it is taken and the user did
/// not ask for it explicitly.
async fn bind_with_fallback(
    preferred: SocketAddr,
    explicit: bool,
) -> Result<TcpListener, DemoError> {
    match TcpListener::bind(preferred).await {
        Ok(l) => Ok(l),
        Err(e) if !explicit && e.kind() == std::io::ErrorKind::AddrInUse => {
            let any = SocketAddr::new(preferred.ip(), 0);
            TcpListener::bind(any)
                .await
                .map_err(|source| DemoError::Bind { addr: any, source })
        }
        Err(source) => Err(DemoError::Bind {
            addr: preferred,
            source,
        }),
    }
}

/// What the embedded side gives the bridge and the banner.
struct Embedded {
    front_addr: SocketAddr,
    ca: PathBuf,
    platform_password: String,
    devices: usize,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn start_embedded(options: &DemoOptions) -> Result<Embedded, DemoError> {
    let dir = &options.data_dir;
    let pki = pki::Pki::load_or_create(dir)?;
    if pki.created {
        tracing::info!(dir = %dir.display(), "generated the demo CA and server certificate");
    }
    let platform_password = store::platform_password(dir)?;
    let store = store::Store::load(dir)?;
    let devices = store.identities().count();
    let store = Arc::new(Mutex::new(store));
    let front_password = store::random_hex(&ring::rand::SystemRandom::new(), 20)?;
    let embedded = broker::start(&front_password, MAX_PACKET + 1024)?;
    let (link_tx, link_rx) = embedded.link;
    let mut tasks = vec![tokio::spawn(activation::run(
        link_tx,
        link_rx,
        store.clone(),
    ))];

    let listener = bind_with_fallback(
        SocketAddr::from((Ipv4Addr::LOCALHOST, options.broker_port.unwrap_or(8883))),
        options.broker_port.is_some(),
    )
    .await?;
    let front_addr = listener.local_addr().map_err(|source| DemoError::Bind {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        source,
    })?;
    let front = Arc::new(front::Front {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(pki.server_config()?)),
        broker: embedded.addr,
        front_password,
        platform_password: platform_password.clone(),
        store,
        max_packet: MAX_PACKET,
        handshake_timeout: Duration::from_secs(10),
        sessions: Default::default(),
    });
    let (stop, stopped) = watch::channel(false);
    tasks.push(tokio::spawn(front::serve(listener, front, stopped)));
    Ok(Embedded {
        front_addr,
        ca: pki.ca,
        platform_password,
        devices,
        stop,
        tasks,
    })
}

fn route(upstream: &Upstream) -> ws_bridge::RouteConfig {
    ws_bridge::RouteConfig {
        host: upstream.host.clone(),
        port: upstream.port,
        sni: upstream.sni.clone(),
        ca_file: upstream.ca.clone(),
        client_cert: None,
        client_key: None,
        allowed_origins: Vec::new(),
        admission: None,
    }
}

async fn start_bridge(
    options: &DemoOptions,
    upstream: &Upstream,
) -> Result<ws_bridge::BridgeHandle, DemoError> {
    let explicit = options.listen.is_some();
    let preferred = options
        .listen
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)));
    let mut config = ws_bridge::Config::single_route(preferred, route(upstream))
        .map_err(|e| DemoError::Bridge(e.to_string()))?;
    if options.web_dir.join("index.html").is_file() {
        config.static_dir = Some(options.web_dir.clone());
    } else {
        tracing::warn!(dir = %options.web_dir.display(), "web app not built (run scripts/build-web.sh): serving /mqtt only");
    }
    match ws_bridge::Bridge::bind(config.clone()).await {
        Ok((_, handle)) => Ok(handle),
        Err(ws_bridge::BridgeError::Bind { source, .. })
            if !explicit && source.kind() == std::io::ErrorKind::AddrInUse =>
        {
            config.listen = SocketAddr::new(preferred.ip(), 0);
            ws_bridge::Bridge::bind(config)
                .await
                .map(|(_, handle)| handle)
                .map_err(|e| DemoError::Bridge(e.to_string()))
        }
        Err(e) => Err(DemoError::Bridge(e.to_string())),
    }
}

fn browser_url(addr: SocketAddr) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}/", addr.port())
}

/// Runs the demo until SIGINT or SIGTERM.
pub(crate) async fn run(options: DemoOptions) -> Result<(), DemoError> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&options.data_dir).map_err(|source| DemoError::Io {
        path: options.data_dir.clone(),
        source,
    })?;
    let data_dir = options
        .data_dir
        .canonicalize()
        .map_err(|source| DemoError::Io {
            path: options.data_dir.clone(),
            source,
        })?;
    let options = DemoOptions {
        data_dir,
        ..options
    };
    let embedded = match &options.upstream {
        Some(_) => None,
        None => Some(start_embedded(&options).await?),
    };
    let upstream = match (&options.upstream, &embedded) {
        (Some(u), _) => u.clone(),
        (None, Some(e)) => Upstream {
            host: "127.0.0.1".to_string(),
            port: e.front_addr.port(),
            ca: Some(e.ca.clone()),
            sni: Some(pki::SERVER_NAME.to_string()),
        },
        (None, None) => return Err(DemoError::Usage("no broker".into())),
    };
    let bridge = start_bridge(&options, &upstream).await?;
    let state = state_file(&options.data_dir);
    if let Some(e) = &embedded {
        let text = format!("front={}\nsni={}\n", e.front_addr, pki::SERVER_NAME);
        std::fs::write(&state, text).map_err(|source| DemoError::Io {
            path: state.clone(),
            source,
        })?;
    }
    print_banner(&options, &bridge, &upstream, embedded.as_ref());
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo ready"
    );

    ws_bridge::shutdown_signal().await;
    eprintln!("demo: stopping (draining browser sessions)...");
    bridge.shutdown().await;
    if let Some(e) = embedded {
        let _ = e.stop.send(true);
        for task in e.tasks {
            task.abort();
            let _ = task.await;
        }
        let _ = std::fs::remove_file(&state);
    }
    eprintln!("demo: stopped");
    Ok(())
}

fn print_banner(
    options: &DemoOptions,
    bridge: &ws_bridge::BridgeHandle,
    upstream: &Upstream,
    embedded: Option<&Embedded>,
) {
    let url = browser_url(bridge.local_addr());
    let rule = "=".repeat(78);
    let mut b = String::new();
    b.push_str(&format!(
        "{rule}\n MQTT in the browser: demo running\n{rule}\n"
    ));
    b.push_str(&format!(" Open:             {url}\n"));
    b.push_str(&format!(" MQTT over WS:     {}\n", bridge.url("/mqtt")));
    b.push_str(&format!(
        " Data directory:   {}\n",
        options.data_dir.display()
    ));
    match embedded {
        Some(e) => {
            b.push_str(&format!(
                " Broker (TLS):     mqtts://localhost:{} (certificate for {}, localhost, 127.0.0.1)\n",
                e.front_addr.port(),
                pki::SERVER_NAME
            ));
            b.push_str(&format!(" Trust (CA file):  {}\n", e.ca.display()));
            b.push_str(&format!(
                " Platform login:   user \"{}\"  password \"{}\"\n",
                store::PLATFORM_USER,
                e.platform_password
            ));
            b.push_str(&format!(
                " Activated devices kept in the data directory: {}\n",
                e.devices
            ));
            b.push_str(
                " Topic rules (Murano-like: anonymous may only activate, a device only <identity>/#,\n \
                 the platform anything) are enforced by the demo's MQTT-aware TLS front, because\n \
                 the embedded broker (rumqttd) has no ACLs.\n",
            );
            b.push_str(&format!(
                " Write a value as the platform:\n   cargo run -p demo -- demo-write --identity 007 --resource temperature --value 212 --data-dir {}\n",
                options.data_dir.display()
            ));
        }
        None => {
            b.push_str(&format!(
                " Upstream broker:  {}:{} (SNI {}, CA {})\n",
                upstream.host,
                upstream.port,
                upstream.sni.as_deref().unwrap_or(&upstream.host),
                upstream
                    .ca
                    .as_ref()
                    .map_or("public web roots".to_string(), |p| p.display().to_string())
            ));
        }
    }
    b.push_str(&format!(" Stop:             Ctrl-C\n{rule}\n"));
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b.as_bytes());
    let _ = out.flush();
}

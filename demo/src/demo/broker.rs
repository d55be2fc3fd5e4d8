//! The embedded broker: rumqttd, plain MQTT on an internal loopback port, with a login that
//! only the TLS front knows (rumqttd then refuses every other client, anonymous ones included).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use rumqttd::local::{LinkRx, LinkTx};
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use super::DemoError;

/// The user name the front logs in with.
pub(super) const FRONT_USER: &str = "demo-front";
/// The client id of the activation service's in-process link.
pub(super) const ACTIVATION_LINK: &str = "demo-activation";

/// A started embedded broker.
pub(super) struct Embedded {
    /// Its plain MQTT address (loopback only; only the front's login is accepted).
    pub addr: SocketAddr,
    /// The in-process link for the activation service.
    pub link: (LinkTx, LinkRx),
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("addr", &self.addr)
            .finish()
    }
}

fn free_loopback_port() -> Result<SocketAddr, DemoError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(DemoError::Broker)?;
    listener.local_addr().map_err(DemoError::Broker)
}

/// Configures and starts rumqttd on its own threads; returns once its port accepts.
pub(super) fn start(front_password: &str, max_packet: usize) -> Result<Embedded, DemoError> {
    let addr = free_loopback_port()?;
    let mut auth = HashMap::new();
    auth.insert(FRONT_USER.to_string(), front_password.to_string());
    let server = ServerSettings {
        name: "demo-internal".to_string(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 0,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            max_payload_size: max_packet,
            max_inflight_count: 100,
            auth: Some(auth),
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let mut v4 = HashMap::new();
    v4.insert("1".to_string(), server);
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 4,
            ..RouterConfig::default()
        },
        v4: Some(v4),
        ..Config::default()
    };
    let mut broker = Broker::new(config);
    let link = broker
        .link(ACTIVATION_LINK)
        .map_err(|e| DemoError::Embedded(format!("in-process link: {e}")))?;
    std::thread::Builder::new()
        .name("rumqttd".to_string())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded broker stopped");
            }
        })
        .map_err(DemoError::Broker)?;
    // rumqttd binds on its own thread: wait until it accepts.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            return Err(DemoError::Embedded(format!(
                "rumqttd did not listen on {addr}"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Embedded { addr, link })
}

//! Bridge configurations for tests: routes to the harness broker, short limits, the TOML file
//! form, and a bridge started in this process.

use std::net::SocketAddr;
use std::path::Path;

use ws_bridge::{BridgeHandle, Config, Limits, RouteConfig};

use crate::mosquitto::{Mosquitto, BROKER_NAME};

/// The route to the harness broker's TLS listener: dial 127.0.0.1, verify `broker.test`.
pub fn route_to_broker(broker: &Mosquitto) -> RouteConfig {
    route_to_port(broker.tls_addr().port(), broker.ca_path())
}

/// A route to `127.0.0.1:<port>` verifying `broker.test` against `ca`.
pub fn route_to_port(port: u16, ca: &Path) -> RouteConfig {
    RouteConfig {
        host: "127.0.0.1".into(),
        port,
        sni: Some(BROKER_NAME.into()),
        ca_file: Some(ca.to_path_buf()),
        client_cert: None,
        client_key: None,
        allowed_origins: Vec::new(),
        admission: None,
    }
}

/// A one-route configuration on `127.0.0.1:0` with short test timeouts.
pub fn config_for(route: RouteConfig) -> Config {
    let mut c = Config::single_route("127.0.0.1:0".parse().expect("addr"), route).expect("config");
    c.limits = test_limits();
    c
}

/// Limits for tests: defaults, with a 2 s drain.
pub fn test_limits() -> Limits {
    Limits {
        drain_timeout_ms: 2_000,
        ..Limits::default()
    }
}

/// Starts a bridge in this process. Shut it down with `handle.shutdown().await` (or drop it).
pub async fn start_in_process(config: Config) -> (SocketAddr, BridgeHandle) {
    ws_bridge::Bridge::bind(config)
        .await
        .expect("start in-process bridge")
}

/// TOML for a one-route file config to the harness broker (extra top-level lines and limits
/// may be appended by the caller as `[limits]` entries in `limits_toml`).
pub fn toml_for_broker(broker: &Mosquitto, limits_toml: &str) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\ndefault_route = \"local\"\n[limits]\n{limits_toml}\n[routes.local]\nhost = \"127.0.0.1\"\nport = {}\nsni = \"{BROKER_NAME}\"\nca_file = \"{}\"\n",
        broker.tls_addr().port(),
        broker.ca_path().display()
    )
}

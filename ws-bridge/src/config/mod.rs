//! Configuration: a TOML file (`ws-bridge --config bridge.toml`) or the one-route quick form.
//!
//! Every problem is a typed [`ConfigError`] with a message that names the file, route or field.
//! A leaf: this module and its submodules name no other module of the crate.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use mqtt_core::wire::frame::{MAX_HEADER_LEN, MAX_REMAINING_LENGTH};

mod error;
mod template;
mod validate;

pub use error::{ConfigError, InvalidValue, RouteError, TemplateError};
pub use template::Template;
pub use validate::split_host_port;

/// Server certificate for `wss://`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServerTls {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The largest MQTT packet the protocol can express: a 5-byte fixed header and the largest
/// remaining length (MQTT 3.1.1 §2.2.3), 256 MiB plus 4 bytes.
pub const MAX_PACKET_SIZE: usize = MAX_HEADER_LEN + MAX_REMAINING_LENGTH;

/// Shortest admission key accepted: as long as the MAC (RFC 2104 §3).
pub const MIN_KEY_LEN: usize = 32;

/// Limits and timeouts. Every field has a default.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest MQTT packet (fixed header included) relayed either way, refused from its header
    /// (close 1009) before its body is read. Default 2 MiB: a 1 MiB payload with any topic fits.
    /// At most [`MAX_PACKET_SIZE`] (the protocol's 256 MiB). Memory per session does not depend
    /// on it: packets larger than `max_batch` are streamed in pieces.
    pub max_packet_size: usize,
    /// Time allowed from accept to a complete request head (TLS handshake included). Default 10 s.
    pub handshake_timeout_ms: u64,
    /// Time allowed to connect to the upstream, TLS handshake included. Default 10 s.
    pub connect_timeout_ms: u64,
    /// A session with no MQTT data in either direction for this long is closed, when its CONNECT
    /// announced no keepalive (0). With a keepalive, the limit is 1.5 times it, as a broker's
    /// ([MQTT-3.1.2-24]), at most `max_idle_timeout_ms`. Default 10 min.
    pub idle_timeout_ms: u64,
    /// The longest idle time a CONNECT's keepalive can ask for. Default 1.5 x 65,535 s, the
    /// longest keepalive MQTT can express.
    pub max_idle_timeout_ms: u64,
    /// WebSocket ping interval; a browser silent for two intervals is closed. Default 30 s.
    pub ping_interval_ms: u64,
    /// Time sessions get to close on shutdown. Default 5 s.
    pub drain_timeout_ms: u64,
    /// Open connections in total (handshakes included). Default 10,000.
    pub max_connections: usize,
    /// Open connections per client IP address. Default 100.
    pub max_connections_per_ip: usize,
    /// Largest HTTP request head. Default 8 KiB.
    pub max_request_head: usize,
    /// tungstenite read and write buffer size per session. Default 4 KiB.
    pub ws_buffer_size: usize,
    /// Largest batch relayed in one write, and the piece size of large packets: a WebSocket
    /// message to the browser (whole packets are batched up to this; a larger packet is streamed
    /// in messages of up to this size), the largest piece of a browser frame held at once
    /// (larger frames are read in pieces), and browser data already received, joined into one
    /// TLS write to the broker. Default 64 KiB.
    pub max_batch: usize,
    /// MQTT CONNECTs allowed per client address and minute, on average (a token bucket; see
    /// [`crate::rate_limit`]); over it a session is closed with 4029 before its CONNECT reaches
    /// the broker. IPv6 addresses count per /64. Default 0: no limit.
    pub connects_per_minute: u32,
    /// CONNECTs an address may make at once before `connects_per_minute` applies. Default 10.
    pub connect_burst: u32,
    /// Addresses the rate limit remembers at most (least recently seen forgotten first).
    /// Default 65,536 (about 4 MiB).
    pub connect_rate_max_addresses: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_packet_size: 2 << 20,
            handshake_timeout_ms: 10_000,
            connect_timeout_ms: 10_000,
            idle_timeout_ms: 600_000,
            max_idle_timeout_ms: 98_302_500,
            ping_interval_ms: 30_000,
            drain_timeout_ms: 5_000,
            max_connections: 10_000,
            max_connections_per_ip: 100,
            max_request_head: 8 * 1024,
            ws_buffer_size: 4 * 1024,
            max_batch: 64 * 1024,
            connects_per_minute: 0,
            connect_burst: 10,
            connect_rate_max_addresses: 65_536,
        }
    }
}

/// Keys of admission tokens ([`crate::admission`]): files holding at least 32 bytes (ASCII
/// whitespace at either end is not part of the key), e.g. `openssl rand -base64 32`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdmissionKeys {
    /// The current key: signs new tokens and verifies.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The key before the last rotation: still verifies (tokens made before the rotation stay
    /// good until they expire); never signs.
    #[serde(default)]
    pub previous_key_file: Option<PathBuf>,
}

/// Where a route's trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    /// The public web roots (webpki-roots).
    WebRoots,
    /// A PEM file of CA certificates.
    File(PathBuf),
}

/// One upstream destination.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Host to dial; may contain `{product}` (e.g. `mqtt-{product}.hosted.exosite.io`).
    pub host: String,
    /// Port to dial. Default 8883.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Name sent as SNI and verified in the certificate; may contain `{product}`. Default: `host`.
    #[serde(default)]
    pub sni: Option<String>,
    /// PEM file of trusted CAs. Absent: the public web roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain for mutual TLS.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// Client private key for mutual TLS.
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    /// Origins allowed to open this route (`"*"` or empty: any). Requests without an `Origin`
    /// header (non-browser clients) are always allowed.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Present: sessions need an admission token for this route (`[routes.NAME.admission]`),
    /// signed with these keys, or with the top-level `[admission]` keys when it names none.
    #[serde(default)]
    pub admission: Option<AdmissionKeys>,
}

fn default_port() -> u16 {
    8883
}

impl RouteConfig {
    /// The CA source.
    pub fn ca(&self) -> CaSource {
        match &self.ca_file {
            Some(p) => CaSource::File(p.clone()),
            None => CaSource::WebRoots,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080` (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Serve `wss://` with this certificate; absent: `ws://`.
    #[serde(default)]
    pub tls: Option<ServerTls>,
    /// Serve files from this folder (the built web app) on the same listener.
    #[serde(default)]
    pub static_dir: Option<PathBuf>,
    /// Serve `/healthz` and `/metrics`. Default true.
    #[serde(default = "default_true")]
    pub observability: bool,
    /// Route served at plain `/mqtt`, if any.
    #[serde(default)]
    pub default_route: Option<String>,
    /// Limits and timeouts.
    #[serde(default)]
    pub limits: Limits,
    /// Keys of the routes whose `admission` table names none.
    #[serde(default)]
    pub admission: AdmissionKeys,
    /// Named routes, served at `/mqtt/<name>` (or `/mqtt/<name>/<product>` for templates).
    #[serde(default)]
    pub routes: BTreeMap<String, RouteConfig>,
}

fn default_true() -> bool {
    true
}

impl Config {
    /// Parses and validates a TOML document; `origin` names it in error messages.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            origin: origin.to_string(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a TOML file. Relative paths inside it are resolved against
    /// the file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::from_toml_str(&text, &path.display().to_string())?;
        if let Some(base) = path.parent() {
            config.resolve_relative(base);
        }
        Ok(config)
    }

    fn resolve_relative(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(tls) = &mut self.tls {
            fix(&mut tls.cert);
            fix(&mut tls.key);
        }
        if let Some(d) = &mut self.static_dir {
            fix(d);
        }
        let keys = |a: &mut AdmissionKeys| {
            for p in [&mut a.key_file, &mut a.previous_key_file]
                .into_iter()
                .flatten()
            {
                fix(p);
            }
        };
        keys(&mut self.admission);
        for r in self.routes.values_mut() {
            for p in [&mut r.ca_file, &mut r.client_cert, &mut r.client_key]
                .into_iter()
                .flatten()
            {
                fix(p);
            }
            if let Some(a) = &mut r.admission {
                keys(a);
            }
        }
    }

    /// A configuration with one route named `default`, served at `/mqtt` (the quick form).
    pub fn single_route(listen: SocketAddr, route: RouteConfig) -> Result<Config, ConfigError> {
        let mut routes = BTreeMap::new();
        routes.insert("default".to_string(), route);
        let config = Config {
            listen,
            tls: None,
            static_dir: None,
            observability: true,
            default_route: Some("default".to_string()),
            limits: Limits::default(),
            admission: AdmissionKeys::default(),
            routes,
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
listen = "127.0.0.1:8080"
default_route = "local"
[limits]
max_packet_size = 4096
[routes.local]
host = "127.0.0.1"
sni = "broker.test"
ca_file = "ca.pem"
allowed_origins = ["https://app.example.com"]
[routes.murano]
host = "mqtt-{product}.hosted.exosite.io"
"#;

    #[test]
    fn parses_full_form() {
        let c = Config::from_toml_str(GOOD, "t").unwrap();
        assert_eq!(c.routes.len(), 2);
        assert_eq!(c.routes["murano"].port, 8883);
        assert_eq!(c.limits.max_packet_size, 4096);
        assert_eq!(c.limits.idle_timeout_ms, Limits::default().idle_timeout_ms);
        assert_eq!(c.routes["murano"].ca(), CaSource::WebRoots);
    }

    #[test]
    fn errors_are_typed_and_clear() {
        let e = Config::from_toml_str("listen = 5", "x.toml").unwrap_err();
        assert!(matches!(e, ConfigError::Parse { .. }), "{e}");
        assert!(e.to_string().contains("x.toml"));
        let e = Config::from_toml_str(
            "listen=\"127.0.0.1:1\"\n[routes.a]\nhost=\"h\"\nbogus=1\n",
            "t",
        )
        .unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Config::from_toml_str(
            "listen=\"127.0.0.1:1\"\n[routes.\"A B\"]\nhost=\"h\"\n",
            "t",
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Route {
                    problem: RouteError::Name(_),
                    ..
                }
            ),
            "{e}"
        );
        let e = Config::from_toml_str(
            "listen=\"127.0.0.1:1\"\n[routes.a]\nhost=\"x-{tenant}.example\"\n",
            "t",
        )
        .unwrap_err();
        assert!(e.to_string().contains("{tenant}"), "{e}");
        assert!(matches!(
            e,
            ConfigError::Route {
                problem: RouteError::Host(TemplateError::UnknownPlaceholder(_)),
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "route \"a\": host: \"x-{tenant}.example\": the only placeholder allowed is {product}"
        );
        let e = Config::from_toml_str(
            "listen=\"127.0.0.1:1\"\n[routes.a]\nhost=\"h\"\nclient_cert=\"c\"\n",
            "t",
        )
        .unwrap_err();
        assert!(e.to_string().contains("together"), "{e}");
        assert!(matches!(
            e,
            ConfigError::Route {
                problem: RouteError::ClientCertWithoutKey,
                ..
            }
        ));
        let e = Config::from_toml_str("listen=\"127.0.0.1:1\"\ndefault_route=\"z\"\n", "t")
            .unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Invalid(InvalidValue::UnknownDefaultRoute(ref d)) if d == "z"
        ));
        assert_eq!(
            e.to_string(),
            "default_route \"z\" is not a configured route"
        );
    }

    #[test]
    fn max_packet_size_goes_up_to_the_protocol_maximum() {
        let with = |v: usize| {
            Config::from_toml_str(
                &format!("listen=\"127.0.0.1:1\"\n[limits]\nmax_packet_size={v}\n"),
                "t",
            )
        };
        assert_eq!(MAX_PACKET_SIZE, 268_435_460);
        assert!(with(MAX_PACKET_SIZE).is_ok());
        let e = with(MAX_PACKET_SIZE + 1).unwrap_err();
        assert!(e.to_string().contains("268435460"), "{e}");
        assert!(with(1).is_err());
        assert!(Limits::default().max_packet_size > (1 << 20) + 65_535 + 9);
    }

    #[test]
    fn example_file_parses() {
        let c = Config::from_toml_str(include_str!("../../examples/bridge.toml"), "example")
            .expect("examples/bridge.toml");
        assert_eq!(c.routes.len(), 3);
        assert_eq!(c.default_route.as_deref(), Some("murano"));
    }

    #[test]
    fn admission_keys_and_rate_limits_are_checked() {
        let base = "listen=\"127.0.0.1:1\"\n[routes.a]\nhost=\"h\"\n";
        let parse = |extra: &str| Config::from_toml_str(&format!("{base}{extra}"), "t");
        let e = parse("[routes.a.admission]\n").unwrap_err();
        assert!(e.to_string().contains("key_file"), "{e}");
        let e = parse("[routes.a.admission]\nprevious_key_file=\"old\"\n").unwrap_err();
        assert!(e.to_string().contains("previous_key_file"), "{e}");
        let c = parse("[routes.a.admission]\nkey_file=\"k\"\n").unwrap();
        assert!(c.routes["a"].admission.is_some());
        let global = "listen=\"127.0.0.1:1\"\n[admission]\nkey_file=\"k\"\n[routes.a]\nhost=\"h\"\n[routes.a.admission]\n";
        assert!(Config::from_toml_str(global, "t").is_ok());
        let e = Config::from_toml_str(
            "listen=\"127.0.0.1:1\"\n[admission]\nprevious_key_file=\"o\"\n",
            "t",
        )
        .unwrap_err();
        assert!(matches!(e, ConfigError::Invalid(_)), "{e}");
        let e = parse("[limits]\nconnects_per_minute=5\nconnect_burst=0\n").unwrap_err();
        assert!(e.to_string().contains("connect_burst"), "{e}");
        let c = parse("[limits]\nconnects_per_minute=5\n").unwrap();
        assert_eq!(
            (c.limits.connect_burst, c.limits.connect_rate_max_addresses),
            (10, 65_536)
        );
        assert_eq!(Limits::default().connects_per_minute, 0, "off by default");
    }

    #[test]
    fn admission_key_paths_are_relative_to_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let path = dir.join("b.toml");
        std::fs::write(
            &path,
            "listen=\"127.0.0.1:1\"\n[admission]\nkey_file=\"g.key\"\n\
             [routes.a]\nhost=\"h\"\n[routes.a.admission]\nkey_file=\"a.key\"\n",
        )
        .unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.admission.key_file, Some(dir.join("g.key")));
        let own = c.routes["a"].admission.as_ref().unwrap();
        assert_eq!(own.key_file, Some(dir.join("a.key")));
    }

    #[test]
    fn host_port_split() {
        assert_eq!(
            split_host_port("broker.test:8883").unwrap(),
            ("broker.test".into(), 8883)
        );
        assert_eq!(split_host_port("[::1]:1").unwrap(), ("::1".into(), 1));
        assert!(split_host_port("nohost").is_err());
        assert!(split_host_port(":1").is_err());
        assert_eq!(
            split_host_port("nohost").unwrap_err().to_string(),
            "--upstream \"nohost\": expected HOST:PORT"
        );
        assert!(split_host_port("h:99999").is_err());
    }
}

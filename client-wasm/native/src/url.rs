//! Broker URLs (`mqtt://`, `mqtts://`, `ws://`, `wss://`) and the `--connect-to` override.
//!
//! For `mqtts` and `wss` the URL's host is both the SNI name sent and the name verified in the
//! server's certificate. A [`ConnectTo`] only changes the address dialled (like curl's
//! `--connect-to`), so tests can dial `127.0.0.1` while verifying `broker.test`.

use core::fmt;
use core::str::FromStr;

use mqtt_core::wire::names::{legacy_murano_host, murano_host, ProductIdError};

/// The transport a URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// MQTT over TCP, port 1883 by default.
    Mqtt,
    /// MQTT over TLS, port 8883 by default.
    Mqtts,
    /// MQTT over WebSocket, port 80 by default.
    Ws,
    /// MQTT over WebSocket over TLS, port 443 by default.
    Wss,
}

impl Scheme {
    /// The scheme as written in a URL, without `://`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Mqtt => "mqtt",
            Scheme::Mqtts => "mqtts",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }

    /// The port used when the URL names none: 1883, 8883, 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Mqtt => 1883,
            Scheme::Mqtts => 8883,
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }

    /// Whether the connection runs over TLS (`mqtts`, `wss`).
    pub fn is_tls(self) -> bool {
        matches!(self, Scheme::Mqtts | Scheme::Wss)
    }

    /// Whether MQTT is carried in WebSocket messages (`ws`, `wss`).
    pub fn is_websocket(self) -> bool {
        matches!(self, Scheme::Ws | Scheme::Wss)
    }
}

/// Why a URL or `--connect-to` value was not accepted. The caller's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// No `scheme://` prefix. Holds the input.
    #[error("'{0}' has no scheme: use mqtt://, mqtts://, ws:// or wss://")]
    MissingScheme(String),
    /// A scheme other than the four. Holds the scheme.
    #[error("unsupported scheme '{0}': use mqtt, mqtts, ws or wss")]
    UnsupportedScheme(String),
    /// The authority has no host. Holds the input.
    #[error("'{0}' has no host")]
    MissingHost(String),
    /// The port is not a number from 1 to 65535. Holds the port as written.
    #[error("invalid port '{0}': expected 1-65535")]
    InvalidPort(String),
    /// The host is malformed, e.g. a bracketed IPv6 address that does not parse. Holds it.
    #[error("invalid host '{0}'")]
    InvalidHost(String),
    /// The URL has `user:password@`; credentials are given as options instead.
    #[error("user names and passwords do not go in the URL: use -u and -P")]
    UserInfo,
    /// An `mqtt://` or `mqtts://` URL with a path. Holds the input.
    #[error("a path is only meaningful for ws:// and wss:// URLs, not '{0}'")]
    PathNotAllowed(String),
    /// A `--connect-to` value that is not `HOST:PORT`. Holds the input.
    #[error("invalid --connect-to '{0}': expected HOST:PORT")]
    InvalidConnectTo(String),
    /// A Murano product id that cannot form a host name.
    #[error("invalid Murano product id: {0}")]
    InvalidProductId(#[from] ProductIdError),
}

/// A parsed broker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// How to reach the broker: TCP or WebSocket, with or without TLS.
    pub scheme: Scheme,
    /// Host name or IP address, without brackets for IPv6.
    pub host: String,
    /// The TCP port: as given, or the scheme's default.
    pub port: u16,
    /// Path and query for WebSocket URLs (`/` when none was given); `/` for the others.
    pub path: String,
}

impl BrokerUrl {
    /// `host:port`, with brackets around an IPv6 address.
    pub fn authority(&self) -> String {
        join_host_port(&self.host, self.port)
    }

    /// The `ws://` or `wss://` URI for the WebSocket handshake.
    pub fn websocket_uri(&self) -> String {
        let scheme = if self.scheme.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.authority(), self.path)
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority())?;
        if self.scheme.is_websocket() {
            f.write_str(&self.path)?;
        }
        Ok(())
    }
}

impl FromStr for BrokerUrl {
    type Err = UrlError;

    fn from_str(input: &str) -> Result<Self, UrlError> {
        let input = input.trim();
        let (scheme, rest) = input
            .split_once("://")
            .ok_or_else(|| UrlError::MissingScheme(input.into()))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "mqtt" | "tcp" => Scheme::Mqtt,
            "mqtts" | "ssl" | "tls" => Scheme::Mqtts,
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            other => return Err(UrlError::UnsupportedScheme(other.into())),
        };
        // A fragment never reaches the server.
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_host_port(authority).map_err(|e| match e {
            HostPortError::NoHost => UrlError::MissingHost(input.into()),
            HostPortError::BadHost(h) => UrlError::InvalidHost(h),
            HostPortError::BadPort(p) => UrlError::InvalidPort(p),
        })?;
        let port = match port {
            Some(port) => port,
            None => scheme.default_port(),
        };
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        if !scheme.is_websocket() && path != "/" {
            return Err(UrlError::PathNotAllowed(input.into()));
        }
        Ok(BrokerUrl {
            scheme,
            host,
            port,
            path,
        })
    }
}

/// Dial this address instead of the URL's host and port; TLS still sends and verifies the URL's
/// host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    /// Host name or IP address to dial, without brackets for IPv6.
    pub host: String,
    /// TCP port to dial.
    pub port: u16,
}

impl ConnectTo {
    /// `host:port`, with brackets around an IPv6 address.
    pub fn authority(&self) -> String {
        join_host_port(&self.host, self.port)
    }
}

impl FromStr for ConnectTo {
    type Err = UrlError;

    fn from_str(input: &str) -> Result<Self, UrlError> {
        let bad = || UrlError::InvalidConnectTo(input.into());
        match split_host_port(input.trim()) {
            Ok((host, Some(port))) => Ok(ConnectTo { host, port }),
            _ => Err(bad()),
        }
    }
}

enum HostPortError {
    NoHost,
    BadHost(String),
    BadPort(String),
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), HostPortError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| HostPortError::BadHost(authority.into()))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(HostPortError::BadHost(host.into()));
        }
        match after {
            "" => (host, None),
            a => match a.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None => return Err(HostPortError::BadHost(authority.into())),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(HostPortError::NoHost);
    }
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':');
    if !host.chars().all(valid_char) || (host.contains(':') && !authority.starts_with('[')) {
        return Err(HostPortError::BadHost(host.into()));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(HostPortError::BadPort(p.into())),
        },
    };
    Ok((host.to_string(), port))
}

fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The Murano MQTT endpoint of a product id, as in the seed: `mqtts://mqtt-<id>.hosted.exosite.io:8883`
/// (the id is checked by [`mqtt_core::wire::names::validate_product_id`]).
pub fn murano_product_url(product_id: &str) -> Result<BrokerUrl, UrlError> {
    let host = legacy_murano_host(product_id).map_err(UrlError::InvalidProductId)?;
    format!("mqtts://{host}:8883").parse()
}

/// The current Murano MQTT endpoint of a product id: `mqtts://<id>.m2.exosite.io:8883`.
pub fn murano_m2_url(product_id: &str) -> Result<BrokerUrl, UrlError> {
    let host = murano_host(product_id).map_err(UrlError::InvalidProductId)?;
    format!("mqtts://{host}:8883").parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> BrokerUrl {
        match s.parse() {
            Ok(u) => u,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn default_ports_per_scheme() {
        assert_eq!(url("mqtt://broker.test").port, 1883);
        assert_eq!(url("mqtts://broker.test").port, 8883);
        assert_eq!(url("ws://broker.test").port, 80);
        assert_eq!(url("wss://broker.test").port, 443);
        assert_eq!(url("MQTTS://broker.test:1").scheme, Scheme::Mqtts);
    }

    #[test]
    fn host_port_and_path() {
        let u = url("wss://broker.test:9443/mqtt?x=1#frag");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("broker.test", 9443, "/mqtt?x=1")
        );
        assert_eq!(u.websocket_uri(), "wss://broker.test:9443/mqtt?x=1");
        assert_eq!(url("ws://h:8080").path, "/");
        assert_eq!(url("ws://h?a=b").path, "/?a=b");
        assert_eq!(url("mqtt://h/").to_string(), "mqtt://h:1883");
        assert_eq!(url("ws://h:1/p").to_string(), "ws://h:1/p");
    }

    #[test]
    fn ipv6_literals() {
        let u = url("mqtt://[::1]:1884");
        assert_eq!((u.host.as_str(), u.port), ("::1", 1884));
        assert_eq!(u.authority(), "[::1]:1884");
        assert_eq!(url("ws://[::1]/x").websocket_uri(), "ws://[::1]:80/x");
    }

    #[test]
    fn rejects_bad_urls() {
        let err = |s: &str| s.parse::<BrokerUrl>().err();
        assert_eq!(
            err("broker.test:1883"),
            Some(UrlError::MissingScheme("broker.test:1883".into()))
        );
        assert_eq!(
            err("http://h"),
            Some(UrlError::UnsupportedScheme("http".into()))
        );
        assert_eq!(
            err("mqtt://"),
            Some(UrlError::MissingHost("mqtt://".into()))
        );
        assert_eq!(
            err("mqtt://:1883"),
            Some(UrlError::MissingHost("mqtt://:1883".into()))
        );
        assert_eq!(err("mqtt://h:0"), Some(UrlError::InvalidPort("0".into())));
        assert_eq!(
            err("mqtt://h:65536"),
            Some(UrlError::InvalidPort("65536".into()))
        );
        assert_eq!(err("mqtt://h:x"), Some(UrlError::InvalidPort("x".into())));
        assert_eq!(err("mqtt://u:p@h"), Some(UrlError::UserInfo));
        assert_eq!(
            err("mqtt://h/path"),
            Some(UrlError::PathNotAllowed("mqtt://h/path".into()))
        );
        assert!(matches!(err("mqtt://a b"), Some(UrlError::InvalidHost(_))));
        assert!(matches!(err("mqtt://::1"), Some(UrlError::InvalidHost(_))));
        assert!(matches!(
            err("mqtt://[zz]:1"),
            Some(UrlError::InvalidHost(_))
        ));
    }

    #[test]
    fn connect_to() {
        let c: ConnectTo = "127.0.0.1:8883"
            .parse()
            .map_err(|e: UrlError| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8883));
        assert!("127.0.0.1".parse::<ConnectTo>().is_err());
        assert!("[::1]:1".parse::<ConnectTo>().is_ok());
    }

    #[test]
    fn murano_product() {
        assert_eq!(
            murano_product_url("x2lmj5npsktbuik9").map(|u| u.to_string()),
            Ok("mqtts://mqtt-x2lmj5npsktbuik9.hosted.exosite.io:8883".to_string())
        );
        assert_eq!(
            murano_m2_url("x2lmj5npsktbuik9").map(|u| u.to_string()),
            Ok("mqtts://x2lmj5npsktbuik9.m2.exosite.io:8883".to_string())
        );
        assert!(murano_product_url("evil.com/").is_err());
        assert!(matches!(
            murano_product_url("X2"),
            Err(UrlError::InvalidProductId(ProductIdError::InvalidChar {
                found: 'X'
            }))
        ));
    }
}

//! What is wrong with a configuration, typed by where the fault lies (rustls's `error.rs` is
//! the model): a file ([`ConfigError::Io`], [`ConfigError::Parse`], [`ConfigError::Pem`],
//! [`ConfigError::AdmissionKey`]), one route's settings ([`RouteError`]), a top-level or
//! command-line value ([`InvalidValue`]), or a name template ([`TemplateError`]).
//!
//! A leaf: it names no other module of the crate.

use std::path::PathBuf;

use mqtt_core::wire::names::RouteNameError;
use mqtt_tls::{PemError, TlsSetupError};

use super::{MAX_PACKET_SIZE, MIN_KEY_LEN};

/// A configuration problem, found while parsing, validating or loading files it names.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The TOML did not parse or had unknown or mistyped fields.
    #[error("invalid configuration {origin}: {source}")]
    Parse {
        /// The file name (or `<string>`).
        origin: String,
        /// The parser's error, with line and column.
        source: toml::de::Error,
    },
    /// A route is wrong.
    #[error("route {route:?}: {problem}")]
    Route {
        /// The route name.
        route: String,
        /// What is wrong.
        problem: RouteError,
    },
    /// A PEM file holds no usable certificate or key.
    #[error(transparent)]
    Pem(PemError),
    /// An admission key file holds a key too short to sign with.
    #[error("{path}: an admission key needs at least {MIN_KEY_LEN} bytes, this one has {len}")]
    AdmissionKey {
        /// The key file.
        path: PathBuf,
        /// The key's length in bytes.
        len: usize,
    },
    /// The server TLS configuration could not be built (rustls refused the certificate and
    /// key, or the protocol versions).
    #[error("server TLS setup: {0}")]
    ServerTls(rustls::Error),
    /// A command-line or top-level value is wrong.
    #[error(transparent)]
    Invalid(InvalidValue),
}

impl From<InvalidValue> for ConfigError {
    fn from(v: InvalidValue) -> Self {
        ConfigError::Invalid(v)
    }
}

/// What is wrong with one route's settings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The route's name is not `^[a-z0-9_-]{1,32}$`.
    #[error(transparent)]
    Name(RouteNameError),
    /// `host` is not a valid name template.
    #[error("host: {0}")]
    Host(TemplateError),
    /// `sni` (or `host`, its default) is not a valid name template.
    #[error("sni: {0}")]
    Sni(TemplateError),
    /// `port = 0`.
    #[error("port must not be 0")]
    ZeroPort,
    /// One of `client_cert` and `client_key` without the other.
    #[error("client_cert and client_key must be given together")]
    ClientCertWithoutKey,
    /// An allowed origin that is neither `*` nor an http(s) origin.
    #[error("allowed origin {0:?} must be \"*\" or start with http:// or https://")]
    BadOrigin(String),
    /// `admission.previous_key_file` without `admission.key_file`.
    #[error("admission.previous_key_file needs admission.key_file")]
    PreviousKeyWithoutKey,
    /// An `admission` table with no key, here or at the top level.
    #[error(
        "admission needs a key_file: in the route's [routes.NAME.admission] or in the \
         top-level [admission]"
    )]
    NoAdmissionKey,
    /// The route's TLS client configuration could not be built (a CA the route names that is
    /// not usable, a client certificate and key that do not go together...).
    #[error(transparent)]
    Tls(TlsSetupError),
}

/// A top-level or command-line value that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidValue {
    /// The top-level `admission.previous_key_file` without `admission.key_file`.
    #[error("admission.previous_key_file needs admission.key_file")]
    PreviousKeyWithoutKey,
    /// `default_route` names no configured route.
    #[error("default_route {0:?} is not a configured route")]
    UnknownDefaultRoute(String),
    /// `limits.max_packet_size` outside what MQTT can express.
    #[error("limits.max_packet_size must be from 2 to {MAX_PACKET_SIZE} (MQTT's largest packet)")]
    MaxPacketSize,
    /// A timeout or interval of 0 (its field name).
    #[error("limits.{0} must be > 0")]
    ZeroTime(&'static str),
    /// A connection cap of 0.
    #[error("limits.max_connections and max_connections_per_ip must be > 0")]
    ZeroConnectionCap,
    /// A CONNECT rate limit with a burst of 0.
    #[error("limits.connect_burst must be > 0 when connects_per_minute is set")]
    ZeroConnectBurst,
    /// A rate limit that remembers no address.
    #[error("limits.connect_rate_max_addresses must be > 0")]
    ZeroRateAddresses,
    /// A buffer below 256 bytes.
    #[error("limits.ws_buffer_size, max_request_head and max_batch must be >= 256")]
    BufferTooSmall,
    /// `--upstream` is not `HOST:PORT`.
    #[error("--upstream {0:?}: expected HOST:PORT")]
    Upstream(String),
    /// `--upstream` without `--listen`.
    #[error("--listen is required with --upstream")]
    ListenRequired,
    /// Neither `--config` nor `--upstream`.
    #[error("give either --config FILE or --listen ADDR --upstream HOST:PORT")]
    NoConfiguration,
}

/// Why a host or SNI name template is refused (the template's text is kept to show it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{...}` other than `{product}`.
    #[error("{0:?}: the only placeholder allowed is {{product}}")]
    UnknownPlaceholder(String),
    /// `{product}` more than once.
    #[error("{0:?}: {{product}} may appear once")]
    RepeatedPlaceholder(String),
    /// Not a DNS name or IP address, even with a sample product.
    #[error("{0:?} is not a valid DNS name or IP address")]
    NotAName(String),
}

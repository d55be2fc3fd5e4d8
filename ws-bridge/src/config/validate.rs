//! The checks a configuration passes before anything is loaded or bound: names, templates,
//! key tables and limits. Files are read later, by [`crate::Bridge::bind`].

use mqtt_core::wire::names::validate_route_name;

use super::{
    Config, ConfigError, InvalidValue, Limits, RouteConfig, RouteError, Template, MAX_PACKET_SIZE,
};

impl Config {
    /// Checks names, templates and limits (files are loaded later, by [`crate::Bridge::bind`]).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, route) in &self.routes {
            validate_route_name(name)
                .map_err(RouteError::Name)
                .and_then(|()| self.check_route(route))
                .map_err(|problem| ConfigError::Route {
                    route: name.clone(),
                    problem,
                })?;
        }
        if self.admission.key_file.is_none() && self.admission.previous_key_file.is_some() {
            return Err(InvalidValue::PreviousKeyWithoutKey.into());
        }
        if let Some(d) = &self.default_route {
            if !self.routes.contains_key(d) {
                return Err(InvalidValue::UnknownDefaultRoute(d.clone()).into());
            }
        }
        self.limits.check()?;
        Ok(())
    }

    fn check_route(&self, route: &RouteConfig) -> Result<(), RouteError> {
        Template::parse(&route.host).map_err(RouteError::Host)?;
        Template::parse(route.sni.as_deref().unwrap_or(&route.host)).map_err(RouteError::Sni)?;
        if route.port == 0 {
            return Err(RouteError::ZeroPort);
        }
        if route.client_cert.is_some() != route.client_key.is_some() {
            return Err(RouteError::ClientCertWithoutKey);
        }
        if let Some(o) = route
            .allowed_origins
            .iter()
            .find(|o| *o != "*" && !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(RouteError::BadOrigin(o.clone()));
        }
        if let Some(a) = &route.admission {
            if a.key_file.is_none() && a.previous_key_file.is_some() {
                return Err(RouteError::PreviousKeyWithoutKey);
            }
            if a.key_file.is_none() && self.admission.key_file.is_none() {
                return Err(RouteError::NoAdmissionKey);
            }
        }
        Ok(())
    }
}

impl Limits {
    fn check(&self) -> Result<(), InvalidValue> {
        if !(2..=MAX_PACKET_SIZE).contains(&self.max_packet_size) {
            return Err(InvalidValue::MaxPacketSize);
        }
        for (v, n) in [
            (self.handshake_timeout_ms, "handshake_timeout_ms"),
            (self.connect_timeout_ms, "connect_timeout_ms"),
            (self.idle_timeout_ms, "idle_timeout_ms"),
            (self.max_idle_timeout_ms, "max_idle_timeout_ms"),
            (self.ping_interval_ms, "ping_interval_ms"),
        ] {
            if v == 0 {
                return Err(InvalidValue::ZeroTime(n));
            }
        }
        if self.max_connections == 0 || self.max_connections_per_ip == 0 {
            return Err(InvalidValue::ZeroConnectionCap);
        }
        if self.connects_per_minute > 0 && self.connect_burst == 0 {
            return Err(InvalidValue::ZeroConnectBurst);
        }
        if self.connect_rate_max_addresses == 0 {
            return Err(InvalidValue::ZeroRateAddresses);
        }
        if self.ws_buffer_size < 256 || self.max_request_head < 256 || self.max_batch < 256 {
            return Err(InvalidValue::BufferTooSmall);
        }
        Ok(())
    }
}

/// Splits `host:port` (or `[v6]:port`) as given to `--upstream`.
pub fn split_host_port(s: &str) -> Result<(String, u16), ConfigError> {
    let bad = || ConfigError::Invalid(InvalidValue::Upstream(s.to_string()));
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(bad());
    }
    let port: u16 = port.parse().map_err(|_| bad())?;
    Ok((host.to_string(), port))
}

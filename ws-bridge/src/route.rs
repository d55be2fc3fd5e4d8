//! Routes: from a request path to a configured destination. Nothing else can pick a destination.
//!
//! * `/mqtt` -> the `default_route`, if configured;
//! * `/mqtt/<route>` -> a fixed route;
//! * `/mqtt/<route>/<product>` -> a template route; `<product>` must be a valid Murano product id
//!   ([`mqtt_core::wire::names::validate_product_id`]: `^[a-z0-9]{1,32}$`).
//!
//! The query string and headers are ignored for routing.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use mqtt_core::wire::names::validate_product_id;
use mqtt_tls::{pem, ClientAuth, PemError, PemProblem, TlsOptions, TlsSetupError};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::ClientConfig;

use crate::admission::{self, TokenKeys};
use crate::config::{CaSource, Config, ConfigError, RouteConfig, RouteError, Template};

/// A route ready to dial: templates checked, TLS client configuration built.
#[derive(Debug)]
pub struct Route {
    /// The route's name.
    pub name: String,
    host: Template,
    sni: Template,
    /// Port to dial.
    pub port: u16,
    allowed_origins: Vec<String>,
    /// The keys of its admission tokens; `None`: no token needed.
    pub admission: Option<Arc<TokenKeys>>,
    /// The TLS client configuration (ring provider, the route's CA, optional client cert).
    pub tls: Arc<ClientConfig>,
}

/// A resolved destination for one session.
#[derive(Debug, Clone)]
pub struct Target {
    /// The route.
    pub route: Arc<Route>,
    /// Host to dial.
    pub host: String,
    /// Name sent as SNI and verified.
    pub sni: ServerName<'static>,
    /// Port to dial.
    pub port: u16,
}

/// Why a path does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteRefusal {
    /// No such route (HTTP 404).
    NotFound,
    /// The product id in the path is invalid (HTTP 400).
    BadProduct,
}

/// All routes, by name.
#[derive(Debug, Default)]
pub struct Router {
    routes: BTreeMap<String, Arc<Route>>,
    default_route: Option<String>,
}

impl Router {
    /// Builds every route, loading CA and client certificate files.
    pub fn new(config: &Config) -> Result<Router, ConfigError> {
        let mut routes = BTreeMap::new();
        for (name, rc) in &config.routes {
            let keys = admission::route_keys(config, name)?.map(Arc::new);
            routes.insert(name.clone(), Arc::new(build_route(name, rc, keys)?));
        }
        Ok(Router {
            routes,
            default_route: config.default_route.clone(),
        })
    }

    /// True when `path` (query included or not) is a WebSocket path (`/mqtt` or below).
    pub fn is_ws_path(path: &str) -> bool {
        let path = strip_query(path);
        path == "/mqtt" || path.starts_with("/mqtt/")
    }

    /// Resolves a request path to a destination.
    pub fn resolve(&self, path: &str) -> Result<Target, RouteRefusal> {
        let path = strip_query(path);
        let rest = path.strip_prefix("/mqtt").ok_or(RouteRefusal::NotFound)?;
        let (name, product) = if rest.is_empty() {
            (
                self.default_route
                    .as_deref()
                    .ok_or(RouteRefusal::NotFound)?,
                None,
            )
        } else {
            let rest = rest.strip_prefix('/').ok_or(RouteRefusal::NotFound)?;
            let mut parts = rest.split('/');
            let name = parts.next().unwrap_or("");
            let product = parts.next();
            if parts.next().is_some() {
                return Err(RouteRefusal::NotFound);
            }
            (name, product)
        };
        let route = self.routes.get(name).ok_or(RouteRefusal::NotFound)?;
        match (route.is_template(), product) {
            (true, None) | (false, Some(_)) => return Err(RouteRefusal::NotFound),
            (true, Some(p)) if validate_product_id(p).is_err() => {
                return Err(RouteRefusal::BadProduct)
            }
            _ => {}
        }
        let host = route.host.render(product);
        let sni = ServerName::try_from(route.sni.render(product))
            .map_err(|_| RouteRefusal::BadProduct)?;
        Ok(Target {
            route: route.clone(),
            host,
            sni,
            port: route.port,
        })
    }
}

impl Route {
    /// True when the URL must carry a product id (the host or the SNI name uses `{product}`).
    pub fn is_template(&self) -> bool {
        self.host.is_template() || self.sni.is_template()
    }

    /// Checks a request's `Origin` header against the allow-list.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        if self.allowed_origins.is_empty() || self.allowed_origins.iter().any(|o| o == "*") {
            return true;
        }
        let origin = origin.trim_end_matches('/');
        self.allowed_origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }
}

fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or("")
}

fn build_route(
    name: &str,
    rc: &RouteConfig,
    admission: Option<Arc<TokenKeys>>,
) -> Result<Route, ConfigError> {
    let bad = |problem: RouteError| ConfigError::Route {
        route: name.to_string(),
        problem,
    };
    let host = Template::parse(&rc.host).map_err(|e| bad(RouteError::Host(e)))?;
    let sni = Template::parse(rc.sni.as_deref().unwrap_or(&rc.host))
        .map_err(|e| bad(RouteError::Sni(e)))?;
    let tls = route_tls(name, rc)?;
    Ok(Route {
        name: name.to_string(),
        host,
        sni,
        port: rc.port,
        allowed_origins: rc.allowed_origins.clone(),
        admission,
        tls,
    })
}

/// The route's TLS client configuration ([`mqtt_tls`], as for `mqttws`): its CA file or the
/// web roots, and its client certificate when both `client_cert` and `client_key` are set.
fn route_tls(name: &str, rc: &RouteConfig) -> Result<Arc<ClientConfig>, ConfigError> {
    let options = TlsOptions {
        ca_file: match rc.ca() {
            CaSource::WebRoots => None,
            CaSource::File(path) => Some(path),
        },
        client_auth: match (&rc.client_cert, &rc.client_key) {
            (Some(cert), Some(key)) => Some(ClientAuth {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        },
    };
    options.client_config().map_err(|e| setup_error(name, e))
}

/// A file's problem names the file (unreadable: [`ConfigError::Io`], else [`ConfigError::Pem`]);
/// any other names the route.
fn setup_error(route: &str, error: TlsSetupError) -> ConfigError {
    match error {
        TlsSetupError::CaFile(pem)
        | TlsSetupError::ClientCert(pem)
        | TlsSetupError::ClientKey(pem) => pem_error(pem),
        other => ConfigError::Route {
            route: route.to_string(),
            problem: RouteError::Tls(other),
        },
    }
}

fn pem_error(error: PemError) -> ConfigError {
    match error.problem {
        PemProblem::Unreadable { kind, reason } => ConfigError::Io {
            path: error.path,
            source: io::Error::new(kind, reason),
        },
        _ => ConfigError::Pem(error),
    }
}

/// Reads every certificate from a PEM file (at least one).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    pem::certificates(path).map_err(pem_error)
}

/// Reads the first private key from a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, ConfigError> {
    pem::private_key(path).map_err(pem_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let c = Config::from_toml_str(
            r#"
listen = "127.0.0.1:0"
default_route = "fixed"
[routes.fixed]
host = "127.0.0.1"
sni = "broker.test"
port = 1883
allowed_origins = ["https://app.example.com"]
[routes.murano]
host = "mqtt-{product}.hosted.exosite.io"
"#,
            "t",
        )
        .unwrap();
        Router::new(&c).unwrap()
    }

    #[test]
    fn resolves_only_configured_destinations() {
        let r = router();
        let t = r.resolve("/mqtt").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 1883));
        assert_eq!(t.sni.to_str(), "broker.test");
        let t = r.resolve("/mqtt/fixed?host=evil.example").unwrap();
        assert_eq!(t.host, "127.0.0.1");
        let t = r.resolve("/mqtt/murano/abc123").unwrap();
        assert_eq!(t.host, "mqtt-abc123.hosted.exosite.io");
        assert_eq!(t.sni.to_str(), "mqtt-abc123.hosted.exosite.io");
        assert_eq!(t.port, 8883);
    }

    #[test]
    fn refuses_unknown_and_bad_products() {
        let r = router();
        assert_eq!(r.resolve("/mqtt/nope").unwrap_err(), RouteRefusal::NotFound);
        assert_eq!(
            r.resolve("/mqtt/murano").unwrap_err(),
            RouteRefusal::NotFound
        );
        assert_eq!(
            r.resolve("/mqtt/fixed/x").unwrap_err(),
            RouteRefusal::NotFound
        );
        assert_eq!(
            r.resolve("/mqtt/murano/../x").unwrap_err(),
            RouteRefusal::NotFound
        );
        assert_eq!(r.resolve("/mqttx").unwrap_err(), RouteRefusal::NotFound);
        for bad in ["..%2Fx", "a.b", "ABC", "", &"a".repeat(33), "a-b", "x%00"] {
            assert_eq!(
                r.resolve(&format!("/mqtt/murano/{bad}")).unwrap_err(),
                RouteRefusal::BadProduct,
                "{bad}"
            );
        }
        assert!(r
            .resolve(&format!("/mqtt/murano/{}", "a".repeat(32)))
            .is_ok());
    }

    #[test]
    fn origins() {
        let r = router();
        let t = r.resolve("/mqtt").unwrap();
        assert!(t.route.origin_allowed(None));
        assert!(t.route.origin_allowed(Some("https://app.example.com")));
        assert!(t.route.origin_allowed(Some("https://APP.example.com/")));
        assert!(!t.route.origin_allowed(Some("https://evil.example")));
        let t = r.resolve("/mqtt/murano/a").unwrap();
        assert!(t.route.origin_allowed(Some("https://anything.example")));
    }

    fn route_with(extra: &str) -> Result<Router, ConfigError> {
        let toml = format!("listen = \"127.0.0.1:0\"\n[routes.r]\nhost = \"broker.test\"\n{extra}");
        Router::new(&Config::from_toml_str(&toml, "t")?)
    }

    fn write_cert_and_key(dir: &Path, name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![format!("{name}.test")])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let (c, k) = (
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}.key")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c.display().to_string(), k.display().to_string())
    }

    /// The route's TLS set-up is mqtt_tls's; its errors name the file, or the route.
    #[test]
    fn tls_files_are_loaded_and_their_errors_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_cert_and_key(dir.path(), "device");
        let (_, other_key) = write_cert_and_key(dir.path(), "other");
        let mtls =
            format!("ca_file = \"{cert}\"\nclient_cert = \"{cert}\"\nclient_key = \"{key}\"\n");
        let router = route_with(&mtls).unwrap();
        let target = router.resolve("/mqtt/r").unwrap();
        assert!(target.route.tls.client_auth_cert_resolver.has_certs());

        let missing = route_with("ca_file = \"/nonexistent/ca.pem\"\n").unwrap_err();
        assert!(
            matches!(&missing, ConfigError::Io { path, .. } if path == Path::new("/nonexistent/ca.pem")),
            "{missing}"
        );

        let not_pem = format!("ca_file = \"{key}\"\n");
        let e = route_with(&not_pem).unwrap_err();
        assert!(
            matches!(
                &e,
                ConfigError::Pem(PemError {
                    problem: PemProblem::NoCertificate,
                    ..
                })
            ),
            "{e}"
        );

        let mismatch = format!("client_cert = \"{cert}\"\nclient_key = \"{other_key}\"\n");
        let e = route_with(&mismatch).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Route { route, problem: RouteError::Tls(TlsSetupError::ClientAuth(mqtt_tls::ClientCertError::KeyMismatch)) } if route == "r"),
            "{e}"
        );
        assert!(load_key(Path::new(&cert)).is_err());
        assert_eq!(load_certs(Path::new(&cert)).map(|c| c.len()).ok(), Some(1));
    }

    #[test]
    fn a_short_admission_key_stops_the_start() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("short.key"), "short\n").unwrap();
        std::fs::write(
            tmp.path().join("b.toml"),
            "listen=\"127.0.0.1:1\"\n[routes.a]\nhost=\"h\"\n[routes.a.admission]\n\
             key_file=\"short.key\"\n",
        )
        .unwrap();
        let config = Config::load(&tmp.path().join("b.toml")).unwrap();
        let e = Router::new(&config).unwrap_err();
        assert!(matches!(e, ConfigError::AdmissionKey { len: 5, .. }), "{e}");
    }

    #[test]
    fn product_validation() {
        let r = router();
        assert!(r.resolve("/mqtt/murano/abc123").is_ok());
        assert_eq!(
            r.resolve("/mqtt/murano/a.b").unwrap_err(),
            RouteRefusal::BadProduct
        );
        let long = format!("/mqtt/murano/{}", "a".repeat(40));
        assert_eq!(r.resolve(&long).unwrap_err(), RouteRefusal::BadProduct);
    }
}

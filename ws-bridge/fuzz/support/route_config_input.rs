// One route/config fuzz input (shared by fuzz_targets/route_config.rs and
// ws-bridge/tests/fuzz_corpus.rs).
//
// The input is split at NUL bytes: the first part is a TOML configuration, the second a raw HTTP
// request head (read exactly as the listener reads it, then checked as an upgrade), the others
// request paths and Origin values. Checked, besides "never panics":
// * a path resolves only to a configured destination: the host and SNI are the route's own, or
//   its template with `{product}` replaced by `^[a-z0-9]{1,32}$` taken from the path (no open
//   relay, no path traversal into a host name);
// * an Origin is allowed only when the route's list is empty, has "*", or holds it;
// * an accepted upgrade picks an offered MQTT subprotocol; a refusal has a known HTTP status.
use std::future::Future;
use std::task::{Context, Poll, Waker};

use ws_bridge::handshake::{check_upgrade, read_head, reason_phrase, SUBPROTOCOLS};
use mqtt_core::wire::names::validate_product_id;
use ws_bridge::route::{RouteRefusal, Router};
use ws_bridge::Config;

fn head_of(bytes: &[u8]) -> Option<ws_bridge::handshake::RequestHead> {
    let mut reader: &[u8] = bytes;
    let mut fut = Box::pin(read_head(&mut reader, 8 * 1024));
    let mut cx = Context::from_waker(Waker::noop());
    // Reading from a slice never waits; bound the polls anyway.
    for _ in 0..4 {
        if let Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
            return r.ok();
        }
    }
    panic!("read_head did not finish on an in-memory request");
}

fn check_resolution(config: &Config, router: &Router, path: &str) {
    let only = path.split(['?', '#']).next().unwrap_or("");
    let result = router.resolve(path);
    let Ok(target) = result else {
        if let Err(RouteRefusal::BadProduct) = result {
            assert!(
                only.starts_with("/mqtt/"),
                "bad product outside /mqtt/: {path:?}"
            );
        }
        return;
    };
    assert!(
        Router::is_ws_path(path),
        "resolved a non-WebSocket path {path:?}"
    );
    let (name, product) = if only == "/mqtt" {
        (
            config
                .default_route
                .clone()
                .expect("/mqtt resolved without a default route"),
            None,
        )
    } else {
        let rest = only
            .strip_prefix("/mqtt/")
            .expect("resolved path starts with /mqtt/");
        let mut parts = rest.splitn(2, '/');
        let name = parts.next().unwrap_or("").to_string();
        (name, parts.next())
    };
    let rc = config
        .routes
        .get(&name)
        .expect("resolved to a configured route");
    assert_eq!(target.route.name, name);
    assert_eq!(target.port, rc.port);
    let sni = rc.sni.clone().unwrap_or_else(|| rc.host.clone());
    match product {
        None => {
            assert_eq!(target.host, rc.host);
            assert_eq!(target.sni.to_str(), sni.as_str());
        }
        Some(p) => {
            assert!(
                validate_product_id(p).is_ok(),
                "invalid product {p:?} accepted"
            );
            assert!(
                rc.host.contains("{product}") || sni.contains("{product}"),
                "a product given to a fixed route"
            );
            assert_eq!(target.host, rc.host.replace("{product}", p));
            assert_eq!(target.sni.to_str(), sni.replace("{product}", p).as_str());
        }
    }
}

fn check_origin(config: &Config, router: &Router, origin: &str) {
    for (name, rc) in &config.routes {
        let path = if rc.host.contains("{product}")
            || rc.sni.as_deref().is_some_and(|s| s.contains("{product}"))
        {
            format!("/mqtt/{name}/p0")
        } else {
            format!("/mqtt/{name}")
        };
        let Ok(target) = router.resolve(&path) else {
            panic!("route {name} does not resolve at {path}");
        };
        assert!(
            target.route.origin_allowed(None),
            "no Origin (non-browser) is allowed"
        );
        if target.route.origin_allowed(Some(origin)) {
            let o = origin.trim_end_matches('/');
            assert!(
                rc.allowed_origins.is_empty()
                    || rc
                        .allowed_origins
                        .iter()
                        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(o)),
                "origin {origin:?} allowed by {:?}",
                rc.allowed_origins
            );
        }
    }
}

pub(crate) fn run(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let text = String::from_utf8_lossy(parts.next().unwrap_or(&[]));
    let head = parts.next().map(head_of);
    let rest: Vec<String> = parts
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();

    if let Some(Some(head)) = &head {
        match check_upgrade(head) {
            Ok(up) => {
                assert_eq!(up.accept.len(), 28);
                if let Some(p) = up.protocol {
                    // One we speak, spelled exactly as the client offered it.
                    assert!(SUBPROTOCOLS.iter().any(|s| s.eq_ignore_ascii_case(&p)));
                    assert!(head.tokens("sec-websocket-protocol").any(|o| o == p));
                }
            }
            Err(refusal) => {
                assert_ne!(reason_phrase(refusal.status), "Unknown", "{refusal:?}");
            }
        }
    }

    let Ok(mut config) = Config::from_toml_str(&text, "fuzz") else {
        return;
    };
    // Never read files the input names (it could name /dev/zero): web roots for every route.
    for rc in config.routes.values_mut() {
        rc.ca_file = None;
        rc.client_cert = None;
        rc.client_key = None;
    }
    config.tls = None;
    let router = Router::new(&config).expect("a validated configuration builds its routes");
    if let Some(Some(head)) = &head {
        check_resolution(&config, &router, &head.path);
    }
    for s in &rest {
        check_resolution(&config, &router, s);
        check_origin(&config, &router, s);
    }
}

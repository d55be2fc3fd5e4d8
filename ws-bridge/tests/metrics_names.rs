//! What a Prometheus scraper sees at `/metrics`: every family's HELP and TYPE, every sample's
//! name and label set. Written against the hand-made exposition before the switch to
//! `prometheus-client`, so the switch cannot rename anything a dashboard or an alert queries.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_bridge::{Bridge, Config};

/// `# HELP`, `# TYPE` and samples (value dropped; `le` as a number, so `1` and `1.0` agree).
const GOLDEN: &str = r#"
# HELP ws_bridge_admission_accepted_total Upgrades admitted with a valid admission token.
# HELP ws_bridge_admission_refused_total Sessions refused by a route's admission, by reason.
# HELP ws_bridge_buffered_bytes Bytes held in relay buffers now, all sessions.
# HELP ws_bridge_bytes_down_total Bytes relayed from brokers to browsers.
# HELP ws_bridge_bytes_up_total Bytes relayed from browsers to brokers.
# HELP ws_bridge_connections_open TCP connections open now, handshakes included.
# HELP ws_bridge_connections_refused_total Connections refused by a connection cap.
# HELP ws_bridge_connects_rate_limited_total Sessions closed (4029) by the per-address CONNECT rate limit.
# HELP ws_bridge_http_refusals_total HTTP requests refused before the WebSocket upgrade.
# HELP ws_bridge_large_frames_up_total Browser WebSocket data frames larger than max_batch, relayed in pieces.
# HELP ws_bridge_large_packets_down_total Broker MQTT packets larger than max_batch, streamed to browsers in pieces.
# HELP ws_bridge_session_end_total Sessions ended, by reason.
# HELP ws_bridge_sessions_open WebSocket sessions open now.
# HELP ws_bridge_sessions_total WebSocket sessions opened since start.
# HELP ws_bridge_upstream_connect_seconds Upstream TCP+TLS connect latency.
# TYPE ws_bridge_admission_accepted_total counter
# TYPE ws_bridge_admission_refused_total counter
# TYPE ws_bridge_buffered_bytes gauge
# TYPE ws_bridge_bytes_down_total counter
# TYPE ws_bridge_bytes_up_total counter
# TYPE ws_bridge_connections_open gauge
# TYPE ws_bridge_connections_refused_total counter
# TYPE ws_bridge_connects_rate_limited_total counter
# TYPE ws_bridge_http_refusals_total counter
# TYPE ws_bridge_large_frames_up_total counter
# TYPE ws_bridge_large_packets_down_total counter
# TYPE ws_bridge_session_end_total counter
# TYPE ws_bridge_sessions_open gauge
# TYPE ws_bridge_sessions_total counter
# TYPE ws_bridge_upstream_connect_seconds histogram
ws_bridge_admission_accepted_total
ws_bridge_admission_refused_total{reason="bad_token"}
ws_bridge_admission_refused_total{reason="client_id_mismatch"}
ws_bridge_admission_refused_total{reason="expired_token"}
ws_bridge_admission_refused_total{reason="missing_token"}
ws_bridge_admission_refused_total{reason="wrong_route"}
ws_bridge_buffered_bytes
ws_bridge_bytes_down_total
ws_bridge_bytes_up_total
ws_bridge_connections_open
ws_bridge_connections_refused_total
ws_bridge_connects_rate_limited_total
ws_bridge_http_refusals_total
ws_bridge_large_frames_up_total
ws_bridge_large_packets_down_total
ws_bridge_session_end_total{reason="handshake_timeout"}
ws_bridge_sessions_open
ws_bridge_sessions_total
ws_bridge_upstream_connect_seconds_bucket{le="+Inf"}
ws_bridge_upstream_connect_seconds_bucket{le="0.005"}
ws_bridge_upstream_connect_seconds_bucket{le="0.01"}
ws_bridge_upstream_connect_seconds_bucket{le="0.025"}
ws_bridge_upstream_connect_seconds_bucket{le="0.05"}
ws_bridge_upstream_connect_seconds_bucket{le="0.1"}
ws_bridge_upstream_connect_seconds_bucket{le="0.25"}
ws_bridge_upstream_connect_seconds_bucket{le="0.5"}
ws_bridge_upstream_connect_seconds_bucket{le="1"}
ws_bridge_upstream_connect_seconds_bucket{le="10"}
ws_bridge_upstream_connect_seconds_bucket{le="2.5"}
ws_bridge_upstream_connect_seconds_bucket{le="5"}
ws_bridge_upstream_connect_seconds_count
ws_bridge_upstream_connect_seconds_sum
"#;

/// One exposition line as the golden list spells it; `None` for blank lines and `# EOF`.
fn normalise(line: &str) -> Option<String> {
    if line.is_empty() || line == "# EOF" {
        return None;
    }
    if line.starts_with('#') {
        return Some(line.to_string());
    }
    let series = line
        .rsplit_once(' ')
        .map_or(line, |(series, _value)| series);
    let Some((name, labels)) = series.split_once('{') else {
        return Some(series.to_string());
    };
    let labels: Vec<String> = labels
        .trim_end_matches('}')
        .split(',')
        .filter(|l| !l.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = value.trim_matches('"');
            let value = match (key, value.parse::<f64>()) {
                ("le", Ok(v)) if v.is_finite() => v.to_string(),
                _ => value.to_string(),
            };
            format!("{key}=\"{value}\"")
        })
        .collect();
    Some(format!("{name}{{{}}}", labels.join(",")))
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut v = Vec::new();
    s.read_to_end(&mut v).await.unwrap();
    let text = String::from_utf8(v).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.to_string(), body.to_string())
}

#[tokio::test]
async fn metrics_keep_their_names_help_types_and_labels() {
    let mut config = Config::from_toml_str(
        "listen = \"127.0.0.1:0\"\n[limits]\nhandshake_timeout_ms = 100\n",
        "t",
    )
    .unwrap();
    config.observability = true;
    let (addr, handle) = Bridge::bind(config).await.unwrap();
    // Before any session ended, every family is listed all the same (HELP and TYPE).
    let (_, fresh) = get(addr, "/metrics").await;
    let families = |text: &str| -> BTreeSet<String> {
        text.lines()
            .filter(|l| l.starts_with("# "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        families(&fresh),
        families(GOLDEN),
        "HELP and TYPE lines before any sample:\n{fresh}"
    );
    // A connection that never sends its request head: one `session_end_total` sample.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut sink)).await;

    let (head, body) = get(addr, "/metrics").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    let seen: BTreeSet<String> = body.lines().filter_map(normalise).collect();
    let golden: BTreeSet<String> = GOLDEN.lines().filter_map(normalise).collect();
    let missing: Vec<_> = golden.difference(&seen).collect();
    let extra: Vec<_> = seen.difference(&golden).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}\n{body}"
    );
    // Every sample line carries a number.
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let value = line.rsplit_once(' ').map(|(_, v)| v).unwrap_or("");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    handle.shutdown().await;
}

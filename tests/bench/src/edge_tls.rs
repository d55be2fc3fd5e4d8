//! The edge-TLS rows (`bench run --only edge-tls`): in Node, `client-wasm/tls` with TLS inside
//! the package (rustls on ring in the wasm, over node:net) against the runtime's own TLS
//! (node:tls, `tls: "runtime"`, the same entry and wasm otherwise), side by side in one run, to
//! one mosquitto mutual-TLS listener with the run's private CA and an X.509 v3 client
//! certificate: the median connect time (TCP + TLS handshake + CONNECT/CONNACK) of 20 fresh
//! clients, and QoS 1 messages of 1 KiB per second (10,000 published and received back by one
//! client), each the median of 3 alternating rounds;
//! then each entry's download size (the wasm, its glue and every module the entry imports, each
//! gzipped as a server sends it). The scenario is `tests/edge/scenarios/bench-tls.mjs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tests::edge::{Runtime, Scenario, Script};
use tests::mosquitto::{Mosquitto, BROKER_NAME};

/// One transport's figures, or why it failed.
struct Row {
    name: &'static str,
    handshake_ms: Result<f64, String>,
    per_second: Result<f64, String>,
}

/// Alternating rounds of both transports; each figure is the median of its rounds.
const ROUNDS: usize = 3;

/// The median of `runs`, or the first failure.
fn median(runs: &[Result<f64, String>]) -> Result<f64, String> {
    let mut values = runs.iter().cloned().collect::<Result<Vec<f64>, String>>()?;
    values.sort_by(f64::total_cmp);
    values
        .get(values.len() / 2)
        .copied()
        .ok_or_else(|| "no run".to_string())
}

fn measure(name: &'static str, mode: &str, env: &[(&str, &str)]) -> Row {
    let mut all = env.to_vec();
    all.push(("MQTT_TLS", mode));
    all.push(("MESSAGES", "10000"));
    let done = Scenario::spawn(Runtime::Node, Script::Scenario("bench-tls.mjs"), &all)
        .finish(Duration::from_secs(120));
    let why = || {
        done.named("error").first().map_or_else(
            || format!("no figure (exit {:?}): {}", done.code, done.stderr),
            ToString::to_string,
        )
    };
    let field = |event: &str, key: &str| -> Result<f64, String> {
        done.named(event)
            .first()
            .and_then(|e| e[key].as_f64())
            .ok_or_else(why)
    };
    Row {
        name,
        handshake_ms: field("handshake", "medianMs"),
        per_second: field("throughput", "perSecond"),
    }
}

/// The files an entry loads: itself and every relative import, transitively (the wasm once).
fn modules_of(root: &Path, entry: &str) -> Vec<PathBuf> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut todo = vec![root.join(entry)];
    while let Some(file) = todo.pop() {
        // A quoted path that names no file (e.g. a glue's default URL) is no import.
        if seen.contains(&file) || !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        for quoted in text.split(['"', '\'']).skip(1).step_by(2) {
            let relative = quoted.starts_with("./") || quoted.starts_with("../");
            if relative && (quoted.ends_with(".js") || quoted.ends_with(".wasm")) {
                todo.push(normalise(&dir.join(quoted)));
            }
        }
        seen.push(file);
    }
    seen
}

fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn gzip_size(file: &Path) -> Option<u64> {
    let out = Command::new("gzip").arg("-9c").arg(file).output().ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

/// (entry, raw bytes, gzip bytes) of the Node entries, default and `client-wasm/tls`.
fn sizes(pkg: &Path) -> Vec<(String, u64, Option<u64>)> {
    ["node.js", "tls-node.js", "workerd.js", "tls-workerd.js"]
        .into_iter()
        .map(|entry| {
            let files = modules_of(pkg, entry);
            let raw = files
                .iter()
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum();
            let packed = files.iter().map(|f| gzip_size(f)).sum::<Option<u64>>();
            (entry.to_string(), raw, packed)
        })
        .collect()
}

fn cell(value: &Result<f64, String>, digits: usize) -> String {
    match value {
        Ok(v) => format!("{v:.digits$}"),
        Err(why) => format!("FAILED: {}", why.replace('|', "/").replace('\n', " ")),
    }
}

/// Runs both transports and returns the section (Markdown) and whether every figure is in.
pub(crate) fn run_alone(pkg: &Path) -> (String, bool) {
    let (pki, broker) = Mosquitto::mutual_tls_with_user("dev1", "secret");
    let url = format!("mqtts://127.0.0.1:{}", broker.ports().mtls);
    let (ca, client) = (broker.ca_path().display().to_string(), pki.client());
    let (cert, key) = (
        client.cert.display().to_string(),
        client.key.display().to_string(),
    );
    let env = [
        ("MQTT_URL", url.as_str()),
        ("MQTT_CA", ca.as_str()),
        ("MQTT_SERVERNAME", BROKER_NAME),
        ("MQTT_CERT", cert.as_str()),
        ("MQTT_KEY", key.as_str()),
        ("MQTT_USERNAME", "dev1"),
        ("MQTT_PASSWORD", "secret"),
    ];
    let transports = [
        (
            "TLS inside the package (rustls/ring in the wasm, over node:net)",
            "package",
        ),
        ("the runtime's TLS (node:tls)", "runtime"),
    ];
    let mut runs: Vec<Vec<Row>> = transports.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        for i in 0..transports.len() {
            // Alternate which goes first.
            let i = (i + round) % transports.len();
            let (name, mode) = transports[i];
            runs[i].push(measure(name, mode, &env));
        }
    }
    let rows: Vec<Row> = transports
        .iter()
        .zip(&runs)
        .map(|((name, _), rounds)| Row {
            name,
            handshake_ms: median(
                &rounds
                    .iter()
                    .map(|r| r.handshake_ms.clone())
                    .collect::<Vec<_>>(),
            ),
            per_second: median(
                &rounds
                    .iter()
                    .map(|r| r.per_second.clone())
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    let mut ok = true;
    let mut out = String::from(
        "## Edge TLS: rustls in the package vs node:tls (Node, mutual TLS, QoS 1, 1 KiB)\n\n\
         Medians of 3 alternating rounds; each round: 20 fresh connects, then 10,000 messages.\n\n\
         | transport | connect (TCP + TLS + CONNACK), median of 20 | QoS 1 1 KiB msg/s (publish + receive back) |\n|---|---|---|\n",
    );
    for row in &rows {
        ok &= row.handshake_ms.is_ok() && row.per_second.is_ok();
        out.push_str(&format!(
            "| {} | {} ms | {} |\n",
            row.name,
            cell(&row.handshake_ms, 1),
            cell(&row.per_second, 0)
        ));
    }
    out.push_str("\n| entry | raw B | gzip -9 B (each file) |\n|---|---|---|\n");
    for (entry, raw, packed) in sizes(pkg) {
        let packed = packed.map_or_else(|| "?".to_string(), |p| p.to_string());
        out.push_str(&format!("| {entry} | {raw} | {packed} |\n"));
    }
    (out, ok)
}

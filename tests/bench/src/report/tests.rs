//! BENCHMARKS.md rendered from fixed figures, compared byte for byte with `tests/bench/golden/`
//! (`BLESS=1 cargo test -p bench` rewrites the golden files after a deliberate change).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tests::certs::TempDir;

use super::{render, Report};
use crate::browser::{BrowserReport, BrowserRow, ClientRuns};
use crate::figures::{Figures, LatencyRow, ThroughputRow, SESSIONS, SIZES};
use crate::idle::IdleRun;

const PATHS: [&str; 4] = [
    "direct TLS",
    "ws-bridge",
    "websockify",
    "mosquitto websockets",
];

const CORE_JSON: &str = r#"[{"case":"decode + deliver (QoS 1)","median":4049481,"min":3016589,"max":5174599},{"case":"encode + ack (QoS 1)","median":2498982,"min":2226019,"max":3081440}]"#;

const SIZES_JSON: &str = r#"{"client-wasm package (wasm + JS glue)": [160806, 62250], "MQTT.js 5.16.0 dist/mqtt.min.js": [342341, 105039]}"#;

/// Three rounds of figures that differ by path, case and round; one failed websockify run.
pub(super) fn throughput() -> Vec<ThroughputRow> {
    let mut rows = Vec::new();
    for (p, path) in PATHS.iter().enumerate() {
        for sessions in SESSIONS {
            for size in SIZES {
                let mut row = ThroughputRow::new(path, sessions, size);
                for round in 0..3 {
                    let base =
                        20_000.0 / (p as f64 + 1.0) + sessions as f64 * 7.0 - size as f64 / 10.0;
                    let rate = base + f64::from(round) * 311.5;
                    row.runs
                        .push(if *path == "websockify" && sessions == 100 && round == 1 {
                            Err("no CONNACK | in time\nsession 7".into())
                        } else {
                            Ok(Figures {
                                messages_per_s: rate,
                                mbytes_per_s: rate * size as f64 / 1e6,
                                relay_us: (*path != "direct TLS")
                                    .then_some(3.0 + p as f64 * 2.5 + f64::from(round) * 0.25),
                                broker_us: (p != 3).then_some(4.0 + f64::from(round) * 0.1),
                            })
                        });
                }
                rows.push(row);
            }
        }
    }
    rows
}

pub(super) fn latency() -> Vec<LatencyRow> {
    PATHS
        .iter()
        .enumerate()
        .map(|(p, path)| LatencyRow {
            path,
            runs: (0..3)
                .map(|round| {
                    if *path == "mosquitto websockets" && round == 2 {
                        return Err("no samples".into());
                    }
                    Ok((0..200)
                        .map(|i| Duration::from_micros(80 + p as u64 * 15 + i * (round + 1)))
                        .collect())
                })
                .collect(),
        })
        .collect()
}

pub(super) fn idle() -> Vec<IdleRun> {
    let bridge = IdleRun {
        relay: "ws-bridge",
        requested: 2_000,
        connected: 2_000,
        alive: 2_000,
        connect_time: Duration::from_millis(3_250),
        peak_rate: 812.0,
        relay_before_kib: 9_000,
        relay_with_kib: 41_000,
        broker_delta_kib: 18_000,
        holder_kib: 22_000,
        kernel_tcp_delta_kib: 7_000,
        relay_fds: (12, 4_012),
        ceilings: vec![
            (48_000, "open files of one relay (RLIMIT_NOFILE)".into()),
            (90_000, "memory | available".into()),
        ],
        sources: 2,
        listeners: 1,
        relays: 1,
        brokers: 1,
        holders: 1,
        nofile: 100_000,
        conntrack: Some(0),
        ..IdleRun::default()
    };
    let spread = IdleRun {
        requested: 50_000,
        alive: 50_000,
        connected: 50_000,
        relays: 2,
        conntrack: Some(123),
        ceilings: Vec::new(),
        ..bridge.clone()
    };
    let websockify = IdleRun {
        relay: "websockify",
        requested: 300,
        connected: 290,
        alive: 280,
        failed: Some("20 sessions closed".into()),
        conntrack: None,
        ..bridge.clone()
    };
    vec![bridge, spread, websockify]
}

pub(super) fn runs(rates: &[f64], errors: &[&str], cpu: &[f64]) -> ClientRuns {
    ClientRuns {
        rates: rates.to_vec(),
        errors: errors.iter().map(ToString::to_string).collect(),
        cpu_us: cpu.to_vec(),
        script_us: Vec::new(),
    }
}

pub(super) fn browser() -> BrowserReport {
    BrowserReport {
        ours_name: "client-wasm 0.1.0".into(),
        other_name: "MQTT.js 5.16.0".into(),
        user_agent: "HeadlessChrome/120".into(),
        runs: 3,
        warmup: Duration::from_millis(1_500),
        duration: Duration::from_secs(5),
        rows: vec![
            BrowserRow {
                case: "QoS 0 round trips",
                size: 1024,
                gated: true,
                ours: runs(&[30_000.0, 31_000.0, 29_500.0], &[], &[20.0, 21.0, 19.0]),
                other: runs(&[12_000.0, 12_500.0], &["page | crashed"], &[55.0, 54.0]),
            },
            BrowserRow {
                case: "QoS 1 acknowledged publishes",
                size: 1024,
                gated: true,
                ours: runs(&[], &["timed out"], &[]),
                other: runs(&[9_000.0], &[], &[]),
            },
        ],
        failed: None,
    }
}

pub(super) fn report() -> Report {
    Report {
        throughput: throughput(),
        latency: latency(),
        idle: idle(),
        browser: Some(browser()),
        rounds: 3,
        duration: Duration::from_secs(4),
    }
}

pub(super) fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(name)
}

/// `actual` equals the golden file `name` (or becomes it under `BLESS=1`).
pub(super) fn same_as_golden(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (BLESS=1 writes it)", path.display()));
    if let Some((i, (want, got))) = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        panic!("{name} line {}:\nwant {want}\n got {got}", i + 1);
    }
    assert_eq!(expected, actual, "{name} differs (in length)");
}

#[test]
pub(super) fn the_report_of_fixed_figures_is_the_golden_file_byte_for_byte() {
    let dir = TempDir::new("bench-report");
    let (core, sizes) = (dir.path().join("core.json"), dir.path().join("sizes.json"));
    std::fs::write(&core, CORE_JSON).expect("core.json");
    std::fs::write(&sizes, SIZES_JSON).expect("sizes.json");
    let plots = dir.path().join("plots");
    let md = render(
        &report(),
        "2 cores, Test CPU",
        &plots,
        Some(&core),
        Some(&sizes),
    )
    .expect("render");
    same_as_golden("BENCHMARKS.md", &md);
    for svg in ["throughput-1kib.svg", "relay-cpu-1kib.svg", "latency.svg"] {
        let text = std::fs::read_to_string(plots.join(svg)).expect("plot written");
        same_as_golden(svg, &text);
    }
}

#[test]
pub(super) fn a_report_with_nothing_measured_says_so_without_figures() {
    let dir = TempDir::new("bench-report-empty");
    let md = render(
        &Report::default(),
        "1 core, Test CPU",
        &dir.path().join("plots"),
        None,
        None,
    )
    .expect("render");
    same_as_golden("BENCHMARKS-empty.md", &md);
}

/// A browser target missed is a failure of the run (the bench exits non-zero on it), as a
/// FAILED measurement is; a row that is not gated only shows its cost.
#[test]
fn a_missed_browser_target_fails_the_run() {
    let mut b = browser();
    let misses = super::browser_misses(Some(&b));
    assert_eq!(
        misses,
        [
            "target missed: browser renderer CPU per message <= 1/3 of MQTT.js 5.16.0 (QoS 0 round trips, 1024 B): MQTT.js 5.16.0 / ours: 2.73x",
            "target missed: browser renderer CPU per message <= 1/3 of MQTT.js 5.16.0 (QoS 1 acknowledged publishes, 1024 B): MQTT.js 5.16.0 / ours: not measured",
            "target missed: browser msg/s >= MQTT.js 5.16.0 (QoS 1 acknowledged publishes, 1024 B): ours / MQTT.js 5.16.0: not measured",
        ]
    );
    let report = Report {
        browser: Some(browser()),
        ..Report::default()
    };
    assert_eq!(report.failures(), misses);

    b.rows[0].ours.cpu_us = vec![18.0];
    b.rows[1].gated = false;
    assert_eq!(super::browser_misses(Some(&b)), Vec::<String>::new());
}

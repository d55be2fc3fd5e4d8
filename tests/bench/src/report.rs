//! BENCHMARKS.md and its plots.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::browser::{BrowserReport, ClientRuns};
use crate::scenarios::{SESSIONS, SIZES};
use crate::svg;

#[derive(Debug)]
pub struct ThroughputRow {
    pub path: &'static str,
    pub sessions: usize,
    pub size: usize,
    /// (messages/s, MB/s) per run.
    pub rates: Vec<(f64, f64)>,
    pub failures: u64,
}

impl ThroughputRow {
    fn messages(&self) -> (f64, f64, f64) {
        median_range(self.rates.iter().map(|r| r.0).collect())
    }

    fn megabytes(&self) -> f64 {
        median_range(self.rates.iter().map(|r| r.1).collect()).0
    }
}

#[derive(Debug)]
pub struct LatencyRow {
    pub path: &'static str,
    /// Sorted.
    pub samples: Vec<Duration>,
}

impl LatencyRow {
    fn percentile_us(&self, p: f64) -> f64 {
        if self.samples.is_empty() {
            return f64::NAN;
        }
        let index = ((self.samples.len() as f64 - 1.0) * p).round() as usize;
        self.samples[index.min(self.samples.len() - 1)].as_secs_f64() * 1e6
    }
}

#[derive(Debug)]
pub struct IdleRow {
    pub path: &'static str,
    pub sessions: usize,
    pub rss_before_kib: u64,
    pub rss_with_kib: u64,
}

impl IdleRow {
    fn per_session_kib(&self) -> f64 {
        self.rss_with_kib.saturating_sub(self.rss_before_kib) as f64 / self.sessions.max(1) as f64
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub throughput: Vec<ThroughputRow>,
    pub latency: Vec<LatencyRow>,
    pub idle: Vec<IdleRow>,
    /// Scenario 4 (`None`: not run).
    pub browser: Option<BrowserReport>,
}

/// Median, min and max.
fn median_range(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    match (values.first(), values.last()) {
        (Some(&min), Some(&max)) => (values[values.len() / 2], min, max),
        _ => (0.0, 0.0, 0.0),
    }
}

fn find<'a>(
    report: &'a Report,
    path: &str,
    sessions: usize,
    size: usize,
) -> Option<&'a ThroughputRow> {
    report
        .throughput
        .iter()
        .find(|r| r.path == path && r.sessions == sessions && r.size == size)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores, {cpu}")
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".into()
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "missed"
    }
}

pub fn write(
    report: &Report,
    out: &Path,
    plots: &Path,
    core_json: Option<&Path>,
    sizes_json: Option<&Path>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(plots)?;
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(md, "Machine: {}. Produced by `bash scripts/bench.sh` in one run; every path on loopback against the same mosquitto TLS listener, with the same load client (client-wasm's native driver).\n", machine());

    // Throughput.
    let _ = writeln!(
        md,
        "## 1. Round-trip throughput (QoS 0, publish to a topic the session subscribes to)\n"
    );
    let _ = writeln!(
        md,
        "Each session keeps 8 messages in flight. Median of the runs, range in brackets.\n"
    );
    let _ = writeln!(
        md,
        "| path | sessions | payload | msg/s (median) | [min - max] | MB/s | failed sessions |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---|---:|---:|");
    for row in &report.throughput {
        let (median, min, max) = row.messages();
        let _ = writeln!(
            md,
            "| {} | {} | {} B | {median:.0} | [{min:.0} - {max:.0}] | {:.2} | {} |",
            row.path,
            row.sessions,
            row.size,
            row.megabytes(),
            row.failures
        );
    }
    let _ = writeln!(md, "\n| sessions | payload | bridge / direct TLS | bridge / websockify | bridge / mosquitto ws |");
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    for sessions in SESSIONS {
        for size in SIZES {
            let get = |p: &str| find(report, p, sessions, size).map_or(0.0, |r| r.messages().0);
            let bridge = get("ws-bridge");
            let _ = writeln!(
                md,
                "| {sessions} | {size} B | {} | {} | {} |",
                ratio(bridge, get("direct TLS")),
                ratio(bridge, get("websockify")),
                ratio(bridge, get("mosquitto websockets"))
            );
        }
    }
    let paths: Vec<&str> = {
        let mut p: Vec<&str> = report.throughput.iter().map(|r| r.path).collect();
        p.dedup();
        p
    };
    let xs: Vec<String> = SESSIONS.iter().map(|s| s.to_string()).collect();
    let series: Vec<(&str, Vec<f64>)> = paths
        .iter()
        .map(|p| {
            (
                *p,
                SESSIONS
                    .iter()
                    .map(|s| find(report, p, *s, 1024).map_or(0.0, |r| r.messages().0))
                    .collect(),
            )
        })
        .collect();
    std::fs::write(
        plots.join("throughput-1kib.svg"),
        svg::lines(
            "Round trips per second, 1 KiB QoS 0",
            "concurrent sessions",
            "messages/s",
            &xs,
            &series,
        ),
    )?;
    let _ = writeln!(md, "\n![throughput](docs/bench/throughput-1kib.svg)\n");

    // Latency.
    let _ = writeln!(
        md,
        "## 2. Added latency (one session, one message in flight, 64 B)\n"
    );
    let _ = writeln!(md, "| path | samples | p50 µs | p99 µs | p99.9 µs |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    for row in &report.latency {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {:.0} | {:.0} |",
            row.path,
            row.samples.len(),
            row.percentile_us(0.5),
            row.percentile_us(0.99),
            row.percentile_us(0.999)
        );
    }
    let lat = |p: &str, q: f64| {
        report
            .latency
            .iter()
            .find(|r| r.path == p)
            .map_or(f64::NAN, |r| r.percentile_us(q))
    };
    let added50 = lat("ws-bridge", 0.5) - lat("direct TLS", 0.5);
    let added99 = lat("ws-bridge", 0.99) - lat("direct TLS", 0.99);
    let _ = writeln!(
        md,
        "\nBridge minus direct TLS: p50 {added50:+.0} µs, p99 {added99:+.0} µs.\n"
    );
    let groups: Vec<String> = report.latency.iter().map(|r| r.path.to_string()).collect();
    let series = vec![
        (
            "p50",
            report
                .latency
                .iter()
                .map(|r| r.percentile_us(0.5))
                .collect(),
        ),
        (
            "p99",
            report
                .latency
                .iter()
                .map(|r| r.percentile_us(0.99))
                .collect(),
        ),
        (
            "p99.9",
            report
                .latency
                .iter()
                .map(|r| r.percentile_us(0.999))
                .collect(),
        ),
    ];
    std::fs::write(
        plots.join("latency.svg"),
        svg::bars(
            "Round-trip latency per path",
            "microseconds",
            &groups,
            &series,
        ),
    )?;
    let _ = writeln!(md, "![latency](docs/bench/latency.svg)\n");

    // Memory.
    let _ = writeln!(md, "## 3. Memory per idle session\n");
    let _ = writeln!(md, "Idle MQTT sessions held open by a separate process; RSS of the relay (for websockify, the proportional set size of its process and the child it forks per connection, so shared pages count once).\n");
    let _ = writeln!(
        md,
        "| relay | sessions | RSS before | RSS with sessions | per session |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    for row in &report.idle {
        let _ = writeln!(
            md,
            "| {} | {} | {} KiB | {} KiB | {:.1} KiB |",
            row.path,
            row.sessions,
            row.rss_before_kib,
            row.rss_with_kib,
            row.per_session_kib()
        );
    }

    // Sizes and core, from the script's measurements.
    let _ = writeln!(md, "\n## 4. Download size\n");
    match sizes_json.and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(text) => {
            let _ = writeln!(md, "{}", sizes_table(&text));
        }
        None => {
            let _ = writeln!(md, "Not measured in this run.");
        }
    }
    let _ = writeln!(
        md,
        "\n## 5. The sans-IO core alone (1 KiB QoS 1 publishes, natively)\n"
    );
    match core_json.and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(text) => {
            let _ = writeln!(
                md,
                "| case | median msg/s | min | max |\n|---|---:|---:|---:|"
            );
            for case in text.split("},{") {
                let field = |name: &str| {
                    case.split(&format!("\"{name}\":"))
                        .nth(1)
                        .map(|v| {
                            v.split([',', '}'])
                                .next()
                                .unwrap_or("")
                                .trim_matches('"')
                                .to_string()
                        })
                        .unwrap_or_default()
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    field("case"),
                    field("median"),
                    field("min"),
                    field("max")
                );
            }
        }
        None => {
            let _ = writeln!(md, "Not measured in this run.");
        }
    }

    let _ = writeln!(md, "\n{}", browser_section(report.browser.as_ref()));

    // Targets.
    let tp = |p: &str| find(report, p, 10, 1024).map_or(0.0, |r| r.messages().0);
    let bridge_direct = tp("ws-bridge") / tp("direct TLS").max(1.0);
    let bridge_websockify = tp("ws-bridge") / tp("websockify").max(1.0);
    let per_session = report
        .idle
        .iter()
        .find(|r| r.path == "ws-bridge")
        .map_or(f64::NAN, IdleRow::per_session_kib);
    let _ = writeln!(md, "\n## Targets\n");
    let _ = writeln!(md, "| target | measured | |\n|---|---|---|");
    let _ = writeln!(
        md,
        "| bridge throughput >= 0.9x direct TLS (1 KiB, 10 sessions) | {bridge_direct:.2}x | {} |",
        met(bridge_direct >= 0.9)
    );
    let _ = writeln!(md, "| bridge throughput >= 5x websockify (1 KiB, 10 sessions) | {bridge_websockify:.2}x | {} |", met(bridge_websockify >= 5.0));
    let _ = writeln!(
        md,
        "| added latency p50 <= 50 µs | {added50:.0} µs | {} |",
        met(added50 <= 50.0)
    );
    let _ = writeln!(
        md,
        "| added latency p99 <= 250 µs | {added99:.0} µs | {} |",
        met(added99 <= 250.0)
    );
    let _ = writeln!(
        md,
        "| <= 64 KiB RSS per idle bridged session | {per_session:.1} KiB | {} |",
        met(per_session <= 64.0)
    );
    md.push_str(&browser_targets(report.browser.as_ref()));
    std::fs::write(out, md)
}

/// `{"name": [raw, gzip], ...}` as written by scripts/bench.sh, as a table.
fn sizes_table(json: &str) -> String {
    let mut table = String::from("| artefact | raw | gzip -9 |\n|---|---:|---:|\n");
    for entry in json
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split("],")
    {
        let Some((name, values)) = entry.split_once(':') else {
            continue;
        };
        let numbers: Vec<&str> = values
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(str::trim)
            .collect();
        if let [raw, gz] = numbers.as_slice() {
            let _ = writeln!(
                table,
                "| {} | {raw} B | {gz} B |",
                name.trim().trim_matches('"')
            );
        }
    }
    table
}

/// Text safe in a Markdown table cell (a reason may hold `|` or line breaks).
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Median and range of one client's runs, or why it has none.
fn client_cells(runs: &ClientRuns) -> (String, String) {
    if runs.rates.is_empty() {
        let why = runs.errors.first().map_or("no runs", String::as_str);
        return (format!("failed: {}", cell(why)), String::new());
    }
    let (median, min, max) = median_range(runs.rates.clone());
    let mut range = format!("[{min:.0} - {max:.0}]");
    if let Some(e) = runs.errors.first() {
        let _ = write!(
            range,
            " ({} of {} runs failed: {})",
            runs.errors.len(),
            runs.errors.len() + runs.rates.len(),
            cell(e)
        );
    }
    (format!("{median:.0}"), range)
}

/// Ours / the other client (medians), when both have runs.
fn browser_ratio(row: &crate::browser::BrowserRow) -> Option<f64> {
    let ours = median_range(row.ours.rates.clone()).0;
    let other = median_range(row.other.rates.clone()).0;
    (!row.ours.rates.is_empty() && !row.other.rates.is_empty() && other > 0.0).then(|| ours / other)
}

/// Section 6 of BENCHMARKS.md: the browser client against MQTT.js.
pub fn browser_section(browser: Option<&BrowserReport>) -> String {
    let mut md =
        String::from("## 6. Browser client (headless Chromium, same page, same bridge)\n\n");
    let Some(b) = browser else {
        md.push_str("Not measured in this run.\n");
        return md;
    };
    let _ = writeln!(
        md,
        "{} (client-wasm/pkg, through its JavaScript API) and {} (dist/mqtt.min.js), each in a \
         fresh load of the same page (`tests/bench/page`), served by ws-bridge together with both \
         clients (same origin), through that bridge to the same mosquitto TLS listener. MQTT \
         3.1.1, clean session, keepalive 60 s, no reconnect, the same Uint8Array payload; {} \
         messages outstanding (QoS 0: published and not yet received back; QoS 1: not yet \
         acknowledged). Counted for {:.1} s after a {:.1} s warm-up; {} run(s) per client, \
         alternating; median and range.{}\n",
        b.ours_name,
        b.other_name,
        crate::browser::WINDOW,
        b.duration.as_secs_f64(),
        b.warmup.as_secs_f64(),
        b.runs,
        if b.user_agent.is_empty() {
            String::new()
        } else {
            format!(" Browser: `{}`.", b.user_agent)
        }
    );
    if let Some(why) = &b.failed {
        let _ = writeln!(md, "failed: {}", cell(why));
        return md;
    }
    let _ = writeln!(
        md,
        "| case | payload | {} msg/s (median) | [min - max] | {} msg/s (median) | [min - max] | ours / {} |",
        b.ours_name, b.other_name, b.other_name
    );
    let _ = writeln!(md, "|---|---:|---:|---|---:|---|---:|");
    for row in &b.rows {
        let (ours, ours_range) = client_cells(&row.ours);
        let (other, other_range) = client_cells(&row.other);
        let ratio = browser_ratio(row).map_or("n/a".into(), |r| format!("{r:.2}x"));
        let _ = writeln!(
            md,
            "| {} | {} B | {ours} | {ours_range} | {other} | {other_range} | {ratio} |",
            row.case, row.size
        );
    }
    // CPU cost per message: independent of how fast the rest of the machine turns messages round.
    let cpu = |runs: &ClientRuns| {
        (!runs.cpu_us.is_empty()).then(|| {
            let cpu = median_range(runs.cpu_us.clone()).0;
            (cpu, format!("{cpu:.0}"))
        })
    };
    if b.rows
        .iter()
        .any(|r| cpu(&r.ours).is_some() || cpu(&r.other).is_some())
    {
        let _ = writeln!(
            md,
            "\nRenderer CPU per message: the renderer process's CPU time (Chromium's \
             `Performance.getMetrics` `ProcessTime`: page thread, the client's timer worker, IPC) \
             over each run, warm-up included, divided by the messages completed; median of the \
             runs, lower is better. It depends much less than messages/s on how fast the bridge, \
             the broker and the browser's network process turn messages round on the shared \
             cores.\n"
        );
        let _ = writeln!(
            md,
            "| case | payload | {} µs/msg | {} µs/msg | {} / ours |",
            b.ours_name, b.other_name, b.other_name
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|");
        for row in &b.rows {
            let (ours, other) = (cpu(&row.ours), cpu(&row.other));
            let text = |c: &Option<(f64, String)>| c.as_ref().map_or("n/a".into(), |c| c.1.clone());
            let ratio = match (&ours, &other) {
                (Some(o), Some(t)) if o.0 > 0.0 => format!("{:.2}x", t.0 / o.0),
                _ => "n/a".into(),
            };
            let _ = writeln!(
                md,
                "| {} | {} B | {} | {} | {ratio} |",
                row.case,
                row.size,
                text(&ours),
                text(&other)
            );
        }
    }
    md
}

/// The browser client's rows of the targets table (ours >= 2x MQTT.js).
pub fn browser_targets(browser: Option<&BrowserReport>) -> String {
    let mut md = String::new();
    for (mode, size, what) in [
        ("qos0", 1024, "QoS 0 round trips, 1 KiB"),
        ("qos1", 1024, "QoS 1 acknowledged publishes, 1 KiB"),
    ] {
        let ratio = browser
            .and_then(|b| b.row(mode, size))
            .and_then(browser_ratio);
        let (measured, verdict) = match ratio {
            Some(r) => (format!("{r:.2}x"), met(r >= 2.0)),
            None => ("not measured".to_string(), "missed"),
        };
        let _ = writeln!(
            md,
            "| browser client >= 2x MQTT.js ({what}) | {measured} | {verdict} |"
        );
    }
    md
}

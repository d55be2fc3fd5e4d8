//! BENCHMARKS.md and its plots. A run that failed is reported as FAILED with its reason, never
//! as a figure (a zero, or a median that quietly left it out).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::browser::{BrowserReport, ClientRuns};
use crate::figures::{paired_latency_difference, paired_ratios, Spread};
use crate::figures::{Figures, LatencyRow, ThroughputRow, SESSIONS, SIZES};
use crate::idle::IdleRun;
use crate::svg;

#[derive(Debug, Default)]
pub struct Report {
    pub throughput: Vec<ThroughputRow>,
    pub latency: Vec<LatencyRow>,
    pub idle: Vec<IdleRun>,
    /// Scenario 4 (`None`: not run).
    pub browser: Option<BrowserReport>,
    /// Alternating rounds of the throughput and latency scenarios.
    pub rounds: usize,
    /// Measured time of one throughput run.
    pub duration: Duration,
}

impl Report {
    /// Every failed measurement of the relay scenarios, one line each.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for row in &self.throughput {
            for why in row.failures() {
                out.push(format!(
                    "throughput {} {} sessions {} B: {why}",
                    row.path, row.sessions, row.size
                ));
            }
        }
        for row in &self.latency {
            for why in row.failures() {
                out.push(format!("latency {}: {why}", row.path));
            }
        }
        for run in &self.idle {
            if let Some(why) = &run.failed {
                out.push(format!("idle sessions {}: {why}", run.relay));
            }
        }
        out
    }
}

/// Median, min and max (browser runs).
fn median_range(values: Vec<f64>) -> (f64, f64, f64) {
    Spread::of(values).map_or((0.0, 0.0, 0.0), |s| (s.median, s.min, s.max))
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

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "missed"
    }
}

/// `median [min - max]` with `digits` decimals.
fn spread_text(s: &Spread, digits: usize) -> String {
    format!(
        "{:.d$} [{:.d$} - {:.d$}]",
        s.median,
        s.min,
        s.max,
        d = digits
    )
}

/// A figure's cell, or FAILED when no run produced it.
fn figure_cell(s: Option<Spread>, digits: usize) -> String {
    s.map_or_else(|| "**FAILED**".into(), |s| spread_text(&s, digits))
}

/// How many runs succeeded, or FAILED with the first reason.
fn runs_cell(total: usize, failures: &[&str]) -> String {
    match failures.first() {
        None => format!("{total}/{total}"),
        Some(why) => format!("**FAILED** {} of {total}: {}", failures.len(), cell(why)),
    }
}

/// Ratio of medians, with the spread of the per-round ratios.
fn ratio_cell(
    a: Option<&ThroughputRow>,
    b: Option<&ThroughputRow>,
    f: fn(&Figures) -> Option<f64>,
    what: fn(&ThroughputRow) -> Option<Spread>,
) -> String {
    let (Some(a), Some(b)) = (a, b) else {
        return "not measured".into();
    };
    match (what(a), what(b), paired_ratios(a, b, f)) {
        (Some(x), Some(y), Some(r)) if y.median > 0.0 => {
            format!("{:.2}x ({:.2} - {:.2})", x.median / y.median, r.min, r.max)
        }
        _ => format!(
            "**FAILED**: {} has no successful run to compare",
            if what(a).is_none() { a.path } else { b.path }
        ),
    }
}

/// met / missed, or FAILED when the figure is missing.
fn verdict(value: Option<f64>, ok: impl Fn(f64) -> bool) -> &'static str {
    value.map_or("**FAILED**", |v| met(ok(v)))
}

fn messages(f: &Figures) -> Option<f64> {
    Some(f.messages_per_s)
}

fn relay_us(f: &Figures) -> Option<f64> {
    f.relay_us
}

pub fn write(
    report: &Report,
    out: &Path,
    plots: &Path,
    core_json: Option<&Path>,
    sizes_json: Option<&Path>,
) -> std::io::Result<()> {
    let md = render(report, &machine(), plots, core_json, sizes_json)?;
    std::fs::write(out, md)
}

/// BENCHMARKS.md's text for `report` measured on `machine`; the plots are written into `plots`.
fn render(
    report: &Report,
    machine: &str,
    plots: &Path,
    core_json: Option<&Path>,
    sizes_json: Option<&Path>,
) -> std::io::Result<String> {
    std::fs::create_dir_all(plots)?;
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(md, "Machine: {machine}, shared with other work while this ran. Produced by `bash scripts/bench.sh` in one run; every path on loopback against the same mosquitto TLS listener, with the same load client (client-wasm's native driver). Throughput and latency ran in {} alternating rounds (every case on every path in turn, then the next round), so a slow moment of the machine hits all paths alike; figures are medians over the rounds with their range in brackets. Messages per second move with the load of the machine; CPU time per message moves much less.\n", report.rounds);

    let failures = report.failures();
    let _ = writeln!(md, "## Failures in this run\n");
    if failures.is_empty() {
        let _ = writeln!(md, "None: every run measured messages from every session, every latency run got its samples, and every idle session asked for was open when its memory was read.\n");
    } else {
        let _ = writeln!(md, "These runs measured nothing and are left out of every figure below (the bench exits non-zero):\n");
        for f in &failures {
            let _ = writeln!(md, "- **FAILED** {}", cell(f));
        }
        md.push('\n');
    }

    throughput_section(&mut md, report, plots)?;
    latency_section(&mut md, report, plots)?;
    idle_section(&mut md, report);

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
    targets_section(&mut md, report);
    Ok(md)
}

fn throughput_section(md: &mut String, report: &Report, plots: &Path) -> std::io::Result<()> {
    let _ = writeln!(
        md,
        "## 1. Round-trip throughput (QoS 0, publish to a topic the session subscribes to)\n"
    );
    let _ = writeln!(
        md,
        "Each session keeps 8 messages in flight. All sessions of a run connect and subscribe \
         first; then all measure together for {:.0} s after a 0.5 s warm-up. A run in which any \
         session failed (no CONNACK or SUBACK in time, connection lost, nothing back for half \
         the run) is FAILED with its reason and left out. Relay CPU: the relay process's \
         user + system time (`/proc/<pid>/stat`; for websockify its process and the child it \
         forks per connection), sampled at the start and end of the measurement, divided by \
         the messages that made the round trip (each crossed the relay twice: up to the broker \
         and back down); broker CPU likewise for mosquitto. {} ms per CPU tick.\n",
        report.duration.as_secs_f64(),
        crate::cpu::tick().as_millis()
    );
    let _ = writeln!(
        md,
        "| path | sessions | payload | msg/s [min - max] | MB/s | relay CPU µs/msg [min - max] | broker CPU µs/msg | runs |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---|");
    for row in &report.throughput {
        let _ = writeln!(
            md,
            "| {} | {} | {} B | {} | {} | {} | {} | {} |",
            row.path,
            row.sessions,
            row.size,
            figure_cell(row.messages(), 0),
            row.megabytes()
                .map_or("**FAILED**".into(), |s| format!("{:.2}", s.median)),
            if row.path == "direct TLS" {
                "(no relay)".into()
            } else {
                figure_cell(row.relay_cpu(), 1)
            },
            row.broker_cpu()
                .map_or("-".into(), |s| format!("{:.1}", s.median)),
            runs_cell(row.runs.len(), &row.failures())
        );
    }
    let _ = writeln!(
        md,
        "\n### Relay CPU per message: ws-bridge against websockify\n\n\
         Same run, same rounds. websockify / ws-bridge is the ratio of the medians; in brackets \
         the smallest and largest ratio of one round's pair of runs.\n"
    );
    let _ = writeln!(
        md,
        "| sessions | payload | ws-bridge µs/msg | websockify µs/msg | websockify / ws-bridge |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    for sessions in SESSIONS {
        for size in SIZES {
            let (bridge, websockify) = (
                find(report, "ws-bridge", sessions, size),
                find(report, "websockify", sessions, size),
            );
            let _ = writeln!(
                md,
                "| {sessions} | {size} B | {} | {} | {} |",
                figure_cell(bridge.and_then(ThroughputRow::relay_cpu), 1),
                figure_cell(websockify.and_then(ThroughputRow::relay_cpu), 1),
                ratio_cell(websockify, bridge, relay_us, ThroughputRow::relay_cpu)
            );
        }
    }
    let _ = writeln!(
        md,
        "\n### Throughput ratios\n\nRatio of the medians; in brackets the smallest and largest \
         ratio of one round's pair of runs.\n"
    );
    let _ = writeln!(
        md,
        "| sessions | payload | bridge / direct TLS | bridge / websockify | bridge / mosquitto ws |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    for sessions in SESSIONS {
        for size in SIZES {
            let row = |p: &str| find(report, p, sessions, size);
            let bridge = row("ws-bridge");
            let _ = writeln!(
                md,
                "| {sessions} | {size} B | {} | {} | {} |",
                ratio_cell(bridge, row("direct TLS"), messages, ThroughputRow::messages),
                ratio_cell(bridge, row("websockify"), messages, ThroughputRow::messages),
                ratio_cell(
                    bridge,
                    row("mosquitto websockets"),
                    messages,
                    ThroughputRow::messages
                ),
            );
        }
    }
    let paths: Vec<&str> = {
        let mut p: Vec<&str> = Vec::new();
        for r in &report.throughput {
            if !p.contains(&r.path) {
                p.push(r.path);
            }
        }
        p
    };
    let xs: Vec<String> = SESSIONS.iter().map(|s| s.to_string()).collect();
    // A path with a FAILED point is left out of the plot rather than drawn at zero.
    let series_of = |what: fn(&ThroughputRow) -> Option<Spread>| -> Vec<(&str, Vec<f64>)> {
        paths
            .iter()
            .filter_map(|p| {
                let values: Option<Vec<f64>> = SESSIONS
                    .iter()
                    .map(|s| find(report, p, *s, 1024).and_then(what).map(|x| x.median))
                    .collect();
                Some((*p, values?))
            })
            .collect()
    };
    std::fs::write(
        plots.join("throughput-1kib.svg"),
        svg::lines(
            "Round trips per second, 1 KiB QoS 0 (median)",
            "concurrent sessions",
            "messages/s",
            &xs,
            &series_of(ThroughputRow::messages),
        ),
    )?;
    std::fs::write(
        plots.join("relay-cpu-1kib.svg"),
        svg::lines(
            "Relay CPU per round trip, 1 KiB QoS 0 (median)",
            "concurrent sessions",
            "µs per message",
            &xs,
            &series_of(ThroughputRow::relay_cpu),
        ),
    )?;
    let _ = writeln!(md, "\n![throughput](docs/bench/throughput-1kib.svg)\n");
    let _ = writeln!(
        md,
        "![relay CPU per message](docs/bench/relay-cpu-1kib.svg)\n"
    );
    Ok(())
}

fn latency_row<'a>(report: &'a Report, path: &str) -> Option<&'a LatencyRow> {
    report.latency.iter().find(|r| r.path == path)
}

fn latency_section(md: &mut String, report: &Report, plots: &Path) -> std::io::Result<()> {
    let _ = writeln!(
        md,
        "## 2. Added latency (one session, one message in flight, 64 B)\n\n\
         One run per path per round, alternating; each percentile is the median of the rounds' \
         percentiles, with their range.\n"
    );
    let _ = writeln!(md, "| path | samples | p50 µs | p99 µs | p99.9 µs | runs |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---|");
    for row in &report.latency {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            row.path,
            row.samples(),
            figure_cell(row.percentile(0.5), 0),
            figure_cell(row.percentile(0.99), 0),
            figure_cell(row.percentile(0.999), 0),
            runs_cell(row.runs.len(), &row.failures())
        );
    }
    let added = |p: f64| match (
        latency_row(report, "ws-bridge"),
        latency_row(report, "direct TLS"),
    ) {
        (Some(a), Some(b)) => paired_latency_difference(a, b, p),
        _ => None,
    };
    let text = |s: Option<Spread>| {
        s.map_or("**FAILED**".into(), |s| {
            format!("{:+.0} µs ({:+.0} to {:+.0})", s.median, s.min, s.max)
        })
    };
    let _ = writeln!(
        md,
        "\nBridge minus direct TLS, median of the rounds' differences (range): p50 {}, p99 {}.\n",
        text(added(0.5)),
        text(added(0.99))
    );
    let groups: Vec<String> = report.latency.iter().map(|r| r.path.to_string()).collect();
    let series: Vec<(&str, Vec<f64>)> = [("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)]
        .iter()
        .map(|(name, p)| {
            (
                *name,
                report
                    .latency
                    .iter()
                    .map(|r| r.percentile(*p).map_or(0.0, |s| s.median))
                    .collect(),
            )
        })
        .collect();
    std::fs::write(
        plots.join("latency.svg"),
        svg::bars(
            "Round-trip latency per path (median of rounds)",
            "microseconds",
            &groups,
            &series,
        ),
    )?;
    let _ = writeln!(md, "![latency](docs/bench/latency.svg)\n");
    Ok(())
}

/// The relay column of an idle row: how many processes shared the sessions.
fn relay_label(run: &IdleRun) -> String {
    if run.relays > 1 {
        format!("{} ({} processes)", run.relay, run.relays)
    } else {
        run.relay.to_string()
    }
}

fn idle_section(md: &mut String, report: &Report) {
    let _ = writeln!(
        md,
        "## 3. Idle sessions: memory, connect rate, and where it stops\n"
    );
    let _ = writeln!(
        md,
        "Real sessions held by separate processes: TCP from several loopback source addresses \
         (127.0.0.2, 127.0.0.3, ...: from one address the ephemeral ports run out near 28,000), \
         the WebSocket upgrade, an MQTT CONNECT relayed to mosquitto over the relay's TLS \
         connection and its CONNACK back; then each stays open, answering the relay's pings. \
         The bridge rows ran on their own mosquitto with one TLS listener per 12,500 sessions \
         (each listener is another destination for the bridge's upstream ports) and one route \
         to each. Memory: RSS of the relay before and with the sessions (for websockify, the \
         proportional set size of its process and the child it forks per connection, so \
         shared pages count once). A run with fewer sessions open than asked for is FAILED.\n"
    );
    if let Some(run) = report.idle.iter().find(|r| r.relay == "ws-bridge") {
        let ceiling = run
            .ceilings
            .iter()
            .find(|c| c.1.starts_with("open files of one relay"))
            .map_or("(not measured)".to_string(), |c| c.0.to_string());
        let spread = report
            .idle
            .iter()
            .find(|r| r.relay == "ws-bridge" && r.relays > 1);
        let _ = writeln!(
            md,
            "Every process ran with an open-file limit of {} (`RLIMIT_NOFILE`; the bench raises \
             it as far as it may: to `fs.nr_open` with CAP_SYS_RESOURCE, else to the hard limit, \
             which here it may not exceed). A bridge needs two descriptors per session, so one \
             bridge process holds at most {ceiling} sessions here{}.\n",
            run.nofile,
            match spread {
                Some(r) => format!(
                    "; the {} sessions therefore ran on {} bridge processes (a deployment raises \
                     `LimitNOFILE` in the systemd unit instead), and the one-bridge row shows one \
                     bridge near its limit",
                    r.requested, r.relays
                ),
                None => String::new(),
            }
        );
    }
    let _ = writeln!(
        md,
        "| relay | sessions asked | open when measured | connect time | sessions/s (peak 1 s) | RSS before | RSS with sessions | per session | |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for run in &report.idle {
        let (per, status) = match &run.failed {
            None => (
                format!("{:.1} KiB", run.per_session_kib()),
                "ok".to_string(),
            ),
            Some(why) => ("**FAILED**".into(), format!("**FAILED**: {}", cell(why))),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} s | {:.0} ({:.0}) | {} KiB | {} KiB | {per} | {status} |",
            relay_label(run),
            run.requested,
            run.alive,
            run.connect_time.as_secs_f64(),
            run.connect_rate(),
            run.peak_rate,
            run.relay_before_kib,
            run.relay_with_kib
        );
    }
    for run in report.idle.iter().filter(|r| r.relay == "ws-bridge") {
        let _ = writeln!(md, "\n{}", idle_summary(run));
    }
}

/// A scale run's other costs and its ceilings, as Markdown (also printed by `--only idle`).
pub fn idle_summary(run: &IdleRun) -> String {
    let mut md = String::new();
    let alive = run.alive.max(1) as f64;
    let _ = writeln!(
        md,
        "**{} idle sessions through {}** ({} source addresses; {} mosquitto process(es) with {} \
         TLS listeners in all; {} holding process(es); open-file limit {}): {} open, connected \
         in {:.1} s ({:.0} sessions/s, peak {:.0} in one second). {}",
        run.requested,
        relay_label(run),
        run.sources,
        run.brokers,
        run.listeners,
        run.holders,
        run.nofile,
        run.alive,
        run.connect_time.as_secs_f64(),
        run.connect_rate(),
        run.peak_rate,
        match &run.failed {
            None => "All open when measured.".to_string(),
            Some(why) => format!("**FAILED**: {}.", cell(why)),
        }
    );
    let _ = writeln!(
        md,
        "\n| per session | KiB |\n|---|---:|\n| bridge RSS | {:.1} |\n| mosquitto RSS | {:.1} |\n| the holding processes (client side) | {:.1} |\n| kernel TCP buffers (`/proc/net/sockstat`) | {:.1} |",
        run.per_session_kib(),
        run.broker_delta_kib as f64 / alive,
        run.holder_kib as f64 / alive,
        run.kernel_tcp_delta_kib as f64 / alive
    );
    let _ = writeln!(
        md,
        "\nBridge open files: {} before, {} with the sessions ({:.2} per session).",
        run.relay_fds.0,
        run.relay_fds.1,
        run.relay_fds.1.saturating_sub(run.relay_fds.0) as f64 / alive
    );
    if !run.ceilings.is_empty() {
        let _ = writeln!(
            md,
            "\nWhere one bridge stops on this machine, from these figures (first limit first):\n\n| sessions | limit |\n|---:|---|"
        );
        for (n, what) in &run.ceilings {
            let _ = writeln!(md, "| {n} | {} |", cell(what));
        }
    }
    if let Some(n) = run.conntrack {
        let _ = writeln!(
            md,
            "\nConnection tracking: {n} entries in `nf_conntrack` with the sessions open{}.",
            if n == 0 {
                " (loopback traffic is not tracked here: no limit from the conntrack table)"
            } else {
                ""
            }
        );
    }
    md
}

/// One row of `--only throughput`, printed.
pub fn throughput_summary(row: &ThroughputRow) -> String {
    format!(
        "{:<22} {} sessions {} B: msg/s {}, relay µs/msg {}, broker µs/msg {}, runs {}",
        row.path,
        row.sessions,
        row.size,
        figure_cell(row.messages(), 0),
        figure_cell(row.relay_cpu(), 1),
        figure_cell(row.broker_cpu(), 1),
        runs_cell(row.runs.len(), &row.failures())
    )
}

fn targets_section(md: &mut String, report: &Report) {
    let row = |p: &str| find(report, p, 10, 1024);
    let (bridge, direct, websockify) = (row("ws-bridge"), row("direct TLS"), row("websockify"));
    let ratio = |a: Option<&ThroughputRow>,
                 b: Option<&ThroughputRow>,
                 f: fn(&Figures) -> Option<f64>,
                 what: fn(&ThroughputRow) -> Option<Spread>| {
        let (a, b) = (a?, b?);
        let (x, y) = (what(a)?, what(b)?);
        (y.median > 0.0).then(|| (x.median / y.median, paired_ratios(a, b, f)))
    };
    let show = |r: Option<(f64, Option<Spread>)>, what: &str| match r {
        Some((m, Some(s))) => format!("{m:.2}x (rounds {:.2} - {:.2}; {what})", s.min, s.max),
        Some((m, None)) => format!("{m:.2}x"),
        None => "**FAILED**: no successful runs to compare".into(),
    };
    let spread_of = |r: Option<&ThroughputRow>| {
        r.and_then(ThroughputRow::messages)
            .map_or("FAILED".into(), |s| spread_text(&s, 0))
    };
    let _ = writeln!(md, "\n## Targets\n");
    let _ = writeln!(
        md,
        "Ratios of the medians over {} alternating rounds; in brackets the range of the \
         rounds' own ratios.\n",
        report.rounds
    );
    let _ = writeln!(md, "| target | measured | |\n|---|---|---|");
    let bd = ratio(bridge, direct, messages, ThroughputRow::messages);
    let _ = writeln!(
        md,
        "| bridge throughput >= 0.9x direct TLS (1 KiB, 10 sessions) | {} | {} |",
        show(
            bd,
            &format!(
                "bridge {} msg/s, direct {}",
                spread_of(bridge),
                spread_of(direct)
            )
        ),
        verdict(bd.map(|r| r.0), |v| v >= 0.9)
    );
    let bw = ratio(bridge, websockify, messages, ThroughputRow::messages);
    let _ = writeln!(
        md,
        "| bridge throughput >= 5x websockify (1 KiB, 10 sessions) | {} | {} |",
        show(bw, &format!("websockify {} msg/s", spread_of(websockify))),
        verdict(bw.map(|r| r.0), |v| v >= 5.0)
    );
    let cpu = ratio(websockify, bridge, relay_us, ThroughputRow::relay_cpu);
    let cpu_text = |r: Option<&ThroughputRow>| {
        r.and_then(ThroughputRow::relay_cpu)
            .map_or("FAILED".into(), |s| spread_text(&s, 1))
    };
    let _ = writeln!(
        md,
        "| relay CPU per message, websockify / bridge (1 KiB, 10 sessions; no target set, the steady figure) | {} | {} |",
        show(cpu, &format!("bridge {} µs, websockify {} µs", cpu_text(bridge), cpu_text(websockify))),
        if cpu.is_some() { "measured" } else { "**FAILED**" }
    );
    let added = |p: f64| match (
        latency_row(report, "ws-bridge"),
        latency_row(report, "direct TLS"),
    ) {
        (Some(a), Some(b)) => paired_latency_difference(a, b, p),
        _ => None,
    };
    for (p, limit) in [(0.5, 50.0), (0.99, 250.0)] {
        let a = added(p);
        let _ = writeln!(
            md,
            "| added latency p{} <= {limit:.0} µs | {} | {} |",
            p * 100.0,
            a.map_or("**FAILED**".into(), |s| format!(
                "{:+.0} µs (rounds {:+.0} to {:+.0})",
                s.median, s.min, s.max
            )),
            verdict(a.map(|s| s.median), |v| v <= limit)
        );
    }
    let idle = report
        .idle
        .iter()
        .filter(|r| r.relay == "ws-bridge")
        .max_by_key(|r| r.requested);
    let per = idle
        .filter(|r| r.failed.is_none())
        .map(IdleRun::per_session_kib);
    let _ = writeln!(
        md,
        "| <= 64 KiB RSS per idle bridged session | {} | {} |",
        match (idle, per) {
            (Some(r), Some(p)) =>
                format!("{p:.1} KiB at {} sessions ({})", r.alive, relay_label(r)),
            (Some(r), None) => format!("**FAILED**: {}", cell(r.failed.as_deref().unwrap_or(""))),
            (None, _) => "not measured".into(),
        },
        verdict(per, |v| v <= 64.0)
    );
    md.push_str(&browser_targets(report.browser.as_ref()));
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

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;

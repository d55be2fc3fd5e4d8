//! Section 1: round-trip throughput, the relay CPU and throughput ratios, and their plots.

use std::fmt::Write as _;
use std::path::Path;

use crate::figures::{Spread, ThroughputRow, SESSIONS, SIZES};
use crate::svg;

use super::cells::{figure_cell, find, messages, ratio_cell, relay_us, runs_cell};
use super::Report;

pub(super) fn throughput_section(
    md: &mut String,
    report: &Report,
    plots: &Path,
) -> std::io::Result<()> {
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
    let xs: Vec<String> = SESSIONS.iter().map(ToString::to_string).collect();
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

/// One row of `--only throughput`, printed.
pub(crate) fn throughput_summary(row: &ThroughputRow) -> String {
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

//! The targets table: each goal of the project against this run's figures.

use std::fmt::Write as _;

use crate::figures::{paired_latency_difference, paired_ratios, Figures, Spread, ThroughputRow};
use crate::idle::IdleRun;

use super::browser::browser_targets;
use super::cells::{cell, find, latency_row, messages, relay_us, spread_text, verdict};
use super::idle::relay_label;
use super::Report;

pub(super) fn targets_section(md: &mut String, report: &Report) {
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

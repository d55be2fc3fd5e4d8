//! Section 2: added latency per path, and its plot.

use std::fmt::Write as _;
use std::path::Path;

use crate::figures::{paired_latency_difference, Spread};
use crate::svg;

use super::cells::{figure_cell, latency_row, runs_cell};
use super::Report;

pub(super) fn latency_section(
    md: &mut String,
    report: &Report,
    plots: &Path,
) -> std::io::Result<()> {
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

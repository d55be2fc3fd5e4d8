//! The small pieces every section's tables are made of: cells, ratios, verdicts, look-ups.

use crate::figures::{paired_ratios, Figures, LatencyRow, Spread, ThroughputRow};

use super::Report;

/// Median, min and max (browser runs).
pub(super) fn median_range(values: Vec<f64>) -> (f64, f64, f64) {
    Spread::of(values).map_or((0.0, 0.0, 0.0), |s| (s.median, s.min, s.max))
}

pub(super) fn find<'a>(
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

pub(super) fn latency_row<'a>(report: &'a Report, path: &str) -> Option<&'a LatencyRow> {
    report.latency.iter().find(|r| r.path == path)
}

pub(super) fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "missed"
    }
}

/// `median [min - max]` with `digits` decimals.
pub(super) fn spread_text(s: &Spread, digits: usize) -> String {
    format!(
        "{:.d$} [{:.d$} - {:.d$}]",
        s.median,
        s.min,
        s.max,
        d = digits
    )
}

/// A figure's cell, or FAILED when no run produced it.
pub(super) fn figure_cell(s: Option<Spread>, digits: usize) -> String {
    s.map_or_else(|| "**FAILED**".into(), |s| spread_text(&s, digits))
}

/// How many runs succeeded, or FAILED with the first reason.
pub(super) fn runs_cell(total: usize, failures: &[&str]) -> String {
    match failures.first() {
        None => format!("{total}/{total}"),
        Some(why) => format!("**FAILED** {} of {total}: {}", failures.len(), cell(why)),
    }
}

/// Ratio of medians, with the spread of the per-round ratios.
pub(super) fn ratio_cell(
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
pub(super) fn verdict(value: Option<f64>, ok: impl Fn(f64) -> bool) -> &'static str {
    value.map_or("**FAILED**", |v| met(ok(v)))
}

pub(super) fn messages(f: &Figures) -> Option<f64> {
    Some(f.messages_per_s)
}

pub(super) fn relay_us(f: &Figures) -> Option<f64> {
    f.relay_us
}

/// Text safe in a Markdown table cell (a reason may hold `|` or line breaks).
pub(super) fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

//! Section 6: the browser client against MQTT.js, and its rows of the targets table.

use std::fmt::Write as _;

use crate::browser::{BrowserReport, BrowserRow, ClientRuns};

use super::cells::{cell, median_range, met};

/// Median and range of one client's runs, or why it has none.
pub(super) fn client_cells(runs: &ClientRuns) -> (String, String) {
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
pub(super) fn browser_ratio(row: &BrowserRow) -> Option<f64> {
    let ours = median_range(row.ours.rates.clone()).0;
    let other = median_range(row.other.rates.clone()).0;
    (!row.ours.rates.is_empty() && !row.other.rates.is_empty() && other > 0.0).then(|| ours / other)
}

/// Section 6 of BENCHMARKS.md: the browser client against MQTT.js.
pub(crate) fn browser_section(browser: Option<&BrowserReport>) -> String {
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
    let cpu = |runs: &ClientRuns| cpu_median(runs).map(|cpu| (cpu, format!("{cpu:.0}")));
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

/// One goal of a gated browser row, measured.
pub(crate) struct BrowserGoal {
    pub what: String,
    /// The ratio measured (`None`: a client has no successful run).
    pub ratio: Option<f64>,
    pub met: bool,
}

/// The median renderer CPU per message of one client's runs.
fn cpu_median(runs: &ClientRuns) -> Option<f64> {
    (!runs.cpu_us.is_empty()).then(|| median_range(runs.cpu_us.clone()).0)
}

/// The goals of every gated row: renderer CPU per message at most a third of MQTT.js's, and
/// messages/s at least MQTT.js's.
pub(crate) fn browser_goals(b: &BrowserReport) -> Vec<BrowserGoal> {
    let other = &b.other_name;
    let mut goals = Vec::new();
    for row in b.rows.iter().filter(|r| r.gated) {
        let cpu = match (cpu_median(&row.ours), cpu_median(&row.other)) {
            (Some(ours), Some(theirs)) if ours > 0.0 => Some(theirs / ours),
            _ => None,
        };
        let of_row = format!("({}, {} B)", row.case, row.size);
        for (what, ratio, at_least) in [
            (
                format!(
                    "browser renderer CPU per message <= 1/3 of {other} {of_row}: {other} / ours"
                ),
                cpu,
                3.0,
            ),
            (
                format!("browser msg/s >= {other} {of_row}: ours / {other}"),
                browser_ratio(row),
                1.0,
            ),
        ] {
            let met = ratio.is_some_and(|r| r >= at_least);
            goals.push(BrowserGoal { what, ratio, met });
        }
    }
    goals
}

/// The goals missed, one line each (the bench exits non-zero on any).
pub(crate) fn browser_misses(browser: Option<&BrowserReport>) -> Vec<String> {
    let Some(b) = browser.filter(|b| b.failed.is_none()) else {
        return Vec::new();
    };
    browser_goals(b)
        .into_iter()
        .filter(|g| !g.met)
        .map(|g| match g.ratio {
            Some(r) => format!("target missed: {}: {r:.2}x", g.what),
            None => format!("target missed: {}: not measured", g.what),
        })
        .collect()
}

/// The browser client's rows of the targets table.
pub(crate) fn browser_targets(browser: Option<&BrowserReport>) -> String {
    let mut md = String::new();
    let Some(b) = browser else {
        md.push_str("| browser client targets | not measured | missed |\n");
        return md;
    };
    for goal in browser_goals(b) {
        let measured = goal
            .ratio
            .map_or("not measured".into(), |r| format!("{r:.2}x"));
        let _ = writeln!(md, "| {} | {measured} | {} |", goal.what, met(goal.met));
    }
    md
}

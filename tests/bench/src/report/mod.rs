//! BENCHMARKS.md and its plots. A run that failed is reported as FAILED with its reason, never
//! as a figure (a zero, or a median that quietly left it out).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::browser::BrowserReport;
use crate::figures::{LatencyRow, ThroughputRow};
use crate::idle::IdleRun;

mod browser;
mod cells;
mod idle;
mod latency;
mod scripts;
mod targets;
mod throughput;

pub(crate) use browser::{browser_misses, browser_section, browser_targets};
pub(crate) use idle::idle_summary;
pub(crate) use throughput::throughput_summary;

use cells::cell;
use idle::idle_section;
use latency::latency_section;
use scripts::{core_section, sizes_section};
use targets::targets_section;
use throughput::throughput_section;

#[derive(Debug, Default)]
pub(crate) struct Report {
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
    /// Every failed measurement, and every browser target missed, one line each.
    pub(crate) fn failures(&self) -> Vec<String> {
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
        if let Some(why) = self.browser.as_ref().and_then(|b| b.failed.as_ref()) {
            out.push(format!("browser client: {why}"));
        }
        out.extend(browser_misses(self.browser.as_ref()));
        out
    }
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
        .map(std::num::NonZero::get)
        .unwrap_or(0);
    format!("{cores} cores, {cpu}")
}

pub(crate) fn write(
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
        let _ = writeln!(md, "These runs measured nothing and are left out of every figure below, or missed a browser target (the bench exits non-zero):\n");
        for f in &failures {
            let _ = writeln!(md, "- **FAILED** {}", cell(f));
        }
        md.push('\n');
    }

    throughput_section(&mut md, report, plots)?;
    latency_section(&mut md, report, plots)?;
    idle_section(&mut md, report);

    sizes_section(&mut md, sizes_json);
    core_section(&mut md, core_json);

    let _ = writeln!(md, "\n{}", browser_section(report.browser.as_ref()));
    targets_section(&mut md, report);
    Ok(md)
}

#[cfg(test)]
mod tests;

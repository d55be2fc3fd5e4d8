//! The benchmark runner behind `scripts/bench.sh`: every scenario on loopback against a real
//! mosquitto TLS listener, side by side in one run, written to BENCHMARKS.md with SVG plots.
//!
//! Paths (the same load client for all): direct TLS to mosquitto (the ceiling), through
//! ws-bridge, through websockify `--ssl-target` (no subprotocol: websockify refuses `mqtt`), and
//! mosquitto's own websockets listener when Debian's build has one.
//!
//! The browser client scenario (`browser`): client-wasm's npm package (`--pkg`, default
//! client-wasm/pkg) against MQTT.js (`--mqttjs dist/mqtt.min.js`) in headless Chromium;
//! `bench run --only browser` runs it alone; `--browser-profile DIR` saves a Chromium CPU profile
//! of every run there (`.cpuprofile`, for DevTools).
//!
//! `bench run --only edge-tls` prints the edge-TLS rows (TLS inside the package vs node:tls, in
//! Node; see `edge_tls.rs`).
//!
//! `bench run --out BENCHMARKS.md --plots docs/bench [--quick]`; `bench run --only throughput|latency|idle`
//! runs one scenario on a subset of paths and prints it (see `scenarios::run_only`);
//! `bench idle --urls U[,U...] --count N --sources N` is the separate process holding idle
//! sessions for the memory scenario (see `holder.rs`).
//!
//! A measurement that failed (a session that never ran, lost its connection or got nothing
//! back; missing latency samples; fewer idle sessions open than asked for) is reported as
//! FAILED with its reason, never as a figure, and the run exits with status 3; so does a run
//! that misses a browser target (see `report::browser_goals`).
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark runner: a broken set-up should stop the run loudly

mod browser;
mod cpu;
mod edge_tls;
mod figures;
mod holder;
mod idle;
mod load;
mod report;
mod scenarios;
mod svg;

use std::path::PathBuf;

/// Raises the open-file limit for this process and the ones it starts (bridge, mosquitto,
/// websockify, the idle-session holder): 50,000 idle sessions need about 100,000 descriptors in
/// the bridge. Root may raise the hard limit up to `fs.nr_open`; others get their hard limit.
fn raise_open_files() {
    let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .unwrap_or(1 << 20);
    if rlimit::setrlimit(rlimit::Resource::NOFILE, nr_open, nr_open).is_err() {
        let _ = rlimit::increase_nofile_limit(u64::MAX);
    }
}

fn main() {
    raise_open_files();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    let browser_inputs = browser::Inputs {
        pkg: Some(value("--pkg").map_or_else(browser::default_pkg, PathBuf::from)),
        mqttjs: value("--mqttjs").map(PathBuf::from),
        profile_dir: value("--browser-profile").map(PathBuf::from),
    };
    match args.first().map(String::as_str) {
        // `bench run --only browser [--quick] [--out FILE]`: scenario 4 alone, on its own broker;
        // prints its section (and writes it to --out if given; BENCHMARKS.md is left alone).
        Some("run") if value("--only").as_deref() == Some("browser") => {
            let quick = args.iter().any(|a| a == "--quick");
            let result = runtime.block_on(async {
                tokio::task::block_in_place(|| browser::run_alone(&browser_inputs, quick))
            });
            let section = report::browser_section(Some(&result));
            println!(
                "{section}\n| target | measured | |\n|---|---|---|\n{}",
                report::browser_targets(Some(&result))
            );
            if let Some(out) = value("--out") {
                if let Err(e) = std::fs::write(&out, &section) {
                    eprintln!("bench: cannot write {out}: {e}");
                    std::process::exit(1);
                }
            }
            let misses = report::browser_misses(Some(&result));
            for miss in &misses {
                eprintln!("bench: {miss}");
            }
            if result.failed.is_some() || !misses.is_empty() {
                std::process::exit(3);
            }
        }
        // `bench run --only edge-tls [--pkg DIR]`: TLS inside the package vs node:tls, in Node
        // (edge_tls.rs); prints its section.
        Some("run") if value("--only").as_deref() == Some("edge-tls") => {
            let pkg = value("--pkg").map_or_else(browser::default_pkg, PathBuf::from);
            let (section, complete) = edge_tls::run_alone(&pkg);
            println!("{section}");
            if !complete {
                std::process::exit(3);
            }
        }
        Some("idle") => {
            let (Some(urls), Some(count)) = (
                value("--urls"),
                value("--count").and_then(|c| c.parse().ok()),
            ) else {
                eprintln!("usage: bench idle --urls URL[,URL...] --count N [--first I] [--sources N] [--allowance SECS] [--no-subprotocol]");
                std::process::exit(2);
            };
            let plan = holder::Plan {
                urls: urls.split(',').map(str::to_string).collect(),
                count,
                first: value("--first").and_then(|n| n.parse().ok()).unwrap_or(0),
                sources: value("--sources").and_then(|n| n.parse().ok()).unwrap_or(1),
                subprotocol: !args.iter().any(|a| a == "--no-subprotocol"),
                allowance: std::time::Duration::from_secs(
                    value("--allowance")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(300),
                ),
            };
            runtime.block_on(holder::run(plan));
        }
        Some("run") if args.iter().any(|a| a == "--only") => {
            if !runtime.block_on(scenarios::run_only(&args)) {
                eprintln!("bench: FAILED runs above");
                std::process::exit(3);
            }
        }
        Some("run") => {
            let out = PathBuf::from(value("--out").unwrap_or_else(|| "BENCHMARKS.md".into()));
            let plots = PathBuf::from(value("--plots").unwrap_or_else(|| "docs/bench".into()));
            let core_json = value("--core-json").map(PathBuf::from);
            let sizes_json = value("--sizes-json").map(PathBuf::from);
            let quick = args.iter().any(|a| a == "--quick");
            let report = runtime.block_on(scenarios::run_all(quick, &browser_inputs));
            if let Err(e) = report::write(
                &report,
                &out,
                &plots,
                core_json.as_deref(),
                sizes_json.as_deref(),
            ) {
                eprintln!("bench: cannot write the report: {e}");
                std::process::exit(1);
            }
            println!("wrote {} and plots in {}", out.display(), plots.display());
            let failures = report.failures();
            if !failures.is_empty() {
                eprintln!(
                    "bench: {} FAILED measurements (listed in the report):",
                    failures.len()
                );
                for f in &failures {
                    eprintln!("  FAILED {f}");
                }
                std::process::exit(3);
            }
        }
        _ => {
            eprintln!("usage: bench run [--out FILE] [--plots DIR] [--core-json F] [--sizes-json F] [--pkg DIR] [--mqttjs FILE] [--browser-profile DIR] [--quick] [--only browser|throughput|latency|idle] | bench idle ...");
            std::process::exit(2);
        }
    }
}

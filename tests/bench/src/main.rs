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
//! `bench run --out BENCHMARKS.md --plots docs/bench [--quick]`; `bench run --only throughput|latency|idle`
//! runs one scenario on a subset of paths and prints it (see `scenarios::run_only`);
//! `bench idle --url U --count N`
//! is the separate process holding idle sessions for the memory scenario.
#![forbid(unsafe_code)]

mod browser;
mod load;
mod report;
mod scenarios;
mod svg;

use std::path::PathBuf;

fn main() {
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
        }
        Some("idle") => {
            let (Some(url), Some(count)) = (
                value("--url"),
                value("--count").and_then(|c| c.parse().ok()),
            ) else {
                eprintln!("usage: bench idle --url URL --count N [--no-subprotocol] [--cafile F --connect-to H:P]");
                std::process::exit(2);
            };
            let no_subprotocol = args.iter().any(|a| a == "--no-subprotocol");
            runtime.block_on(scenarios::idle_client(&url, count, no_subprotocol));
        }
        Some("run") if args.iter().any(|a| a == "--only") => {
            runtime.block_on(scenarios::run_only(&args));
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
        }
        _ => {
            eprintln!("usage: bench run [--out FILE] [--plots DIR] [--core-json F] [--sizes-json F] [--pkg DIR] [--mqttjs FILE] [--browser-profile DIR] [--quick] [--only browser] | bench idle ...");
            std::process::exit(2);
        }
    }
}

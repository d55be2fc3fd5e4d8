//! Deterministic simulation of the session's delivery guarantees (quinn's `Pair` tests,
//! FoundationDB- and TigerBeetle-style): each seed draws a scenario (clean or persistent session,
//! a broker with or without persistence, misbehaving acks) and a schedule of steps (publishes both
//! ways, bytes cut at any offset, link drops, time jumps, page reloads, broker restarts,
//! takeovers, storage quota and failing writes, forged stored rows, duplicate, unknown and
//! reordered acks), runs the real `Session` against a model broker on virtual time, and checks the
//! invariants after every step and at the end (see `World::check` and `World::check_end`):
//!
//! - `Published` only for a message the broker accepted (QoS 1: PUBACK; QoS 2: released and
//!   forwarded), and at most once per publish;
//! - QoS 2 forwarded by the broker at most once; QoS 0 and 2 delivered to the client at most once;
//! - every accepted QoS 1/2 publish ends `Published`, `PublishFailed` (typed) or still pending,
//!   never silently gone;
//! - with a session the broker keeps, QoS 1/2 to the client arrive, QoS 1 in order;
//! - the client never reuses a packet id in flight, nor breaks a rule the broker checks;
//! - pending publishes stay within `max_inflight + max_queued`; no panic.
//!
//! `cargo test -p mqtt-core --test simulation` runs the fixed budget
//! (`SIM_SEEDS`, default 5,000). A failing seed prints itself and its trace; replay it with
//! `SIM_SEED=<seed> cargo test -p mqtt-core --test simulation -- --nocapture`.
//! Soak: `SIM_SEEDS=1000000 SIM_FROM=<start> cargo test --release ...` prints seeds per second.
// Native only: the model broker decodes client packets (mqtt-core's `server` feature, a native
// dev-dependency), and the fixed seed budget runs once, not again in the browser.
#![cfg(not(target_arch = "wasm32"))]

mod broker;
mod rng;
mod store;
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant as Clock;

use world::World;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Runs one seed; `Err` carries the report to print.
fn run_seed(seed: u64) -> Result<(), String> {
    let mut world = World::new(seed);
    let outcome = catch_unwind(AssertUnwindSafe(|| world.run()));
    let what = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(violation)) => format!("step {}: {}", violation.step, violation.what),
        Err(_) => "panicked".to_string(),
    };
    let trace: Vec<&String> = world.trace.iter().rev().take(80).collect();
    let trace: Vec<&str> = trace.into_iter().rev().map(String::as_str).collect();
    Err(format!(
        "seed {seed} broke an invariant: {what}\nscenario: {:?}\nlast events:\n  {}\n\
         replay: SIM_SEED={seed} cargo test -p mqtt-core --test simulation -- --nocapture",
        world.scenario(),
        trace.join("\n  ")
    ))
}

/// A failure's invariant with the message names and numbers taken out, to group seeds by it.
fn violation_kind(report: &str) -> String {
    let line = report.lines().next().unwrap_or_default();
    let what = line.split_once(": ").map_or(line, |(_, w)| w);
    let what = what.split_once(": ").map_or(what, |(_, w)| w);
    what.split(' ')
        .map(|w| {
            if w.chars().any(|c| c.is_ascii_digit()) {
                "_"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn seeds_keep_the_delivery_guarantees() {
    if let Some(seed) = env_u64("SIM_SEED") {
        if let Err(report) = run_seed(seed) {
            panic!("{report}");
        }
        return;
    }
    let count = env_u64("SIM_SEEDS").unwrap_or(5_000);
    let from = env_u64("SIM_FROM").unwrap_or(0);
    let started = Clock::now();
    let mut failures = Vec::new();
    for seed in from..from + count {
        if let Err(report) = run_seed(seed) {
            failures.push((seed, report));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "simulation: {count} seeds from {from} in {secs:.1} s ({:.0} seeds/s), {} failing",
        count as f64 / secs.max(1e-9),
        failures.len()
    );
    if let Some((_, report)) = failures.first() {
        let mut kinds: Vec<(String, Vec<u64>)> = Vec::new();
        for (seed, report) in &failures {
            let kind = violation_kind(report);
            match kinds.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, seeds)) => seeds.push(*seed),
                None => kinds.push((kind, vec![*seed])),
            }
        }
        let summary: Vec<String> = kinds
            .iter()
            .map(|(kind, seeds)| {
                let first: Vec<u64> = seeds.iter().take(5).copied().collect();
                format!("{} seeds, e.g. {first:?}: {kind}", seeds.len())
            })
            .collect();
        panic!("{}\n\nfirst failure:\n{report}", summary.join("\n"));
    }
}

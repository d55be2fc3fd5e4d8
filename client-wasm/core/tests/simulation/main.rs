//! Deterministic simulation of the session's delivery guarantees (quinn's `Pair` tests,
//! FoundationDB- and TigerBeetle-style): each seed draws a scenario (clean or persistent session,
//! a broker with or without persistence, misbehaving or slow acks, a window from 1 to all 65,535
//! packet ids, a page with or without a store) and a schedule of steps (publishes both ways,
//! bursts until packet ids run out, subscriptions holding ids, bytes cut at any offset, link
//! drops, time jumps, page reloads, broker restarts, takeovers, storage quota and failing writes,
//! forged stored rows, duplicate, unknown and reordered acks), runs the real `Session` against a
//! model broker on virtual time, and checks the invariants after every step and at the end (see
//! `invariants.rs`):
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
//! A seed's outcome depends on the seed alone (no clock, no thread timing, ordered maps only),
//! so the same window gives the same failures on any machine and with any number of threads.
//! `cargo test -p mqtt-core --test simulation` runs `SIM_SEEDS` seeds (default 2,000) from
//! `SIM_FROM` (default 0) on `SIM_THREADS` threads (default: the machine's cores). A failing
//! seed prints itself, its trace (`SIM_TRACE` lines, default 80) and the command that replays
//! it: `SIM_SEED=<seed> cargo test -p mqtt-core --test simulation -- --nocapture`.
//! `scripts/soak.sh` runs millions in release. The scripted scenarios in `scripts.rs` replay
//! the failures seeds found, step by step.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// test code: a failed unwrap is a failed test
// Native only: the model broker decodes client packets (mqtt-core's `server` feature, a native
// dev-dependency), and the seed budget runs once, not again in the browser.
#![cfg(not(target_arch = "wasm32"))]

mod broker;
mod invariants;
mod page;
mod rng;
mod scenario;
mod schedule;
mod scripts;
mod store;
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant as Clock;

use world::World;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn trace_lines() -> usize {
    env_u64("SIM_TRACE").unwrap_or(80) as usize
}

fn replay_command(seed: u64) -> String {
    format!("SIM_SEED={seed} cargo test --release -p mqtt-core --test simulation -- --nocapture")
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
    let trace: Vec<&String> = world.trace.iter().rev().take(trace_lines()).collect();
    let trace: Vec<&str> = trace.into_iter().rev().map(String::as_str).collect();
    Err(format!(
        "seed {seed} broke an invariant: {what}\nscenario: {:?}\nlast events:\n  {}\nreplay: {}",
        world.scenario,
        trace.join("\n  "),
        replay_command(seed)
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

/// Runs `count` seeds from `from` on `threads` threads; the failures, in seed order.
fn run_window(from: u64, count: u64, threads: u64) -> Vec<(u64, String)> {
    // Seeds are dealt round-robin, so a slow stretch of seeds is shared.
    let mut failures: Vec<(u64, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut found = Vec::new();
                    let mut seed = from + t;
                    while seed < from + count {
                        if let Err(report) = run_seed(seed) {
                            found.push((seed, report));
                        }
                        seed += threads;
                    }
                    found
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    failures.sort_by_key(|(seed, _)| *seed);
    failures
}

#[test]
fn seeds_keep_the_delivery_guarantees() {
    if let Some(seed) = env_u64("SIM_SEED") {
        if let Err(report) = run_seed(seed) {
            panic!("{report}");
        }
        return;
    }
    let count = env_u64("SIM_SEEDS").unwrap_or(2_000);
    let from = env_u64("SIM_FROM").unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let threads = env_u64("SIM_THREADS").unwrap_or(cores).clamp(1, 64);
    let started = Clock::now();
    let failures = run_window(from, count, threads);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "simulation: {count} seeds from {from} in {secs:.1} s ({:.0} seeds/s, {threads} threads), {} failing",
        count as f64 / secs.max(1e-9),
        failures.len()
    );
    let Some((_, first)) = failures.first() else {
        return;
    };
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
    let replays: Vec<String> = failures
        .iter()
        .map(|(seed, _)| replay_command(*seed))
        .collect();
    panic!(
        "{}\n\nreplay each failure:\n{}\n\nfirst failure:\n{first}",
        summary.join("\n"),
        replays.join("\n")
    );
}

#[test]
fn a_window_gives_the_same_failures_whatever_the_thread_count() {
    // Each seed is independent of the others and of timing: one thread and three agree on
    // every seed's report (a failure's text included), not just on the count.
    let (from, count) = (0, 60);
    let one: Vec<(u64, Result<(), String>)> =
        (from..from + count).map(|s| (s, run_seed(s))).collect();
    let again: Vec<(u64, Result<(), String>)> =
        (from..from + count).map(|s| (s, run_seed(s))).collect();
    assert_eq!(one, again, "the same seed gave two outcomes");
    let threaded = run_window(from, count, 3);
    let failing: Vec<(u64, String)> = one
        .into_iter()
        .filter_map(|(s, r)| r.err().map(|e| (s, e)))
        .collect();
    assert_eq!(threaded, failing);
}

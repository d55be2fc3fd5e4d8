//! The package's file store under crashes, in Node, Deno and Bun: a writer replaces one record
//! as fast as it can and is killed (SIGKILL) at a seeded moment, mid-write or between writes;
//! the record read back afterwards must be whole (exactly one text the writer saved, never torn)
//! and no older than the last save the store had acknowledged (a resolved `save` is durable: the
//! edge client sends nothing that depends on a record before its save resolves, so this is what
//! "nothing accepted is lost across a restart" rests on). Scripts:
//! `tests/edge/scenarios/store-crash-{writer,reader}.mjs`.
//!
//! `EDGE_CRASH_SEEDS` (default 8 per runtime) sets how many kill moments each runtime gets; a
//! failing seed prints `SEED=` to replay it alone with `EDGE_CRASH_SEED`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests fail loudly

use std::time::Duration;

use tests::edge::{Runtime, Scenario, Script};

/// A kill moment from a seed: 0 to 120 ms after the writer's first acknowledged save.
fn kill_delay(seed: u64) -> Duration {
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
    Duration::from_millis(mixed % 121)
}

fn seeds() -> Vec<u64> {
    if let Ok(one) = std::env::var("EDGE_CRASH_SEED") {
        return vec![one.parse().expect("EDGE_CRASH_SEED is a number")];
    }
    let count: u64 = std::env::var("EDGE_CRASH_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    (1..=count).collect()
}

/// One crash: the record afterwards is whole and at least the last acknowledged one.
fn crash_once(runtime: Runtime, seed: u64) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("store folder");
    let store = dir.path().to_str().expect("utf-8 path").to_string();
    let seed_text = seed.to_string();
    let env = [("STORE_DIR", store.as_str()), ("SEED", seed_text.as_str())];
    let mut writer = Scenario::spawn(runtime, Script::Scenario("store-crash-writer.mjs"), &env);
    writer
        .wait_event("acked", Duration::from_secs(30))
        .ok_or("the writer acknowledged no save")?;
    std::thread::sleep(kill_delay(seed));
    writer.kill();
    let events = writer.finish(Duration::from_secs(10)).events;
    let last = |name: &str| {
        events
            .iter()
            .filter(|e| e["event"] == name)
            .filter_map(|e| e["n"].as_u64())
            .max()
            .unwrap_or(0)
    };
    let (acked, started) = (last("acked"), last("started"));
    let reader = Scenario::spawn(runtime, Script::Scenario("store-crash-reader.mjs"), &env);
    let read = reader.finish(Duration::from_secs(30));
    let loaded = read
        .named("loaded")
        .first()
        .copied()
        .cloned()
        .ok_or_else(|| format!("the reader printed nothing: {}", read.stderr))?;
    let n = loaded["n"].as_u64();
    if loaded["whole"] != true {
        return Err(format!(
            "torn or missing record {loaded} (acked {acked}, started {started})"
        ));
    }
    match n {
        Some(n) if n >= acked && n <= started => Ok(()),
        _ => Err(format!(
            "record {n:?} read back, but {acked} was acknowledged and {started} the last started"
        )),
    }
}

fn crash_soak(runtime: Runtime) {
    let failures: Vec<String> = seeds()
        .into_iter()
        .filter_map(|seed| {
            crash_once(runtime, seed)
                .err()
                .map(|e| format!("{} SEED={seed}: {e}", runtime.name()))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn node_file_store_survives_crashes_at_any_moment() {
    crash_soak(Runtime::Node);
}

#[test]
fn deno_file_store_survives_crashes_at_any_moment() {
    crash_soak(Runtime::Deno);
}

#[test]
fn bun_file_store_survives_crashes_at_any_moment() {
    crash_soak(Runtime::Bun);
}

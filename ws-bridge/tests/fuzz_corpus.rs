//! Replays the bridge's fuzz corpora and regression inputs (ws-bridge/fuzz/corpus,
//! ws-bridge/fuzz/regressions) through the same functions the fuzz targets run, so every input
//! ever found stays fixed. Run the fuzzers themselves with `cargo fuzz` (see SECURITY.md).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod framer_support {
    include!("../fuzz/support/framer_input.rs");
}

mod frame_cutter_support {
    include!("../fuzz/support/frame_cutter_input.rs");
}

mod route_config_support {
    include!("../fuzz/support/route_config_input.rs");
}

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries
            .map(|e| e.expect("readable corpus dir").path())
            .collect();
        paths.sort();
        for path in paths {
            let data = match std::fs::read(&path) {
                Ok(d) => d,
                // A fuzzer running at the same time replaces files as it reduces them.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("{}: {e}", path.display()),
            };
            let result = std::panic::catch_unwind(|| run(&data));
            assert!(result.is_ok(), "{} panics", path.display());
            count += 1;
        }
    }
    count
}

#[test]
fn framer_corpus_replays_without_panicking() {
    let n = replay("framer", framer_support::run);
    assert!(
        n >= 6,
        "the framer corpus holds the seed and regression inputs ({n} found)"
    );
}

#[test]
fn route_config_corpus_replays_without_panicking() {
    let n = replay("route_config", route_config_support::run);
    assert!(
        n >= 6,
        "the route/config corpus holds the seed and regression inputs ({n} found)"
    );
}

#[test]
fn frame_cutter_corpus_replays_without_panicking() {
    let n = replay("frame_cutter", frame_cutter_support::run);
    assert!(
        n >= 6,
        "the frame cutter corpus holds the seed inputs ({n} found)"
    );
}

//! Replays the fuzz corpus and the regression inputs (client-wasm/fuzz/corpus, artifacts) through
//! the same function the fuzz target runs, so every input ever found stays fixed.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support {
    include!("support/fuzz_input.rs");
}

#[test]
fn every_corpus_input_runs_without_panicking() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["corpus/session_bytes", "regressions/session_bytes"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable corpus dir").path();
            let data = std::fs::read(&path).expect("readable corpus file");
            support::run(&data);
            count += 1;
        }
    }
    assert!(
        count >= 10,
        "the corpus holds the regression vectors ({count} found)"
    );
}

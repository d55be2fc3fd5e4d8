//! Broker bytes (and browser bytes) through the bridge's MQTT re-framer and packet sizer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    support::run(data);
});

/// Shared with the corpus replay test (ws-bridge/tests/fuzz_corpus.rs), which includes it.
mod support {
    include!("../support/framer_input.rs");
}

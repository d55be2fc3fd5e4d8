//! Client WebSocket frames through the bridge's frame cutter (RFC 6455 §5), against a reference.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    support::run(data);
});

/// Shared with the corpus replay test (ws-bridge/tests/fuzz_corpus.rs), which includes it.
mod support {
    include!("../support/frame_cutter_input.rs");
}

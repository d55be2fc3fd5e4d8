//! Broker bytes into the core: the decoder and a connected session must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mqtt_core_fuzz_support::run(data);
});

/// Shared with the corpus replay test (client-wasm/tests/fuzz_corpus.rs), which includes it.
mod mqtt_core_fuzz_support {
    include!("../../tests/support/fuzz_input.rs");
}

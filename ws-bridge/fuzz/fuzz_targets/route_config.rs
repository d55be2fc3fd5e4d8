//! Configuration text, request heads and paths through the bridge's config, route and upgrade
//! parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    support::run(data);
});

/// Shared with the corpus replay test (ws-bridge/tests/fuzz_corpus.rs), which includes it.
mod support {
    include!("../support/route_config_input.rs");
}

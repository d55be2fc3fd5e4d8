#!/usr/bin/env bash
# Browser tests: mqtt-core's unit tests and client-wasm's browser integration tests (tests/web*.rs) in
# headless Debian Chromium through wasm-bindgen-test-runner + chromedriver, against a real
# ws-bridge and a real mosquitto (TLS) that tests/src/bin/wasm_stack.rs starts on loopback.
#
#   scripts/wasm-test.sh                 # everything
#   scripts/wasm-test.sh --test web_js   # extra arguments go to `cargo test`
#
# Needs (nothing is downloaded): rustup target wasm32-unknown-unknown, Debian chromium +
# chromium-driver + mosquitto, and wasm-bindgen-cli / wasm-pack at the pinned versions:
#   cargo install --locked wasm-bindgen-cli --version 0.2.130   (drop --locked if the index lacks a locked dependency)
#   cargo install --locked wasm-pack --version 0.15.1
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$want" != "$have" ]; then
    echo "wasm-bindgen-cli $want is required (found: ${have:-none}):" >&2
    echo "  cargo install --locked wasm-bindgen-cli --version $want" >&2
    exit 1
fi
for tool in wasm-pack /usr/bin/chromedriver /usr/bin/chromium /usr/sbin/mosquitto; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

cargo build -q -p tests --bin wasm_stack

export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
# The crate's unit tests carry no run_in_browser marker: run them in the browser too.
export WASM_BINDGEN_USE_BROWSER=1
# wasm_stack writes the Chromium flags (fresh --user-data-dir) and the ws:// URLs into the env.
stack="$CARGO_TARGET_DIR/debug/wasm_stack"
if [ $# -eq 0 ]; then
    # The core's and the flows' unit tests, in the browser as natively.
    for crate in client-wasm/core client-wasm/flows; do
        "$stack" -- wasm-pack test --mode no-install --headless --chrome --chromedriver /usr/bin/chromedriver \
            "$crate"
    done
fi
"$stack" -- wasm-pack test --mode no-install --headless --chrome --chromedriver /usr/bin/chromedriver \
    client-wasm "$@"

# With no arguments, also build the release npm package and drive the plain HTML example with it
# (served by the bridge's --static) in headless Chromium.
if [ $# -eq 0 ]; then
    scripts/build-pkg.sh
    "$stack" --static client-wasm/examples/plain --smoke-example
fi

#!/usr/bin/env bash
# Runs every test suite of the project: formatting, clippy (native and wasm32), native unit,
# property and integration tests (real mosquitto, real bridge, real headless Chromium), the
# wasm tests in headless Chromium, and the fuzz corpus replay. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh all

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
started=$(date +%s)
steps=()
step() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  printf '\n\033[1m== %s\033[0m\n' "$name"
  "$@"
  steps+=("$(printf '%-28s %4ss' "$name" $(( $(date +%s) - t0 )))")
}

step "rustfmt" cargo fmt --all -- --check
step "clippy (native)" cargo clippy --workspace --all-targets --locked -- -D warnings
step "clippy (wasm32)" cargo clippy -p mqtt-core -p client-wasm -p web --target wasm32-unknown-unknown --locked -- -D warnings
# client-wasm's other runtime: the edge build (Node, Deno, Bun, workerd) has no browser pieces.
step "clippy (wasm32, edge)" cargo clippy -p client-wasm --target wasm32-unknown-unknown --no-default-features --features edge --locked -- -D warnings
# The edge build with TLS inside (`client-wasm/tls`): rustls on ring, built by clang for wasm32.
step "clippy (wasm32, edge-tls)" env CC_wasm32_unknown_unknown=clang AR_wasm32_unknown_unknown="$(command -v llvm-ar || command -v llvm-ar-14)" \
  cargo clippy -p client-wasm --target wasm32-unknown-unknown --no-default-features --features edge-tls --locked -- -D warnings
step "core (wasm32)" cargo build -p mqtt-core --target wasm32-unknown-unknown --locked
# The core's whole tree, all features, every target: no runtime, socket or browser crate; mqttrs is
# its packet layer.
core_has_no_io_crates() {
  local tree io
  tree=$(cargo tree -p mqtt-core --all-features --target all -e normal --prefix none --locked)
  io=$(grep -E '^(tokio|mio|web-sys|js-sys|wasm-bindgen|socket2|tokio-rustls|tungstenite|rustls) ' <<<"$tree" || true)
  if [ -n "$io" ]; then
    echo "the core's dependency tree has IO crates:" >&2; echo "$io" >&2; return 1
  fi
  grep -qE '^mqttrs ' <<<"$tree" || { echo "mqttrs is not in the core's tree" >&2; return 1; }
  echo "mqtt-core's tree: no tokio, mio, web-sys, js-sys, wasm-bindgen or socket crate; mqttrs present"
}
step "core dependency tree" core_has_no_io_crates
step "binaries" cargo build -p mqttws -p ws-bridge -p demo --bins --locked
if [ -f scripts/build-web.sh ]; then
  step "web app (release wasm)" bash scripts/build-web.sh
fi
# client-wasm's npm package: the scale-out test (tests/tests/scale_out.rs) runs it in Chromium.
step "npm package (release wasm)" bash scripts/build-pkg.sh
step "native tests" cargo test --workspace --locked
# The delivery guarantees over a fixed window of 200,000 seeds of each simulator, one tab and
# several (the debug run above does 2,000 and 3,000):
# release, every core, about 80 s here. `scripts/soak.sh` runs fresh windows of millions.
step "delivery simulator (200,000 seeds)" bash scripts/soak.sh 200000 0
if [ -f scripts/wasm-test.sh ]; then
  step "wasm tests (headless Chromium)" bash scripts/wasm-test.sh
fi

printf '\n\033[1m== summary\033[0m\n'
printf '%s\n' "${steps[@]}"
echo "total: $(( $(date +%s) - started ))s"

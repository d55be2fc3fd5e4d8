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
step "clippy (bench runner)" cargo clippy -p tests --features bench --bin bench --locked -- -D warnings
step "clippy (wasm32)" cargo clippy -p client-wasm -p web --target wasm32-unknown-unknown --features client-wasm/browser --locked -- -D warnings
step "core without IO (wasm32)" cargo build -p client-wasm --no-default-features --target wasm32-unknown-unknown --locked
core_has_no_io_crates() {
  local io
  io=$(cargo tree -p client-wasm --no-default-features --target wasm32-unknown-unknown -e normal --prefix none --locked \
    | grep -E '^(tokio|mio|web-sys|js-sys|wasm-bindgen|socket2|tokio-rustls|tungstenite) ' || true)
  if [ -n "$io" ]; then
    echo "the core's dependency tree has IO crates:" >&2; echo "$io" >&2; return 1
  fi
  echo "no tokio, mio, web-sys or socket crate in the core's tree"
}
step "core dependency tree" core_has_no_io_crates
step "binaries" cargo build -p client-wasm -p ws-bridge -p xtask --features client-wasm/native --bins --locked
if [ -f scripts/build-web.sh ]; then
  step "web app (release wasm)" bash scripts/build-web.sh
fi
step "native tests" cargo test --workspace --locked
if [ -f scripts/wasm-test.sh ]; then
  step "wasm tests (headless Chromium)" bash scripts/wasm-test.sh
fi

printf '\n\033[1m== summary\033[0m\n'
printf '%s\n' "${steps[@]}"
echo "total: $(( $(date +%s) - started ))s"

#!/usr/bin/env bash
# Builds the npm package client-wasm/pkg (ES module for `--target web`, .d.ts included) with the
# size-first profile `wasm-release` (opt-level "z", LTO, panic=abort), then runs binaryen's
# `wasm-opt -Oz` itself (wasm-pack must not download anything), and prints sizes.
#
#   scripts/build-pkg.sh            # -> client-wasm/pkg
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
out=client-wasm/pkg

want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$want" != "$have" ]; then
    echo "wasm-bindgen-cli $want is required (found: ${have:-none}): cargo install --locked wasm-bindgen-cli --version $want" >&2
    exit 1
fi
command -v wasm-pack >/dev/null || { echo "wasm-pack missing: cargo install --locked wasm-pack --version 0.15.1" >&2; exit 1; }
command -v wasm-opt >/dev/null || { echo "wasm-opt missing: apt-get install binaryen" >&2; exit 1; }

# Release wasm without reference types (and multi-value): wasm-bindgen then keeps JS values in
# its heap slab instead of an externref table, and Debian bookworm's binaryen 108 (wasm-opt) can
# optimise the result (binaryen before 116 corrupts that table: "WebAssembly.Table.set(): ...").
# Only these release builds: wasm-bindgen-test needs the default features.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=-reference-types,-multivalue"
wasm-pack build --mode no-install --target web --no-opt --profile wasm-release \
    --out-dir pkg client-wasm
# wasm-pack keeps the name section; run wasm-bindgen again on the same artefact without it.
wasm-bindgen --target web --out-dir "$out" --remove-name-section --remove-producers-section \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/client_wasm.wasm"

# wasm-opt -Oz (Debian's binaryen). Reference types are off for this build (see above), so
# binaryen 108 handles wasm-bindgen's output.
wasm-opt -Oz --converge --low-memory-unused --one-caller-inline-max-function-size=15 --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$out/client_wasm_bg.wasm" -o "$out/client_wasm_bg.wasm.opt"
mv "$out/client_wasm_bg.wasm.opt" "$out/client_wasm_bg.wasm"

# The plain HTML example imports ./pkg/client_wasm.js: give it a copy (git-ignored).
rm -rf client-wasm/examples/plain/pkg
cp -r "$out" client-wasm/examples/plain/pkg

size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9c "$1" | wc -c | tr -d ' '; }
wasm="$out/client_wasm_bg.wasm"
js="$out/client_wasm.js"
printf '%-26s %9s %9s\n' file raw gzip-9
printf '%-26s %9s %9s\n' client_wasm_bg.wasm "$(size "$wasm")" "$(gz "$wasm")"
printf '%-26s %9s %9s\n' client_wasm.js "$(size "$js")" "$(gz "$js")"
total_gz=$(( $(gz "$wasm") + $(gz "$js") ))
printf '%-26s %9s %9s\n' total "$(( $(size "$wasm") + $(size "$js") ))" "$total_gz"
echo "anchors (gzip): MQTT.js 5.16 105 KB, Paho JS 1.1 8.3 KB; budget 30 KB"

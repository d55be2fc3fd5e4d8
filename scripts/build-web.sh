#!/usr/bin/env bash
# Builds the web app into web/dist: release wasm (profile wasm-release), wasm-bindgen --target
# web, wasm-opt -Oz, index.html and style.css; prints the page's total transfer, raw and gzip.
# Needs: rustup target wasm32-unknown-unknown, wasm-bindgen-cli at the exact version of the
# wasm-bindgen crate in Cargo.lock (scripts/setup.sh installs it), Debian's binaryen (wasm-opt).
# No trunk, nothing downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${CARGO_TARGET_DIR:-target}
out=web/dist

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "build-web: wasm-bindgen-cli $want is needed (found '${have:-none}'): run scripts/setup.sh demo" >&2
  exit 1
fi

# Release wasm without reference types (and multi-value): wasm-bindgen then keeps JS values in
# its heap slab instead of an externref table, and Debian bookworm's binaryen 108 (wasm-opt) can
# optimise the result (binaryen before 116 corrupts that table: "WebAssembly.Table.set(): ...").
# Only these release builds: wasm-bindgen-test needs the default features.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=-reference-types,-multivalue"
cargo build --quiet -p web --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
wasm-bindgen --target web --no-typescript --out-dir "$out.tmp" --out-name web \
  "$target_dir/wasm32-unknown-unknown/wasm-release/web.wasm"
# Reference types are off for this build (see below), so Debian's binaryen 108 can run.
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals "$out.tmp/web_bg.wasm" -o "$out.tmp/web_bg.opt.wasm"
mv "$out.tmp/web_bg.opt.wasm" "$out.tmp/web_bg.wasm"
cp web/index.html web/style.css "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"

raw=0; gz=0
# Every file of the page, the glue's snippets (wasm-bindgen inline_js modules) included.
for f in $(cd "$out" && find . -type f | sed 's|^\./||' | sort); do
  r=$(stat -c %s "$out/$f"); g=$(gzip -9 -c "$out/$f" | wc -c)
  printf '  %-48s %8d B raw %8d B gzip\n' "$f" "$r" "$g"
  raw=$((raw + r)); gz=$((gz + g))
done
printf 'web/dist: page transfer %d B raw (%d KiB), %d B gzip (%d KiB)\n' "$raw" $((raw / 1024)) "$gz" $((gz / 1024))

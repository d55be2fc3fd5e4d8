#!/usr/bin/env bash
# Builds the npm package client-wasm/pkg: the browser wasm (ES module for `--target web`, .d.ts
# included), the edge wasm (`--features edge`, in pkg/edge/) and the edge wasm with TLS inside
# (`--features edge-tls`, rustls on ring, in pkg/edge-tls/: the `client-wasm/tls` entries) with the size-first profile
# `wasm-release` (opt-level "z", LTO, panic=abort), runs binaryen's `wasm-opt -Oz` itself
# (wasm-pack must not download anything), adds the JS entries of client-wasm/js (browser, Node,
# Deno, Bun, workerd) and package.json, packs the tarball (npm pack) and prints each entry's
# size as a user loads it.
#
#   scripts/build-pkg.sh                  # -> client-wasm/pkg, client-wasm/pkg/client-wasm-*.tgz
#   PKG_SIZE_GATE=1 scripts/build-pkg.sh  # and exit 1 when an entry is over its budget
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

# wasm-opt -Oz (Debian's binaryen). Reference types are off for these builds (see above), so
# binaryen 108 handles wasm-bindgen's output.
optimise() {
    wasm-opt -Oz --converge --low-memory-unused --one-caller-inline-max-function-size=15 --strip-debug --strip-producers \
        --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
        "$1" -o "$1.opt"
    mv "$1.opt" "$1"
}
optimise "$out/client_wasm_bg.wasm"

# The plain HTML example imports ./pkg/client_wasm.js: give it a copy (git-ignored).
rm -rf client-wasm/examples/plain/pkg
cp -r "$out" client-wasm/examples/plain/pkg

# The edge wasm (Node, Deno, Bun, workerd: transport and store come from JS), same profile and
# flags, into pkg/edge/ (built after the browser's: both land on the same artefact path).
cargo build -p client-wasm --lib --target wasm32-unknown-unknown --profile wasm-release \
    --no-default-features --features edge
wasm-bindgen --target web --out-dir "$out/edge" --remove-name-section --remove-producers-section \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/client_wasm.wasm"
optimise "$out/edge/client_wasm_bg.wasm"

# The edge wasm with TLS inside (`client-wasm/tls`): rustls on ring, whose C and assembly parts
# clang builds for wasm32 (Debian's clang and llvm-ar; setup.sh installs them).
export CC_wasm32_unknown_unknown="${CC_wasm32_unknown_unknown:-clang}"
if [ -z "${AR_wasm32_unknown_unknown:-}" ]; then
    AR_wasm32_unknown_unknown=$(command -v llvm-ar || command -v llvm-ar-14 || echo llvm-ar)
    export AR_wasm32_unknown_unknown
fi
cargo build -p client-wasm --lib --target wasm32-unknown-unknown --profile wasm-release \
    --no-default-features --features edge-tls
wasm-bindgen --target web --out-dir "$out/edge-tls" --remove-name-section --remove-producers-section \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/client_wasm.wasm"
optimise "$out/edge-tls/client_wasm_bg.wasm"

# The package: the committed JS sources, package.json from its template (wasm-pack's own
# package.json and its `*` .gitignore go), the tarball a user installs (npm pack).
cp -r client-wasm/js/. "$out/"
rm -f "$out/.gitignore" "$out"/client-wasm-*.tgz
# Every entry, its lib/ modules and both glue files minified in place, file by file (imports and
# exports kept, so each runtime still loads them as they are): a third of their gzip size is
# comments and names (the browser glue: 7,772 -> about 5,300 B).
esbuild=tests/edge/node_modules/.bin/esbuild
[ -x "$esbuild" ] || { echo "esbuild missing: run bash scripts/setup.sh (npm ci in tests/edge)" >&2; exit 1; }
# The glue's snippets (wasm-bindgen `inline_js`: the hot path's JavaScript) are modules too.
for file in "$out"/browser.js "$out"/client_wasm.js "$out"/node.js "$out"/deno.js "$out"/bun.js "$out"/workerd.js "$out"/edge/client_wasm.js \
    "$out"/tls-*.js "$out"/edge-tls/client_wasm.js \
    $(find "$out/lib" "$out/snippets" "$out/edge/snippets" "$out/edge-tls/snippets" -name '*.js' 2>/dev/null); do
    [ -f "$file" ] || continue
    "$esbuild" "$file" --minify --format=esm --legal-comments=none --log-level=warning --outfile="$file.min" --allow-overwrite
    mv "$file.min" "$file"
done
version=$(node -p 'require("./client-wasm/js/package.json").version')
[ ! -f docs/edge.md ] || cp docs/edge.md "$out/README.md"
(cd "$out" && npm pack --silent --pack-destination . >/dev/null)
echo "packed $out/client-wasm-$version.tgz"

# Each entry as a user loads it: the wasm, its glue and every module the entry imports (followed
# from the entry file), each file gzipped on its own as a server sends it.
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9c "$1" | wc -c | tr -d ' '; }
modules_of() { # an entry and the package modules it imports (relative imports, transitively)
    node --input-type=module -e '
        import { readFileSync } from "node:fs";
        import { dirname, join, relative } from "node:path";
        const [root, entry] = process.argv.slice(1);
        const seen = new Set(), todo = [join(root, entry)];
        while (todo.length) {
            const file = todo.pop();
            if (seen.has(file)) continue;
            seen.add(file);
            const text = readFileSync(file, "utf8");
            for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'"'"'](\.{1,2}\/[^"'"'"']+)["'"'"']/g)) {
                todo.push(join(dirname(file), m[1]));
            }
        }
        // The wasm is counted once: it is the first file of each entry.
        for (const file of seen) if (!file.endsWith(".wasm")) console.log(relative(root, file));
    ' "$out" "$1"
}
entry_size() { # name, wasm, entry module: prints one line per file and the total; returns it in $total
    local name=$1 wasm=$2 entry=$3 raw=0 packed=0 file
    printf '%s entry:\n' "$name"
    for file in "$wasm" $(modules_of "$entry"); do
        printf '  %-34s %9s %9s\n' "$file" "$(size "$out/$file")" "$(gz "$out/$file")"
        raw=$(( raw + $(size "$out/$file") )); packed=$(( packed + $(gz "$out/$file") ))
    done
    printf '  %-34s %9s %9s\n' total "$raw" "$packed"
    total=$packed
}
printf '%-36s %9s %9s\n' file raw gzip-9
entry_size browser client_wasm_bg.wasm browser.js; browser_total=$total
entry_size "edge (node)" edge/client_wasm_bg.wasm node.js; edge_total=$total
# Deno, Bun and workerd load the same wasm and glue with their own entry and transport.
entry_size "edge (workerd)" edge/client_wasm_bg.wasm workerd.js; workerd_total=$total
# `client-wasm/tls` (rustls inside): no budget of its own; compare with MQTT.js's 105,039 B.
entry_size "tls (node)" edge-tls/client_wasm_bg.wasm tls-node.js
entry_size "tls (workerd)" edge-tls/client_wasm_bg.wasm tls-workerd.js
browser_budget=63023 edge_budget=52520
echo "budgets (gzip): browser entry $browser_budget B (60% of MQTT.js 5.16's 105,039 B), edge entry $edge_budget B (50%)"
echo "tarball: $(size "$out/client-wasm-$version.tgz") B"
if [ "${PKG_SIZE_GATE:-0}" = 1 ]; then
    over=0
    [ "$browser_total" -le "$browser_budget" ] || { echo "browser entry $browser_total B is over $browser_budget B" >&2; over=1; }
    [ "$edge_total" -le "$edge_budget" ] || { echo "edge entry $edge_total B is over $edge_budget B" >&2; over=1; }
    [ "$workerd_total" -le "$edge_budget" ] || { echo "workerd entry $workerd_total B is over $edge_budget B" >&2; over=1; }
    exit "$over"
fi

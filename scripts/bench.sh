#!/usr/bin/env bash
# The bench command: builds in release mode, runs every scenario side by side on loopback
# against a real mosquitto TLS listener, and writes BENCHMARKS.md plus SVG plots in docs/bench/.
# Not part of the test command. Takes about 15 minutes on 2 cores (--quick: about 5).
# Exits with status 3 when a measurement FAILED or the browser client missed a target (renderer CPU
# per message <= 1/3 of MQTT.js, msg/s >= MQTT.js; both listed at the top of BENCHMARKS.md); the report
# is written either way.
# The browser-client scenario runs client-wasm/pkg (built below) and the npm-packed MQTT.js bundle
# (also used for the size table) in headless Chromium; when either is missing its row says why.
#   bash scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh all
if ! command -v websockify >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: websockify is missing; run as root: apt-get install -y --no-install-recommends websockify" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends websockify >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== release build"
cargo build --release --locked -p ws-bridge -p bench --bin ws-bridge --bin bench

echo "== core (sans-IO) throughput"
cargo bench --locked -p mqtt-core --bench core -- "$work/core.json"

echo "== download sizes"
sizes="$work/sizes.json"
gz() { gzip -9 -c "$1" | wc -c; }
entry() { printf '"%s": [%s, %s]' "$1" "$(wc -c < "$2")" "$(gz "$2")"; }
rows=()
if [ -f scripts/build-pkg.sh ]; then
  bash scripts/build-pkg.sh >/dev/null
  wasm=$(ls client-wasm/pkg/*_bg.wasm | head -1)
  js=$(ls client-wasm/pkg/*.js | grep -v snippets | head -1)
  cat "$wasm" "$js" > "$work/package.bin"
  rows+=("$(entry "client-wasm package (wasm + JS glue)" "$work/package.bin")")
fi
if [ -f scripts/build-web.sh ]; then
  bash scripts/build-web.sh >/dev/null
  find web/dist -type f -print0 | sort -z | xargs -0 cat > "$work/site.bin"
  rows+=("$(entry "web app, whole transfer (web/dist)" "$work/site.bin")")
fi
(cd "$work" && npm pack --silent mqtt@5.16.0 paho-mqtt@1.1.0 >/dev/null 2>&1 && for t in *.tgz; do tar xzf "$t" && mv package "${t%.tgz}"; done) || true
if [ -f "$work/mqtt-5.16.0/dist/mqtt.min.js" ]; then
  rows+=("$(entry "MQTT.js 5.16.0 dist/mqtt.min.js" "$work/mqtt-5.16.0/dist/mqtt.min.js")")
fi
paho=$(ls "$work"/paho-mqtt-1.1.0/*min.js 2>/dev/null | head -1 || true)
if [ -n "$paho" ]; then
  rows+=("$(entry "Paho JS 1.1.0 $(basename "$paho")" "$paho")")
fi
( IFS=,; printf '{%s}\n' "${rows[*]}" ) > "$sizes"
cat "$sizes"

echo "== edge TLS: rustls inside the package vs node:tls, in Node (appended to BENCHMARKS.md)"
edge_tls_status=0
"${CARGO_TARGET_DIR:-$PWD/target}/release/bench" run --only edge-tls --pkg client-wasm/pkg > "$work/edge-tls.md" \
  || edge_tls_status=$?
cat "$work/edge-tls.md"

echo "== paths: direct TLS, ws-bridge, websockify, mosquitto websockets; browser client vs MQTT.js"
# 50,000 idle sessions need two descriptors each in the bridge: the bench raises RLIMIT_NOFILE
# itself (to fs.nr_open when allowed, else to the hard limit) and spreads the sessions over as
# many bridge processes as that limit requires.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
release="${CARGO_TARGET_DIR:-$PWD/target}/release"
status=0
WS_BRIDGE_BIN="$release/ws-bridge" "$release/bench" run \
  --out BENCHMARKS.md --plots docs/bench --core-json "$work/core.json" --sizes-json "$sizes" \
  --pkg client-wasm/pkg --mqttjs "$work/mqtt-5.16.0/dist/mqtt.min.js" "$@" || status=$?
# The edge-TLS section (same run, same build) goes at the end of the report; a FAILED row there
# fails the bench like one in the main report.
{ echo; cat "$work/edge-tls.md"; } >> BENCHMARKS.md
[ "$status" -ne 0 ] || status=$edge_tls_status
exit "$status"

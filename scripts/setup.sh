#!/usr/bin/env bash
# Installs what the demo and the tests need, idempotently: each step is skipped when its tool is
# already there at the pinned version. Nothing here downloads a prebuilt binary, a toolchain or
# a browser: Debian packages, crates.io (cargo install --locked) and PyPI only.
#
#   scripts/setup.sh            everything (tests)
#   scripts/setup.sh demo       only what the demo needs
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# --- Debian packages ------------------------------------------------------------------------
# clang and llvm (llvm-ar): ring's C and assembly for the edge-tls wasm (client-wasm/tls).
debs=(binaryen clang llvm)
if [ "$what" = all ]; then
  debs+=(mosquitto mosquitto-clients chromium chromium-driver openssl haproxy nginx-light)
fi
missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: run as root:  $cmd" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present: ${debs[*]}"
fi
# The Debian mosquitto, haproxy and nginx packages start system services (mosquitto on 1883,
# nginx on 80); the tests start their own instances on free loopback ports.
if [ "$what" = all ]; then
  for svc in mosquitto haproxy nginx; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl stop "$svc" || true
      systemctl disable "$svc" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" status >/dev/null 2>&1; then
      "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
  done
fi

# --- Rust target and pinned cargo tools ------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must be exactly the version of the wasm-bindgen crate in Cargo.lock.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  log "installing wasm-bindgen-cli $bindgen_version (compiles from crates.io, a few minutes)"
  # Its published lock file names webpki-roots 1.0.11, which some registry mirrors lack: then
  # resolve afresh (same wasm-bindgen-cli version, newest compatible dependencies).
  cargo install --locked --quiet wasm-bindgen-cli --version "$bindgen_version" \
    || cargo install --quiet wasm-bindgen-cli --version "$bindgen_version"
fi

if [ "$what" = all ]; then
  wasm_pack_version=0.15.1
  if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$wasm_pack_version" ]; then
    log "installing wasm-pack $wasm_pack_version"
    cargo install --locked --quiet wasm-pack --version "$wasm_pack_version" \
      || cargo install --quiet wasm-pack --version "$wasm_pack_version"
  fi
  # A third-party MQTT-over-WebSockets client for the bridge tests.
  if ! python3 -c 'import paho.mqtt, sys; sys.exit(0 if paho.mqtt.__version__ == "2.1.0" else 1)' 2>/dev/null; then
    log "installing paho-mqtt 2.1.0 (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check 'paho-mqtt==2.1.0'
  fi
fi
if [ "$what" = all ]; then
  # Deno, Bun, workerd (their npm packages ship the binaries), ws, esbuild and MQTT.js at the
  # versions tests/edge/package-lock.json pins. Their install scripts need not run: the bins
  # in node_modules/.bin work without them.
  edge=tests/edge
  command -v npm >/dev/null || { echo "setup: npm missing (Node 20 or later with npm)" >&2; exit 1; }
  if [ ! -f "$edge/node_modules/.package-lock.json" ] || [ "$edge/package-lock.json" -nt "$edge/node_modules/.package-lock.json" ]; then
    log "installing the edge runtimes (npm ci in $edge)"
    (cd "$edge" && npm ci --no-audit --no-fund --loglevel=error)
  else
    log "edge runtimes present ($edge/node_modules)"
  fi
fi
log "ready"

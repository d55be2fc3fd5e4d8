#!/usr/bin/env bash
# The demo: the whole product on this machine, in one command.
#
#   bash scripts/demo.sh [demo options]     e.g. --listen 127.0.0.1:9090, --data-dir DIR,
#                                            --upstream HOST:8883 [--ca FILE] [--sni NAME]
#
# Installs the prerequisites (scripts/setup.sh demo), builds the web app (release wasm) and the
# demo (bridge, embedded broker, TLS front, activation service), then runs it in the foreground:
# one banner with the URL to open; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1mdemo:\033[0m %s\n' "$*" >&2; }

bash scripts/setup.sh demo

if [ -f scripts/build-web.sh ]; then
  log "building the web app (release wasm) into web/dist"
  bash scripts/build-web.sh
else
  log "scripts/build-web.sh is missing: the demo will serve /mqtt without the web app"
fi

log "building the demo"
cargo build --locked -p demo
exec cargo run --locked --quiet -p demo -- demo "$@"

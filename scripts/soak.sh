#!/usr/bin/env bash
# Soak: the two deterministic delivery simulators over many seeds, in release: one tab (the real
# Session against a model broker, client-wasm/core/tests/simulation, on every core) and several
# tabs sharing one connection (the real mqtt-tabs leader/follower logic and codec over one
# asynchronous store, client-wasm/tabs/tests/simulation). Prints the window, seeds per second
# and, for every failing seed, its invariant and the one command that replays it. A seed's
# outcome depends on the seed alone, so the same window gives the same failures on any machine.
#
#   scripts/soak.sh                  # 1,000,000 seeds of each from a fresh random start
#   scripts/soak.sh 5000000          # 5,000,000 seeds of each from a fresh random start
#   scripts/soak.sh 200000 0         # a fixed window: 200,000 seeds from seed 0 (the test command's)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-1000000}
# A fresh window each run: 31 random bits times a thousand, so windows rarely overlap.
from=${2:-$(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 2147483648 * 1000 ))}
echo "soak: $seeds seeds of each simulator from $from (replay this window: bash scripts/soak.sh $seeds $from)"
echo "soak: one tab"
SIM_SEEDS=$seeds SIM_FROM=$from \
  cargo test --release --locked -p mqtt-core --test simulation -- --nocapture seeds_keep_the_delivery_guarantees
echo "soak: several tabs"
t0=$(date +%s)
SIM_SEEDS=$seeds SIM_FROM=$from \
  cargo test --release --locked -p mqtt-tabs --test simulation -- --nocapture several_tabs_keep_the_guarantees_of_one
echo "soak: several tabs took $(( $(date +%s) - t0 ))s"

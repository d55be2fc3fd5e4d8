#!/usr/bin/env bash
# Soak: the deterministic simulator over many seeds, optimised. Prints seeds per second and, on
# a failure, the seed, its trace and the one command that replays it.
#
#   scripts/soak.sh                 # 1,000,000 seeds from 0
#   scripts/soak.sh 5000000 2000000 # 5,000,000 seeds from seed 2,000,000
set -euo pipefail
cd "$(dirname "$0")/.."
SIM_SEEDS=${1:-1000000} SIM_FROM=${2:-0} \
  cargo test --release --locked -p mqtt-core --test simulation -- --nocapture

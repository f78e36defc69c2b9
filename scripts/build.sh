#!/usr/bin/env bash
# Configures and builds p2p-share into ./build (Release with debug info), installing
# missing Debian packages first. Extra arguments go to cmake's configure step;
# P2P_BUILD_TARGETS="a b" builds only those targets (scripts/demo.sh: no tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
targets=()
for t in ${P2P_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build build -j2 "${targets[@]}"

#!/usr/bin/env bash
# Configures and builds p2p-share into ./build (Release with debug info), installing
# missing Debian packages first. Extra arguments go to cmake's configure step;
# P2P_BUILD_TARGETS="a b" builds only those targets (scripts/demo.sh: no tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
# A unity build (16 sources per compiler run, CMakeLists.txt): about a third less CPU from
# a cold start, the demo's first run on a fresh machine among them (README has the figures).
# P2P_UNITY=OFF builds one file at a time (quicker after a one-file edit).
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD="${P2P_UNITY:-ON}" "$@" >/dev/null
targets=()
for t in ${P2P_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build build -j2 "${targets[@]}"

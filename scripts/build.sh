#!/usr/bin/env bash
# Configures and builds p2p-share into ./build (Release with debug info), installing
# missing Debian packages first. Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j2

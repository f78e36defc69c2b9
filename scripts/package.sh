#!/usr/bin/env bash
# Builds the Debian package: the four executables (no tests) in build-pkg/,
# then `cpack -G DEB` there. Prints the .deb's path; lintian's verdict too when installed.
#   sudo apt install ./build-pkg/p2p-share_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
build=${P2P_PACKAGE_BUILD:-build-pkg}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)"
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/p2p-share_*.deb)
if command -v lintian >/dev/null; then lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true; fi
echo "$deb"

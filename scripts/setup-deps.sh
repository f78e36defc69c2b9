#!/usr/bin/env bash
# Installs the Debian packages p2p-share builds and tests with, skipping those
# already present. Used by the README commands and by .ci/run. Extra package
# names given as arguments are installed too (scripts/fuzz.sh adds clang).
set -euo pipefail
# libhiredis-dev: the tracker's Redis store; redis-server: its tests (they skip without it).
# chromium + python3-websocket: the page tests in a real browser (tests/e2e/browser_pages.sh; they skip without them).
# iproute2: ip and tc for the network-namespace swarm test (it skips without them or root).
# dpkg-dev (dpkg-shlibdeps), man-db, systemd (systemd-analyze), lintian: the Debian package
# (scripts/package.sh) and its tests (tests/e2e/install.sh, package.sh; they skip without them).
pkgs=(build-essential cmake ccache pkg-config libasio-dev libcli11-dev nlohmann-json3-dev
      libssl-dev libfmt-dev catch2 libsqlite3-dev libhttp-parser-dev libhiredis-dev curl python3
      redis-server chromium python3-websocket iproute2 dpkg-dev man-db systemd lintian "$@")
if [ "${P2P_BENCH_DEPS:-0}" = 1 ]; then
  pkgs+=(aria2 opentracker mktorrent hyperfine wrk gnuplot-nox time python3-libtorrent linux-perf rsync)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

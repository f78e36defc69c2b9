#!/usr/bin/env bash
# Installs the Debian packages p2p-share builds and tests with, skipping those
# already present. Used by the README commands and by .ci/run. Extra package
# names given as arguments are installed too (scripts/fuzz.sh adds clang).
set -euo pipefail
# libhiredis-dev: the tracker's Redis store; redis-server: its tests (they skip without it).
# chromium + python3-websocket: the page tests in a real browser (tests/e2e/browser_pages.sh; they skip without them).
# iproute2: ip and tc for the network-namespace swarm test (it skips without them or root).
# aria2 + mktorrent + python3-libtorrent: real BitTorrent clients against p2p-tracker
# (tests/e2e/bt_clients.sh; it skips without them).
# dpkg-dev (dpkg-shlibdeps), man-db, systemd (systemd-analyze), lintian: the Debian package
# (scripts/package.sh) and its tests (tests/e2e/install.sh, package.sh; they skip without them).
# prometheus (prometheus, promtool): contrib/prometheus checked against a real Prometheus
# (tests/e2e/prometheus.sh; it skips without it). Installed, its service is not started in a container.
# libminiupnpc-dev, libnatpmp-dev: port mapping (UPnP-IGD, NAT-PMP) on the home gateway.
# nftables, miniupnpd-nftables, natpmpc, miniupnpc: the NAT gateway tests (scripts/netns/nat.sh;
# they skip without them). miniupnpd-nftables is only the daemon: no service, no debconf question
# (that is the `miniupnpd` package, not installed), so it installs quietly on a fresh container.
# What building needs (the demo installs only these: P2P_DEPS=build).
pkgs=(build-essential cmake ccache pkg-config libasio-dev libcli11-dev nlohmann-json3-dev
      libssl-dev libfmt-dev catch2 libsqlite3-dev libhttp-parser-dev libhiredis-dev
      libminiupnpc-dev libnatpmp-dev "$@")
if [ "${P2P_DEPS:-all}" != build ]; then
  pkgs+=(curl python3 redis-server chromium python3-websocket iproute2 nftables miniupnpd-nftables natpmpc
         miniupnpc aria2 mktorrent python3-libtorrent dpkg-dev man-db systemd lintian prometheus)
fi
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

#!/usr/bin/env bash
# What discovery costs a short download, with default flags: one 1 MiB file fetched from a
# seeder on the same host, process start to exit, inside a network namespace whose default
# route leads to a second namespace that answers nothing a gateway would (no NAT-PMP, no
# UPnP: most home networks without port mapping look like this). Three ways, interleaved:
#   * discovery off (P2P_NO_DISCOVERY=1: what the other benches measure),
#   * default flags (port mapping and LAN discovery on),
#   * default flags with --no-port-mapping.
# Every port-mapping request, SSDP search and LAN announce stays inside the two namespaces
# made here (removed at exit). Root only. Medians of RUNS (default 9).
#   sudo bash bench/exit_bench.sh
# Env: RUNS, P2P_BENCH_SKIP_BUILD=1 (use build/bin as it is). Writes bench/results/exit_bench-latest.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
build_binaries
RUNS=${RUNS:-9}
OUT=$ROOT/bench/results/exit_bench-latest.md
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-exit-bench.XXXXXX")
HOME_NS=p2pexit-$$-home
GW_NS=p2pexit-$$-gw
cleanup() {
  local ns
  for ns in "$HOME_NS" "$GW_NS"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  done
  sleep 0.3
  for ns in "$HOME_NS" "$GW_NS"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$T"
  restore_host_memory
}
trap cleanup EXIT

ip netns add "$HOME_NS"
ip netns add "$GW_NS"
ip link add "xb$$a" type veth peer name "xb$$b"
ip link set "xb$$a" netns "$HOME_NS"
ip link set "xb$$b" netns "$GW_NS"
ip -n "$HOME_NS" addr add 10.98.0.2/24 dev "xb$$a"
ip -n "$GW_NS" addr add 10.98.0.1/24 dev "xb$$b"
for ns in "$HOME_NS" "$GW_NS"; do ip -n "$ns" link set lo up; done
ip -n "$HOME_NS" link set "xb$$a" up
ip -n "$GW_NS" link set "xb$$b" up
ip -n "$HOME_NS" route add default via 10.98.0.1

head -c $((1 << 20)) /dev/urandom >"$T/one.bin"
"$BIN/p2p-create" -q -o "$T/one.p2pmeta" "$T/one.bin"
ip netns exec "$HOME_NS" env P2P_NO_DISCOVERY=1 "$BIN/p2p-seed" --meta "$T/one.p2pmeta" --source "$T/one.bin" \
  --host 127.0.0.1 --port 0 --workdir "$T/seedwd" >"$T/seed.log" 2>&1 &
wait_until 30 "the seeder" grep -q '^listening ' "$T/seed.log"
PORT=$(sed -n 's/^listening [^ ]*:\([0-9]*\)$/\1/p' "$T/seed.log" | head -1)

declare -A MS=()
# fetch LABEL ENV... -- ARGS...: one timed download (ms into MS[LABEL]), compared with cmp.
fetch() {
  local label=$1 envs=() t0 t1; shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  rm -rf "$T/dl"
  t0=${EPOCHREALTIME/./}
  ip netns exec "$HOME_NS" env "${envs[@]}" "$BIN/p2p-download" --meta "$T/one.p2pmeta" --peer "127.0.0.1:$PORT" \
    --workdir "$T/dl" --quiet "$@" || die "$label: the download failed"
  t1=${EPOCHREALTIME/./}
  cmp -s "$T/dl/one.bin" "$T/one.bin" || die "$label: the file differs"
  MS[$label]+="$(((t1 - t0) / 1000)) "
}
log "$RUNS rounds: discovery off / default flags / --no-port-mapping"
for ((i = 0; i <= RUNS; i++)); do
  fetch off P2P_NO_DISCOVERY=1 --
  fetch default -u P2P_NO_DISCOVERY --
  fetch no-mapping -u P2P_NO_DISCOVERY -- --no-port-mapping
  [ "$i" = 0 ] && MS=()  # the first round warms the caches
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
{
  echo "# One 1 MiB download, start to exit, behind a gateway that maps nothing ($(date -u +%FT%TZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo
  echo "Command: \`sudo bash bench/exit_bench.sh\` (RUNS=$RUNS; medians, ms)."
  echo
  echo "| p2p-download | median ms | runs |"
  echo "| --- | --- | --- |"
  echo "| discovery off (P2P_NO_DISCOVERY=1) | $(median ${MS[off]}) | ${MS[off]}|"
  echo "| default flags (port mapping, LAN discovery) | $(median ${MS[default]}) | ${MS[default]}|"
  echo "| default flags, --no-port-mapping | $(median ${MS[no-mapping]}) | ${MS[no-mapping]}|"
} | tee "$OUT"

#!/usr/bin/env bash
# What discovery costs a short download, with default flags: one 1 MiB file fetched from a
# seeder on the same host, process start to exit, inside a network namespace whose default
# route leads to a second namespace that answers nothing a gateway would (no NAT-PMP, no
# UPnP: most home networks without port mapping look like this). Three ways, interleaved:
#   * discovery off (P2P_NO_DISCOVERY=1: what the other benches measure),
#   * default flags (port mapping and LAN discovery on),
#   * default flags with --no-port-mapping.
# Every port-mapping request, SSDP search and LAN announce stays inside the two namespaces
# made here (scripts/netns/harness.sh; removed at exit). Root only. Medians of RUNS (default 9).
#   sudo bash bench/exit_bench.sh
# Env: RUNS, P2P_BENCH_SKIP_BUILD=1 (use build/bin as it is). Writes bench/results/exit_bench-latest.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
netns_bench_setup exit-bench  # builds unless P2P_BENCH_SKIP_BUILD=1; skips (77) without root
BIN=$ROOT/build/bin
RUNS=${RUNS:-9}
OUT=$ROOT/bench/results/exit_bench-latest.md
# Two uncapped nodes on the harness's hub; home's default route leads to gw, which runs nothing.
nsh_node home 0 || die "cannot create the home namespace"
nsh_node gw 0 || die "cannot create the gateway namespace"
ip -n "${NSH_NS[home]}" route add default via "${NSH_ADDR[gw]}"

head -c $((1 << 20)) /dev/urandom >"$T/one.bin"
"$BIN/p2p-create" -q -o "$T/one.p2pmeta" "$T/one.bin"
nsh_spawn home "$T/seed.log" env P2P_NO_DISCOVERY=1 "$BIN/p2p-seed" --meta "$T/one.p2pmeta" --source "$T/one.bin" \
  --host 127.0.0.1 --port 0 --workdir "$T/seedwd"
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
  nsh_exec home env "${envs[@]}" "$BIN/p2p-download" --meta "$T/one.p2pmeta" --peer "127.0.0.1:$PORT" \
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

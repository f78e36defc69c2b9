#!/usr/bin/env bash
# BitTorrent announces on equal terms: the same requests against p2p-tracker
# (--bt-whitelist) and opentracker (-w, Debian's build is whitelist-only) with the
# same whitelist of SWARMS random 20-byte info hashes, each tracker pinned to one
# core (taskset -c 0), the load on the other (-c 1), in one run:
#   HTTP with wrk + bench/bt_announce.lua, keep-alive and Connection: close;
#   UDP (BEP 15) with bt_udp_load (tests/tools/bt_udp_load.cpp, built into the bin folder:
#   recvmmsg/sendmmsg, many sockets on loopback addresses, announces kept in flight).
# First the generators alone: bt_udp_load against its --reflect mode, wrk against
# tests/tools/http_reflect (a fixed answer to every request) — the cheapest possible
# trackers, on core 0 too: the ceiling of what each generator can measure here.
# Reports answers/s, p99, how busy the tracker's core was, tracker CPU (s per 100k
# answers) and RSS; writes bench/results/bt_tracker_bench-latest.md. A tracker whose
# core is well under 100% busy was not the limit: the load generator was.
#   P2P_BENCH_BIN=build/bin bash bench/bt_tracker_bench.sh
# Env: DURATION (10 s per run), CONNECTIONS (64), SWARMS (1000), PEERS (20),
#      UDP_SOCKETS (64), UDP_WINDOW (2 announces in flight per socket: 128 in all fit the
#      default 208 KiB receive buffer; opentracker keeps the default, and past it datagrams
#      are dropped and each loss stalls a socket for 1 s, which would measure buffer sizes).
set -euo pipefail
export P2P_NO_DISCOVERY=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"  # free_port, wrk_rps, wrk_p99_ms
BIN=$(cd "${P2P_BENCH_BIN:-$ROOT/build/bin}" && pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
SWARMS=${SWARMS:-1000}
PEERS=${PEERS:-20}
UDP_SOCKETS=${UDP_SOCKETS:-64}
UDP_WINDOW=${UDP_WINDOW:-2}
RESULTS=${RESULTS:-$ROOT/bench/results/bt_tracker_bench-latest.md}
for tool in wrk opentracker taskset python3 curl; do
  command -v "$tool" >/dev/null || { echo "bt_tracker_bench: $tool is not installed (P2P_BENCH_DEPS=1 scripts/setup-deps.sh)" >&2; exit 1; }
done
[ -x "$BIN/bt_udp_load" ] || { echo "bt_tracker_bench: $BIN/bt_udp_load is not built (cmake --build build --target bt_udp_load)" >&2; exit 1; }
[ -x "$BIN/http_reflect" ] || { echo "bt_tracker_bench: $BIN/http_reflect is not built (cmake --build build --target http_reflect)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-btbench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
  restore_host_memory
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mib() { awk '/^VmRSS/{printf "%.1f\n", $2/1024}' "/proc/$1/status"; }

# The same hashes for both: hex for the whitelists, %XX for the wrk script.
python3 - "$SWARMS" "$T" <<'PY'
import random, sys
n, t = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
hs = [rng.randbytes(20) for _ in range(n)]
open(f"{t}/whitelist", "w").write("".join(h.hex() + "\n" for h in hs))
open(f"{t}/hashes.txt", "w").write("".join("".join("%%%02X" % b for b in h) + "\n" for h in hs))
PY
chmod 755 "$T"; chmod 644 "$T/whitelist"

taskset -c 0 "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/p2p.db" --bt-whitelist "$T/whitelist" >"$T/p2p.log" 2>&1 &
P2P_PID=$!; PIDS+=("$P2P_PID")
for _ in $(seq 200); do grep -q '^listening ' "$T/p2p.log" && break; sleep 0.05; done
P2P_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$T/p2p.log")
OT_PORT=$(free_port)
if [ "$(id -u)" = 0 ]; then OT_WHITELIST=/whitelist; else OT_WHITELIST=$T/whitelist; fi
(cd "$T" && exec taskset -c 0 opentracker -i 127.0.0.1 -p "$OT_PORT" -P "$OT_PORT" -d "$T" -w "$OT_WHITELIST") >"$T/ot.log" 2>&1 &
OT_PID=$!; PIDS+=("$OT_PID")
FIRST=$(head -n1 "$T/hashes.txt")
for port in "$P2P_PORT" "$OT_PORT"; do
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/announce?info_hash=$FIRST&peer_id=-BN0001-aaaaaaaaaaaa&port=6881&left=0&compact=1" |
      grep -q complete && break
    sleep 0.05
  done
done

declare -A R L C M B
# measure NAME PID KIND: KIND http-keepalive | http-close | udp
measure() {
  local name=$1 pid=$2 kind=$3 port=$4 out=$T/$1-$3.txt t0 t1 n
  t0=$(cpu_ticks "$pid")
  case $kind in
    http-keepalive|http-close)
      BT_HASHES=$T/hashes.txt BT_PEERS=$PEERS BT_CLOSE=$([ "$kind" = http-close ] && echo 1 || echo 0) \
        taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/bt_announce.lua" \
        "http://127.0.0.1:$port/" >"$out"
      R[$name,$kind]=$(wrk_rps "$out"); L[$name,$kind]=$(wrk_p99_ms "$out");;
    udp)
      taskset -c 1 "$BIN/bt_udp_load" --port "$port" --seconds "$DURATION" --sockets "$UDP_SOCKETS" \
        --window "$UDP_WINDOW" --peers "$PEERS" --hashes "$T/whitelist" >"$out" 2>"$T/$1-$3.err" || true
      R[$name,$kind]=$(cut -d' ' -f1 "$out"); L[$name,$kind]=$(cut -d' ' -f2 "$out");;
  esac
  t1=$(cpu_ticks "$pid")
  B[$name,$kind]=$(python3 -c "print(f'{($t1 - $t0) / $(getconf CLK_TCK) / $DURATION * 100:.0f}')")
  n=$(python3 -c "print(max(1.0, float('${R[$name,$kind]:-0}' or 0) * $DURATION))")
  C[$name,$kind]=$(python3 -c "print(f'{($t1 - $t0) / $(getconf CLK_TCK) / $n * 1e5:.2f}')")
  M[$name,$kind]=$(rss_mib "$pid")
}

echo "== the UDP generator alone (against bt_udp_load --reflect on core 0)"
REFLECT_PORT=$(free_port)
taskset -c 0 "$BIN/bt_udp_load" --reflect "$REFLECT_PORT" &
REFLECT_PID=$!; PIDS+=("$REFLECT_PID")
sleep 0.2
measure reflector "$REFLECT_PID" udp "$REFLECT_PORT"
kill "$REFLECT_PID" 2>/dev/null || true
echo "== the HTTP generator alone (against http_reflect on core 0: a fixed answer, no parsing)"
HTTP_REFLECT_PORT=$(free_port)
taskset -c 0 "$BIN/http_reflect" --port "$HTTP_REFLECT_PORT" &
HTTP_REFLECT_PID=$!; PIDS+=("$HTTP_REFLECT_PID")
sleep 0.2
for kind in http-keepalive http-close; do measure reflector "$HTTP_REFLECT_PID" "$kind" "$HTTP_REFLECT_PORT"; done
kill "$HTTP_REFLECT_PID" 2>/dev/null || true

echo "== warm-up"
for port in "$P2P_PORT" "$OT_PORT"; do
  BT_HASHES=$T/hashes.txt taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s -s "$ROOT/bench/bt_announce.lua" "http://127.0.0.1:$port/" >/dev/null
done
for kind in http-keepalive http-close udp; do
  echo "== $kind"
  measure p2p-tracker "$P2P_PID" "$kind" "$P2P_PORT"
  measure opentracker "$OT_PID" "$kind" "$OT_PORT"
done

{
  echo "# BitTorrent announces: p2p-tracker vs opentracker, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`P2P_BENCH_BIN=$BIN DURATION=$DURATION bash bench/bt_tracker_bench.sh\`; $SWARMS whitelisted swarms x $PEERS peers,"
  echo "tracker on core 0, load on core 1, $CONNECTIONS wrk connections, $UDP_SOCKETS UDP sockets x $UDP_WINDOW in flight;"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores."
  echo
  echo "| load | tracker | answers/s | p99 ms | tracker core busy % | CPU s per 100k | RSS MiB |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for kind in http-keepalive http-close udp; do
    for name in p2p-tracker opentracker; do
      echo "| $kind | $name | ${R[$name,$kind]:-?} | ${L[$name,$kind]:-?} | ${B[$name,$kind]:-?} | ${C[$name,$kind]:-?} | ${M[$name,$kind]:-?} |"
    done
  done
  for kind in http-keepalive http-close; do
    echo "| $kind | the generator alone (http_reflect: a fixed answer, the cheapest tracker) | ${R[reflector,$kind]:-?} | ${L[reflector,$kind]:-?} | ${B[reflector,$kind]:-?} | ${C[reflector,$kind]:-?} | ${M[reflector,$kind]:-?} |"
  done
  echo "| udp | the generator alone (bt_udp_load --reflect: the cheapest tracker) | ${R[reflector,udp]:-?} | ${L[reflector,udp]:-?} | ${B[reflector,udp]:-?} | ${C[reflector,udp]:-?} | ${M[reflector,udp]:-?} |"
  echo
  for name in p2p-tracker opentracker reflector; do echo "udp, $name: $(cat "$T/$name-udp.err" 2>/dev/null)"; done
  echo
  for kind in http-keepalive http-close udp; do
    python3 -c "import sys; a, b = float(sys.argv[2] or 0), float(sys.argv[3] or 0); print(f'{sys.argv[1]}: p2p-tracker / opentracker = {a / b:.2f}x the answers/s, {float(sys.argv[4]) / float(sys.argv[5]):.2f}x the CPU per answer' if b > 0 and float(sys.argv[5] or 0) > 0 else f'{sys.argv[1]}: ?')" \
      "$kind" "${R[p2p-tracker,$kind]:-0}" "${R[opentracker,$kind]:-0}" "${C[p2p-tracker,$kind]:-0}" "${C[opentracker,$kind]:-0}"
  done
  # The ceiling: what a tracker that does nothing reaches against opentracker with the same generator.
  for kind in http-keepalive http-close udp; do
    python3 -c "import sys; a, b = float(sys.argv[2] or 0), float(sys.argv[3] or 0); print(f'{sys.argv[1]}: the generator alone / opentracker = {a / b:.2f}x the answers/s (no tracker can pass this ratio here)' if b > 0 else f'{sys.argv[1]}: ?')" \
      "$kind" "${R[reflector,$kind]:-0}" "${R[opentracker,$kind]:-0}"
  done
} | tee "$RESULTS"

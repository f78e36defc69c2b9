#!/usr/bin/env bash
# BitTorrent announces on equal terms: the same requests against p2p-tracker
# (--bt-whitelist) and opentracker (-w, Debian's build is whitelist-only) with the
# same whitelist of SWARMS random 20-byte info hashes, each tracker pinned to one
# core (taskset -c 0), the load on the other (-c 1), in one run:
#   HTTP with wrk + bench/bt_announce.lua, keep-alive and Connection: close;
#   UDP (BEP 15) with bench/bt_udp_load.py (connect, then announces kept in flight).
# Reports req/s, p99, tracker CPU (s per 100k answers) and RSS; writes
# bench/results/bt_tracker_bench-latest.md.
#   P2P_BENCH_BIN=build/bin bash bench/bt_tracker_bench.sh
# Env: DURATION (10 s per run), CONNECTIONS (64), SWARMS (1000), PEERS (20), UDP_SOCKETS (32).
set -euo pipefail
export P2P_NO_DISCOVERY=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${P2P_BENCH_BIN:-$ROOT/build/bin}" && pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
SWARMS=${SWARMS:-1000}
PEERS=${PEERS:-20}
UDP_SOCKETS=${UDP_SOCKETS:-32}
RESULTS=${RESULTS:-$ROOT/bench/results/bt_tracker_bench-latest.md}
for tool in wrk opentracker taskset python3 curl; do
  command -v "$tool" >/dev/null || { echo "bt_tracker_bench: $tool is not installed (P2P_BENCH_DEPS=1 scripts/setup-deps.sh)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-btbench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
p99() {
  awk '/Latency Distribution/{f=1} f && $1=="99%"{v=$2; u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+$/,"",v);
       if (u=="us") v/=1000; else if (u=="s") v*=1000; printf "%.2f\n", v; exit}' "$1"
}
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

declare -A R L C M
# measure NAME PID KIND: KIND http-keepalive | http-close | udp
measure() {
  local name=$1 pid=$2 kind=$3 port=$4 out=$T/$1-$3.txt t0 t1 n
  t0=$(cpu_ticks "$pid")
  case $kind in
    http-keepalive|http-close)
      BT_HASHES=$T/hashes.txt BT_PEERS=$PEERS BT_CLOSE=$([ "$kind" = http-close ] && echo 1 || echo 0) \
        taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/bt_announce.lua" \
        "http://127.0.0.1:$port/" >"$out"
      R[$name,$kind]=$(rps "$out"); L[$name,$kind]=$(p99 "$out");;
    udp)
      taskset -c 1 python3 "$ROOT/bench/bt_udp_load.py" "$port" "$DURATION" "$UDP_SOCKETS" 4 "$SWARMS" "$PEERS" \
        --hashes "$T/whitelist" >"$out" 2>&1 || true
      R[$name,$kind]=$(cut -d' ' -f1 "$out"); L[$name,$kind]=$(cut -d' ' -f2 "$out");;
  esac
  t1=$(cpu_ticks "$pid")
  n=$(python3 -c "print(max(1.0, float('${R[$name,$kind]:-0}' or 0) * $DURATION))")
  C[$name,$kind]=$(python3 -c "print(f'{($t1 - $t0) / $(getconf CLK_TCK) / $n * 1e5:.2f}')")
  M[$name,$kind]=$(rss_mib "$pid")
}

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
  echo "tracker on core 0, load on core 1, $CONNECTIONS wrk connections, $UDP_SOCKETS UDP sockets x 4 in flight;"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores."
  echo
  echo "| load | tracker | answers/s | p99 ms | CPU s per 100k | RSS MiB |"
  echo "|---|---|---:|---:|---:|---:|"
  for kind in http-keepalive http-close udp; do
    for name in p2p-tracker opentracker; do
      echo "| $kind | $name | ${R[$name,$kind]:-?} | ${L[$name,$kind]:-?} | ${C[$name,$kind]:-?} | ${M[$name,$kind]:-?} |"
    done
  done
} | tee "$RESULTS"

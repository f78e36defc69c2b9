#!/usr/bin/env bash
# Tracker benchmark (not a timed test): announce requests/s of p2p-tracker vs
# opentracker with the same wrk settings in one run, then p2p-tracker's memory
# and announce p99 latency with 10,000 swarms x 20 peers. Prints a table.
#   bench/tracker_bench.sh            (builds Release into build-bench)
#   P2P_BENCH_BIN=build/bin bench/tracker_bench.sh   (reuse a build)
# Env: DURATION (seconds per wrk run, default 10), THREADS (2), CONNECTIONS (64).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}

for tool in wrk opentracker curl python3; do
  command -v "$tool" >/dev/null || {
    echo "tracker_bench: $tool is not installed; install the bench tools with: P2P_BENCH_DEPS=1 scripts/setup-deps.sh" >&2
    exit 1
  }
done

if [ -n "${P2P_BENCH_BIN:-}" ]; then
  BIN=$(cd "$P2P_BENCH_BIN" && pwd)
else
  echo "== building p2p-tracker (Release, build-bench)"
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$ROOT/build-bench" -j"$(nproc)" --target p2p-tracker >/dev/null
  BIN=$ROOT/build-bench/bin
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-bench.XXXXXX")
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
p99() { awk '/Latency Distribution/{f=1} f && $1=="99%"{print $2; exit}' "$1"; }

# --- start both trackers ---------------------------------------------------------
"$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" >"$T/p2p.log" 2>&1 &
P2P_PID=$!; PIDS+=("$P2P_PID")
for _ in $(seq 100); do grep -q '^listening ' "$T/p2p.log" && break; sleep 0.05; done
P2P_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$T/p2p.log")
[ -n "$P2P_PORT" ] || { cat "$T/p2p.log"; echo "p2p-tracker did not start" >&2; exit 1; }

# opentracker speaks BitTorrent: a 20-byte info hash, whitelisted as 40 hex, sent %XX-encoded.
OT_HASH=0123456789abcdef0123456789abcdef01234567
echo "$OT_HASH" >"$T/whitelist"
chmod 755 "$T"; chmod 644 "$T/whitelist"  # opentracker reads it after dropping to user nobody
OT_PORT=$(free_port)
# As root opentracker chroots into -d (run from there too), so the whitelist path is given inside it.
if [ "$(id -u)" = 0 ]; then OT_WHITELIST=/whitelist; else OT_WHITELIST=$T/whitelist; fi
(cd "$T" && exec opentracker -i 127.0.0.1 -p "$OT_PORT" -P "$OT_PORT" -d "$T" -w "$OT_WHITELIST") >"$T/ot.log" 2>&1 &
OT_PID=$!; PIDS+=("$OT_PID")
OT_URL="http://127.0.0.1:$OT_PORT/announce?info_hash=$(echo "$OT_HASH" | sed 's/../%&/g')&peer_id=ABCDEFGHIJKLMNOPQRST&port=6881&uploaded=0&downloaded=0&left=0&numwant=50"
for _ in $(seq 100); do curl -sf "$OT_URL" -o "$T/ot.answer" && break; sleep 0.05; done
grep -q 'complete' "$T/ot.answer" || { cat "$T/ot.log"; echo "opentracker did not answer a valid announce" >&2; exit 1; }

H=$(printf 'ab%.0s' $(seq 32)); PEER=$(printf '4142434445464748494a4b4c4d4e4f5051525354')
P2P_URL="http://127.0.0.1:$P2P_PORT/announce?info_hash=$H&peer_id=$PEER&port=6881&uploaded=0&downloaded=0&left=0&numwant=50"
curl -sf "$P2P_URL" | grep -q '"interval"' || { echo "p2p-tracker did not answer a valid announce" >&2; exit 1; }

# --- 1. same announce, same wrk settings -----------------------------------------------
WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
echo "== warm-up"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$P2P_URL" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$OT_URL" >/dev/null
echo "== ${WRK[*]} <p2p-tracker announce>"
"${WRK[@]}" "$P2P_URL" >"$T/wrk-p2p.txt"
echo "== ${WRK[*]} <opentracker announce>"
"${WRK[@]}" "$OT_URL" >"$T/wrk-ot.txt"
P2P_RPS=$(rps "$T/wrk-p2p.txt"); OT_RPS=$(rps "$T/wrk-ot.txt")

# --- 2. 10,000 swarms x 20 peers: fill, then measure under that load ------------------
cat >"$T/swarms.lua" <<'LUA'
-- Each request announces peer (n / 10000) % 20 of swarm n % 10000; threads interleave n.
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args)
  n = tid; step = tonumber(args[1]); fill = args[2] == "fill"
end
function request()
  local swarm, peer = n % 10000, math.floor(n / 10000) % 20
  n = n + step
  local path = string.format(
    "/announce?info_hash=%056d%08x&peer_id=%032d%04x%04x&port=%d&uploaded=0&downloaded=0&left=%d&numwant=50",
    0, swarm, 0, swarm % 65536, peer, 10000 + peer, peer == 0 and 0 or 1000)
  return wrk.format("GET", path)
end
-- In fill mode each thread stops once every (swarm, peer) pair has announced once.
function response()
  if fill and n >= 200000 then wrk.thread:stop() end
end
LUA
P2P_URL_BASE="http://127.0.0.1:$P2P_PORT"
echo "== filling 10,000 swarms x 20 peers"
# wrk cannot end early, so the fill runs a fixed time (~200k requests at >= 30k/s);
# the measured run below cycles through every pair again and completes any gap.
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${FILL_SECONDS:-7}s" -s "$T/swarms.lua" "$P2P_URL_BASE" -- "$THREADS" fill >"$T/wrk-fill.txt"
echo "== ${WRK[*]} -s swarms.lua (re-announces across all swarms)"
"${WRK[@]}" -s "$T/swarms.lua" "$P2P_URL_BASE" -- "$THREADS" >"$T/wrk-load.txt"
STATS=$(curl -sf "$P2P_URL_BASE/stats")
SWARMS=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["swarms"])' "$STATS")
PEERS=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["peers"])' "$STATS")
RSS_KB=$(awk '/^VmRSS/{print $2}' "/proc/$P2P_PID/status")
HWM_KB=$(awk '/^VmHWM/{print $2}' "/proc/$P2P_PID/status")
LOAD_RPS=$(rps "$T/wrk-load.txt")

# --- report ------------------------------------------------------------------------------
RATIO=$(python3 -c "print(f'{$P2P_RPS / $OT_RPS:.2f}')")
echo
echo "Tracker benchmark ($(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, same machine as the trackers)"
printf '%-48s %14s\n' "measure" "value"
printf '%-48s %14s\n' "------------------------------------------------" "--------------"
printf '%-48s %14s\n' "p2p-tracker announce req/s" "$P2P_RPS"
printf '%-48s %14s\n' "opentracker announce req/s" "$OT_RPS"
printf '%-48s %14s\n' "ratio p2p-tracker / opentracker" "${RATIO}x"
printf '%-48s %14s\n' "p2p-tracker announce p99 (single swarm)" "$(p99 "$T/wrk-p2p.txt")"
printf '%-48s %14s\n' "opentracker announce p99 (single swarm)" "$(p99 "$T/wrk-ot.txt")"
printf '%-48s %14s\n' "swarms / peers loaded" "$SWARMS / $PEERS"
printf '%-48s %14s\n' "p2p-tracker req/s with 10k swarms x 20 peers" "$LOAD_RPS"
printf '%-48s %14s\n' "p2p-tracker announce p99 under that load" "$(p99 "$T/wrk-load.txt")"
printf '%-48s %14s\n' "p2p-tracker RSS (VmRSS) with that load" "$((RSS_KB / 1024)) MiB"
printf '%-48s %14s\n' "p2p-tracker peak RSS (VmHWM)" "$((HWM_KB / 1024)) MiB"
grep -h 'Socket errors' "$T"/wrk-*.txt | sed 's/^/note: /' || true

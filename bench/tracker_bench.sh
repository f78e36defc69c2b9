#!/usr/bin/env bash
# Tracker benchmark (not a timed test). In one run, with the same wrk settings:
#   announce req/s and p99 of p2p-tracker with the embedded (in-memory) store,
#   of one p2p-tracker on Redis, of two p2p-trackers on one Redis (the load
#   spread over both), and of opentracker; then each p2p-tracker's memory (RSS)
#   with a few peers and with 100,000 peers stored, and announce req/s while
#   cycling over all of them. Prints a table and writes
#   bench/results/tracker_bench-latest.md.
#   bench/tracker_bench.sh                           (builds Release into build-bench)
#   P2P_BENCH_BIN=build/bin bench/tracker_bench.sh   (reuse a build)
# Env: DURATION (seconds per wrk run, 10), ROUNDS (3; the median is reported),
#      THREADS (2), CONNECTIONS (64), SWARMS x PEERS (5000 x 20 = 100,000 peers),
#      MAX_LOAD (1.0) and LOAD_WAIT (600 s): wait until the 1-minute load average
#      is below MAX_LOAD before measuring, polling every 30 s, at most LOAD_WAIT.
set -euo pipefail
# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"  # free_port, wrk_rps, wrk_p99_ms
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
SWARMS=${SWARMS:-5000}
PEERS=${PEERS:-20}
MAX_LOAD=${MAX_LOAD:-1.0}
LOAD_WAIT=${LOAD_WAIT:-600}
RESULTS=${RESULTS:-$ROOT/bench/results/tracker_bench-latest.md}

for tool in wrk opentracker redis-server redis-cli curl python3; do
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
  restore_host_memory
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load1() { cut -d' ' -f1 /proc/loadavg; }
rss_mib() { awk '/^VmRSS/{printf "%.1f\n", $2/1024}' "/proc/$1/status"; }
hwm_mib() { awk '/^VmHWM/{printf "%.1f\n", $2/1024}' "/proc/$1/status"; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
calc() { python3 -c "print(f'{($1):.2f}')"; }

# start_tracker NAME ARGS...: sets TRACKER_PID and TRACKER_PORT.
start_tracker() {
  local name=$1; shift
  "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 "$@" >"$T/$name.log" 2>&1 &
  TRACKER_PID=$!; PIDS+=("$TRACKER_PID")
  for _ in $(seq 200); do grep -q '^listening ' "$T/$name.log" && break; sleep 0.05; done
  TRACKER_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$T/$name.log")
  [ -n "$TRACKER_PORT" ] || { cat "$T/$name.log"; echo "p2p-tracker ($name) did not start" >&2; exit 1; }
}

# --- a quiet machine first --------------------------------------------------------
waited=0
while python3 -c "import sys; sys.exit(0 if float('$(load1)') >= $MAX_LOAD else 1)" && [ "$waited" -lt "$LOAD_WAIT" ]; do
  echo "== 1-minute load $(load1) >= $MAX_LOAD; waiting (${waited}s of ${LOAD_WAIT}s)"
  sleep 30
  waited=$((waited + 30))
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== load average before measuring: $LOAD_BEFORE"

# --- Redis (the documented persistence: AOF, fsync every second), four trackers, opentracker
REDIS_PORT=$(free_port)
mkdir -p "$T/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save '' --appendonly yes \
  --appendfsync everysec --daemonize no >"$T/redis.log" 2>&1 &
REDIS_PID=$!; PIDS+=("$REDIS_PID")
for _ in $(seq 200); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
STORE=redis://127.0.0.1:$REDIS_PORT

start_tracker mem --db "$T/tracker.db"
MEM_PID=$TRACKER_PID; MEM_PORT=$TRACKER_PORT
start_tracker r1 --store "$STORE"
R1_PID=$TRACKER_PID; R1_PORT=$TRACKER_PORT
start_tracker r2a --store "$STORE"
R2A_PORT=$TRACKER_PORT
start_tracker r2b --store "$STORE"
R2B_PORT=$TRACKER_PORT

# opentracker speaks BitTorrent: a 20-byte info hash, whitelisted as 40 hex, sent %XX-encoded.
OT_HASH=0123456789abcdef0123456789abcdef01234567
echo "$OT_HASH" >"$T/whitelist"
chmod 755 "$T"; chmod 644 "$T/whitelist"  # opentracker reads it after dropping to user nobody
OT_PORT=$(free_port)
# As root opentracker chroots into -d (run from there too), so the whitelist path is given inside it.
if [ "$(id -u)" = 0 ]; then OT_WHITELIST=/whitelist; else OT_WHITELIST=$T/whitelist; fi
(cd "$T" && exec opentracker -i 127.0.0.1 -p "$OT_PORT" -P "$OT_PORT" -d "$T" -w "$OT_WHITELIST") >"$T/ot.log" 2>&1 &
PIDS+=("$!")
OT_URL="http://127.0.0.1:$OT_PORT/announce?info_hash=$(echo "$OT_HASH" | sed 's/../%&/g')&peer_id=ABCDEFGHIJKLMNOPQRST&port=6881&uploaded=0&downloaded=0&left=0&numwant=50"
for _ in $(seq 100); do curl -sf "$OT_URL" -o "$T/ot.answer" && break; sleep 0.05; done
grep -q 'complete' "$T/ot.answer" || { cat "$T/ot.log"; echo "opentracker did not answer a valid announce" >&2; exit 1; }

H=$(printf 'ab%.0s' $(seq 32)); PEER=4142434445464748494a4b4c4d4e4f5051525354
QUERY="announce?info_hash=$H&peer_id=$PEER&port=6881&uploaded=0&downloaded=0&left=0&numwant=50"
url() { echo "http://127.0.0.1:$1/$QUERY"; }
for port in "$MEM_PORT" "$R1_PORT" "$R2A_PORT" "$R2B_PORT"; do
  curl -sf "$(url "$port")" | grep -q '"interval"' || { echo "p2p-tracker on port $port did not answer an announce" >&2; exit 1; }
done

# --- 1. one announce URL, same wrk settings, ROUNDS rounds ------------------------------
WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
HALF=(wrk -t$(( (THREADS + 1) / 2 )) -c$((CONNECTIONS / 2)) -d"${DURATION}s" --latency)
echo "== warm-up"
for u in "$(url "$MEM_PORT")" "$(url "$R1_PORT")" "$(url "$R2A_PORT")" "$(url "$R2B_PORT")" "$OT_URL"; do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$u" >/dev/null
done
declare -A R P
for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS: ${WRK[*]} on each"
  "${WRK[@]}" "$(url "$MEM_PORT")" >"$T/mem-$round.txt"
  "${WRK[@]}" "$(url "$R1_PORT")" >"$T/r1-$round.txt"
  # Two trackers, one Redis: half the connections on each, at the same time.
  "${HALF[@]}" "$(url "$R2A_PORT")" >"$T/r2a-$round.txt" &
  "${HALF[@]}" "$(url "$R2B_PORT")" >"$T/r2b-$round.txt"
  wait $!
  "${WRK[@]}" "$OT_URL" >"$T/ot-$round.txt"
  R[mem]+=" $(wrk_rps "$T/mem-$round.txt")"; P[mem]+=" $(wrk_p99_ms "$T/mem-$round.txt")"
  R[r1]+=" $(wrk_rps "$T/r1-$round.txt")"; P[r1]+=" $(wrk_p99_ms "$T/r1-$round.txt")"
  R[r2]+=" $(calc "$(wrk_rps "$T/r2a-$round.txt") + $(wrk_rps "$T/r2b-$round.txt")")"
  P[r2]+=" $(python3 -c "print(max($(wrk_p99_ms "$T/r2a-$round.txt"), $(wrk_p99_ms "$T/r2b-$round.txt")))")"
  R[ot]+=" $(wrk_rps "$T/ot-$round.txt")"; P[ot]+=" $(wrk_p99_ms "$T/ot-$round.txt")"
done
for k in mem r1 r2 ot; do
  # shellcheck disable=SC2086
  printf -v "RPS_$k" '%.0f' "$(median ${R[$k]})"
  # shellcheck disable=SC2086
  printf -v "P99_$k" '%.2f' "$(median ${P[$k]})"
done

# --- 2. memory with SWARMS x PEERS stored, and announces cycling over all of them -----
TOTAL=$((SWARMS * PEERS))
cat >"$T/swarms.lua" <<'LUA'
-- Request n announces peer (n / swarms) % peers of swarm n % swarms; threads interleave n.
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args)
  n = tid; step = tonumber(args[1]); swarms = tonumber(args[2]); peers = tonumber(args[3]); fill = args[4] == "fill"
end
function request()
  local swarm, peer = n % swarms, math.floor(n / swarms) % peers
  n = n + step
  local path = string.format(
    "/announce?info_hash=%056d%08x&peer_id=%032d%04x%04x&port=%d&uploaded=0&downloaded=0&left=%d&numwant=50",
    0, swarm, 0, swarm % 65536, peer, 10000 + peer, peer == 0 and 0 or 1000)
  return wrk.format("GET", path)
end
-- In fill mode each thread stops once every (swarm, peer) pair has announced once.
function response()
  if fill and n >= swarms * peers then wrk.thread:stop() end
end
LUA
peers_of() { curl -sf "http://127.0.0.1:$1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"])'; }
# fill PORT: announces every (swarm, peer) pair until the tracker holds TOTAL peers.
# wrk cannot end early and its threads advance at different speeds, so each try
# walks every pair from the start, for twice as long as the previous one.
fill() {
  local seconds have
  for seconds in ${FILL_SECONDS:-8} $((${FILL_SECONDS:-8} * 2)) $((${FILL_SECONDS:-8} * 4)); do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" -s "$T/swarms.lua" "http://127.0.0.1:$1" \
      -- "$THREADS" "$SWARMS" "$PEERS" fill >/dev/null
    have=$(peers_of "$1")
    echo "   port $1: $have of $TOTAL peers stored"
    [ "$have" -ge "$TOTAL" ] && return 0
  done
  echo "could not store $TOTAL peers through port $1" >&2
  exit 1
}
RSS_FEW_mem=$(rss_mib "$MEM_PID"); RSS_FEW_r1=$(rss_mib "$R1_PID")
REDIS_MEM_FEW=$(redis-cli -p "$REDIS_PORT" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
echo "== storing $SWARMS swarms x $PEERS peers in each store"
fill "$MEM_PORT"
fill "$R1_PORT"
echo "== ${WRK[*]} -s swarms.lua (re-announces across all swarms) on the in-memory tracker, then on Redis"
"${WRK[@]}" -s "$T/swarms.lua" "http://127.0.0.1:$MEM_PORT" -- "$THREADS" "$SWARMS" "$PEERS" >"$T/load-mem.txt"
"${WRK[@]}" -s "$T/swarms.lua" "http://127.0.0.1:$R1_PORT" -- "$THREADS" "$SWARMS" "$PEERS" >"$T/load-r1.txt"
PEERS_mem=$(peers_of "$MEM_PORT"); PEERS_r1=$(peers_of "$R1_PORT")
RSS_MANY_mem=$(rss_mib "$MEM_PID"); RSS_MANY_r1=$(rss_mib "$R1_PID")
HWM_r1=$(hwm_mib "$R1_PID")
REDIS_MEM_MANY=$(redis-cli -p "$REDIS_PORT" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report --------------------------------------------------------------------------------
R2_OT=$(calc "$RPS_r2 / $RPS_ot"); R1_MEM=$(calc "$RPS_r1 / $RPS_mem"); MEM_OT=$(calc "$RPS_mem / $RPS_ot")
met() { python3 -c "print('yes' if $1 else 'no')"; }
CPU=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)
{
  echo "# Tracker benchmark — \`bash bench/tracker_bench.sh\`"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($CPU), loopback; wrk, the trackers, redis-server"
  echo "and opentracker share the cores. Load average (1/5/15 min) before measuring: $LOAD_BEFORE;"
  echo "after: $LOAD_AFTER. Redis $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') with appendonly yes,"
  echo "appendfsync everysec, no RDB snapshots (docs/TRACKER.md). Medians of $ROUNDS rounds of"
  echo "\`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\` on one announce URL; \"two on Redis\" is two wrk"
  echo "processes of -t$(( (THREADS + 1) / 2 )) -c$((CONNECTIONS / 2)) at once, one per tracker (req/s summed, p99 the worse)."
  echo
  echo "| configuration | announce req/s | p99 (ms) |"
  echo "| --- | ---: | ---: |"
  echo "| p2p-tracker, embedded store (in memory) | $RPS_mem | $P99_mem |"
  echo "| p2p-tracker on Redis, one process | $RPS_r1 | $P99_r1 |"
  echo "| p2p-tracker on Redis, two processes, one Redis | $RPS_r2 | $P99_r2 |"
  echo "| opentracker | $RPS_ot | $P99_ot |"
  echo
  echo "| ratio | value | target | met |"
  echo "| --- | ---: | ---: | :---: |"
  echo "| two on Redis / opentracker | ${R2_OT}× | ≥ 1.0× | $(met "$R2_OT >= 1.0") |"
  echo "| one on Redis / in-memory | ${R1_MEM}× | ≥ 0.5× | $(met "$R1_MEM >= 0.5") |"
  echo "| in-memory / opentracker | ${MEM_OT}× | | |"
  echo
  echo "Memory with $SWARMS swarms × $PEERS peers stored ($TOTAL peers), and announces cycling over all of them:"
  echo
  echo "| tracker | peers stored | RSS with few peers | RSS with them all | req/s over all swarms | p99 (ms) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  echo "| embedded store | $PEERS_mem | $RSS_FEW_mem MiB | $RSS_MANY_mem MiB | $(printf '%.0f' "$(wrk_rps "$T/load-mem.txt")") | $(wrk_p99_ms "$T/load-mem.txt") |"
  echo "| on Redis | $PEERS_r1 | $RSS_FEW_r1 MiB | $RSS_MANY_r1 MiB (peak $HWM_r1) | $(printf '%.0f' "$(wrk_rps "$T/load-r1.txt")") | $(wrk_p99_ms "$T/load-r1.txt") |"
  echo
  echo "Redis used_memory: $((REDIS_MEM_FEW / 1024 / 1024)) MiB with a few peers, $((REDIS_MEM_MANY / 1024 / 1024)) MiB with $PEERS_r1."
  grep -h 'Socket errors' "$T"/ot-1.txt | sed 's/^/opentracker closes every connection (wrk counts those as read errors): /' || true
} >"$T/report.md"
mkdir -p "$(dirname "$RESULTS")"
cp "$T/report.md" "$RESULTS"
echo
cat "$T/report.md"
echo
echo "written to $RESULTS"

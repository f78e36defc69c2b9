#!/usr/bin/env bash
# Core transfer-path benchmark (not a timed test): p2p-create vs mktorrent, a 1 GiB loopback
# transfer p2p-seed -> p2p-download vs aria2c -> aria2c (opentracker as tracker) and vs cp,
# peak RSS of seeders and downloaders (100 MiB and 1 GiB), and 1 MiB end-to-end latency.
# Prints a table and writes it, with the exact commands and tool versions, to
# bench/results/core_bench-latest.md.
#
#   bash bench/core_bench.sh
#
# Env: BENCH_DIR (scratch space, default /tmp/p2p-bench; the random input files are kept
#      there between runs and regenerated only if their size is wrong),
#      RUNS (timed runs per measure, default 5), WARMUP (1), SMALL_RUNS (1 MiB p2p runs, 20),
#      ARIA_RUNS (aria2c runs, 3), DL_TIMEOUT (seconds per transfer, 120),
#      P2P_BENCH_SKIP_BUILD=1 (use build/bin as is instead of running scripts/build.sh).
# All figures are warm page cache, loopback, one seeder and one downloader on this machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
util() { python3 "$HERE/bench_util.py" "$@"; }

BENCH_DIR=${BENCH_DIR:-/tmp/p2p-bench}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
SMALL_RUNS=${SMALL_RUNS:-20}
ARIA_RUNS=${ARIA_RUNS:-3}
DL_TIMEOUT=${DL_TIMEOUT:-120}
RESULTS=$HERE/results/core_bench-latest.md

for tool in aria2c opentracker mktorrent hyperfine python3 curl cmp timeout; do
  command -v "$tool" >/dev/null || {
    echo "core_bench: $tool is not installed; install the bench tools with: P2P_BENCH_DEPS=1 scripts/setup-deps.sh" >&2
    exit 1
  }
done
[ -x /usr/bin/time ] || {
  echo "core_bench: /usr/bin/time is not installed; install the bench tools with: P2P_BENCH_DEPS=1 scripts/setup-deps.sh" >&2
  exit 1
}

START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average at start: $LOAD_START ($(nproc) cores)"

if [ "${P2P_BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building (scripts/build.sh: RelWithDebInfo into build/)"
  "$ROOT/scripts/build.sh"
fi
BIN=$ROOT/build/bin
for b in p2p-create p2p-seed p2p-download; do [ -x "$BIN/$b" ] || die "$BIN/$b is missing (run scripts/build.sh)"; done

trap stop_all EXIT
trap 'exit 130' INT TERM
LOAD_MEASURE=$(cut -d' ' -f1-3 /proc/loadavg)
# Share of CPU time idle over one second: what other work leaves for the benchmark.
IDLE_PCT=$(python3 -c '
import time
def s():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f), f[3] + f[4]
t0, i0 = s(); time.sleep(1); t1, i1 = s()
print(round(100 * (i1 - i0) / max(1, t1 - t0)))')
log "load average before measuring: $LOAD_MEASURE; CPU idle over 1 s: $IDLE_PCT%"

# --- 1. input files ---------------------------------------------------------------------------
DATA=$BENCH_DIR/data
RUN=$BENCH_DIR/run
mkdir -p "$DATA"
rm -rf "$RUN"
mkdir -p "$RUN"/{json,logs,meta,ot,dl}
chmod 755 "$BENCH_DIR" "$RUN" "$RUN/ot"   # opentracker reads the whitelist as user nobody

declare -A SIZE=([1g]=$((1 << 30)) [100m]=$((100 << 20)) [1m]=$((1 << 20)))
declare -A NAME=([1g]=bench-1GiB.bin [100m]=bench-100MiB.bin [1m]=bench-1MiB.bin)
for k in 1m 100m 1g; do
  f=$DATA/${NAME[$k]}
  if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" != "${SIZE[$k]}" ]; then
    log "creating $f (${SIZE[$k]} random bytes)"
    head -c "${SIZE[$k]}" /dev/urandom >"$f.tmp"
    mv "$f.tmp" "$f"
  fi
done
# Warm the page cache for every input so all tools start from the same state.
cat "$DATA"/bench-*.bin >/dev/null

# Everything that ends up in the report's "commands" section.
CMDLOG=$RUN/commands.md
: >"$CMDLOG"
note_cmd() { printf -- '- `%s`\n' "$*" >>"$CMDLOG"; }

HF=(run_bounded 900 hyperfine --style basic)

# check_rm.sh OUT REF DIR LOG [mkdir]: records whether the previous run's OUT equals REF (cmp),
# then removes DIR (and recreates it when asked). Used as hyperfine --prepare, so each output
# is checked before the next run deletes it; the last one is checked after hyperfine.
cat >"$RUN/check_rm.sh" <<'SH'
#!/bin/sh
if [ -e "$1" ]; then
  if cmp -s "$1" "$2"; then echo ok >>"$4"; else echo "BAD $1" >>"$4"; fi
fi
rm -rf "$3"
[ "${5:-}" = mkdir ] && mkdir -p "$3"
exit 0
SH
chmod +x "$RUN/check_rm.sh"

# transfer LABEL OUT REF OUTDIR WARMUP RUNS MKDIR SHELL CMD: hyperfine CMD with the check above;
# dies unless at least RUNS outputs were byte-identical to REF and none differed.
transfer() {
  local label=$1 out=$2 ref=$3 outdir=$4 warm=$5 runs=$6 mk=$7 shell=$8 cmd=$9
  local checks=$RUN/logs/check-$label.log
  : >"$checks"
  local prep; prep="$(q "$RUN/check_rm.sh" "$out" "$ref" "$outdir" "$checks" "$mk")"
  "$RUN/check_rm.sh" "$out" "$ref" "$outdir" /dev/null "$mk"
  local shellopt=()
  [ "$shell" = none ] && shellopt=(-N)
  log "$label: $cmd"
  note_cmd "$cmd"
  "${HF[@]}" "${shellopt[@]}" -w "$warm" -r "$runs" --export-json "$RUN/json/$label.json" \
    -n "$label" --prepare "$prep" "$cmd" || die "$label failed (hyperfine exit $?)"
  "$RUN/check_rm.sh" "$out" "$ref" "$outdir" "$checks" "$mk"
  local ok bad
  ok=$(grep -c '^ok' "$checks" || true)
  bad=$(grep -c '^BAD' "$checks" || true)
  [ "$bad" = 0 ] || die "$label: $bad output(s) differ from $ref"
  [ "$ok" -ge "$runs" ] || die "$label: only $ok of $runs outputs were present to check"
  log "$label: $ok outputs byte-identical to the source"
}
mean_of() { util hf "$RUN/json/$1.json" | cut -d' ' -f1; }
# sd_of LABEL: "stddev,min" of a hyperfine result (the table shows both).
sd_of() { util hf "$RUN/json/$1.json" | awk '{print $2 "," $3}'; }

# --- 2. p2p-create vs mktorrent (1 GiB) ---------------------------------------------------------------
OT_PORT=$(free_port)
ANNOUNCE=http://127.0.0.1:$OT_PORT/announce
F1G=$DATA/${NAME[1g]}
META_1G=$RUN/meta/${NAME[1g]}.p2pmeta
TOR_1G=$RUN/meta/${NAME[1g]}.torrent
CREATE_CMD="$(q "$BIN/p2p-create" -q "$F1G" -o "$META_1G")"
MKT_CMD="$(q mktorrent -t 2 -p -a "$ANNOUNCE" -o "$TOR_1G" "$F1G")"
log "p2p-create: $CREATE_CMD"
note_cmd "$CREATE_CMD"
"${HF[@]}" -w "$WARMUP" -r "$RUNS" --export-json "$RUN/json/create-p2p.json" -n p2p-create \
  --prepare "$(q rm -f "$META_1G")" "$CREATE_CMD"
log "mktorrent: $MKT_CMD"
note_cmd "$MKT_CMD"
"${HF[@]}" -w "$WARMUP" -r "$RUNS" --export-json "$RUN/json/create-mktorrent.json" -n mktorrent \
  --prepare "$(q rm -f "$TOR_1G")" "$MKT_CMD"
[ -s "$META_1G" ] && [ -s "$TOR_1G" ] || die "p2p-create or mktorrent left no output"

# --- metadata for the other sizes, the whitelist and opentracker -----------------------------------
declare -A META TOR HASH
META[1g]=$META_1G; TOR[1g]=$TOR_1G
for k in 100m 1m; do
  META[$k]=$RUN/meta/${NAME[$k]}.p2pmeta
  TOR[$k]=$RUN/meta/${NAME[$k]}.torrent
  "$BIN/p2p-create" -q "$DATA/${NAME[$k]}" -o "${META[$k]}"
  mktorrent -t 2 -p -a "$ANNOUNCE" -o "${TOR[$k]}" "$DATA/${NAME[$k]}" >/dev/null
done
: >"$RUN/ot/whitelist"
for k in 1g 100m 1m; do
  HASH[$k]=$(util infohash "${TOR[$k]}")
  echo "${HASH[$k]}" >>"$RUN/ot/whitelist"
done
chmod 644 "$RUN/ot/whitelist"
# As root opentracker chroots into -d and drops to nobody, so the whitelist path is inside it.
if [ "$(id -u)" = 0 ]; then OT_WHITELIST=/whitelist; else OT_WHITELIST=$RUN/ot/whitelist; fi
OT_CMD="opentracker -i 127.0.0.1 -p $OT_PORT -P $OT_PORT -d $RUN/ot -w $OT_WHITELIST"
note_cmd "(cd $RUN/ot && $OT_CMD)"
bg_start "$RUN/logs/opentracker.log" sh -c "cd $(q "$RUN/ot") && exec $OT_CMD"
OT_PID=$BG_PID
scrape_url() { echo "http://127.0.0.1:$OT_PORT/scrape?info_hash=$(echo "$1" | sed 's/../%&/g')"; }
wait_until 10 "opentracker to answer" curl -sf "$(scrape_url "${HASH[1g]}")"
is_running "$OT_PID" || die "opentracker exited: $(cat "$RUN/logs/opentracker.log")"

# --- seeders ------------------------------------------------------------------------------------------
# p2p_seed_start K: starts p2p-seed for size K; sets SEED_PID and SEED_PORT.
p2p_seed_start() {
  local k=$1 logf=$RUN/logs/p2p-seed-$1.log i
  local cmd=("$BIN/p2p-seed" --meta "${META[$k]}" --source "$DATA/${NAME[$k]}" --port 0 --host 127.0.0.1 --quiet)
  note_cmd "$(q "${cmd[@]}")"
  bg_start "$logf" "${cmd[@]}"
  SEED_PID=$BG_PID
  for ((i = 0; i < 600; i++)); do
    grep -q '^listening ' "$logf" && break
    is_running "$SEED_PID" || die "p2p-seed exited: $(cat "$logf")"
    sleep 0.1
  done
  SEED_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$logf")
  [ -n "$SEED_PORT" ] || die "p2p-seed did not print 'listening' within 60 s: $(cat "$logf")"
}

ARIA_COMMON=(--no-conf --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false)
# aria_seed_start K: aria2c checks the existing file (-V) and seeds it forever; waits until
# opentracker lists it as a complete peer. Sets SEED_PID.
aria_seed_start() {
  local k=$1 logf=$RUN/logs/aria-seed-$1.log port i
  port=$(free_port)
  local cmd=(aria2c "${ARIA_COMMON[@]}" --dir="$DATA" -V --seed-ratio=0.0 --listen-port="$port"
             --bt-external-ip=127.0.0.1 --summary-interval=0 --show-console-readout=false "${TOR[$k]}")
  note_cmd "$(q "${cmd[@]}")"
  bg_start "$logf" "${cmd[@]}"
  SEED_PID=$BG_PID
  local url; url=$(scrape_url "${HASH[$k]}")
  for ((i = 0; i < 1200; i++)); do
    curl -sf "$url" | grep -aq '8:completei[1-9]' && return 0
    is_running "$SEED_PID" || die "aria2c seeder exited: $(tail -20 "$logf")"
    sleep 0.1
  done
  die "aria2c seeder not announced as complete within 120 s: $(tail -20 "$logf")"
}

declare -A CPU0
seed_cpu_mark() { CPU0[$1]=$(proc_cpu "$SEED_PID"); }
# seed_cpu_per LABEL TRANSFERS: seeder user+sys seconds per transfer since seed_cpu_mark LABEL.
seed_cpu_per() {
  local now; now=$(proc_cpu "$SEED_PID")
  local u0 s0 u1 s1
  read -r u0 s0 <<<"${CPU0[$1]}"; read -r u1 s1 <<<"$now"
  calc "(($u1 - $u0) + ($s1 - $s0)) / $2"
}

TIMEFMT='%e %U %S %M'
declare -A R   # results, keyed by name

# p2p_runs K LABEL PARALLEL(or "") WARM RUNS: timed p2p-download runs against the running seeder.
p2p_runs() {
  local k=$1 label=$2 par=$3 warm=$4 runs=$5
  local outdir=$RUN/dl/$label tl=$RUN/logs/time-$label.log
  : >"$tl"
  local paropt=(); [ -n "$par" ] && paropt=(--parallel "$par")
  local cmd; cmd="$(q timeout "$DL_TIMEOUT" /usr/bin/time -f "$TIMEFMT" -a -o "$tl" \
    "$BIN/p2p-download" --meta "${META[$k]}" --peer "127.0.0.1:$SEED_PORT" --workdir "$outdir" "${paropt[@]}" --quiet)"
  seed_cpu_mark "$label"
  transfer "$label" "$outdir/${NAME[$k]}" "$DATA/${NAME[$k]}" "$outdir" "$warm" "$runs" no sh "$cmd"
  R[$label.mean]=$(mean_of "$label"); R[$label.sd]=$(sd_of "$label")
  R[$label.seedcpu]=$(seed_cpu_per "$label" $((warm + runs)))
  read -r _ R[$label.user] R[$label.sys] R[$label.rss] _ <<<"$(util timelog "$tl")"
}

aria_runs() {
  local k=$1 label=$2 warm=$3 runs=$4
  local outdir=$RUN/dl/$label tl=$RUN/logs/time-$label.log port
  port=$(free_port)
  : >"$tl"
  local cmd; cmd="$(q timeout "$DL_TIMEOUT" /usr/bin/time -f "$TIMEFMT" -a -o "$tl" \
    aria2c "${ARIA_COMMON[@]}" --dir="$outdir" --seed-time=0 --listen-port="$port" --file-allocation=none \
    --bt-tracker-connect-timeout=10 --bt-tracker-timeout=10 --summary-interval=0 -q "${TOR[$k]}")"
  seed_cpu_mark "$label"
  transfer "$label" "$outdir/${NAME[$k]}" "$DATA/${NAME[$k]}" "$outdir" "$warm" "$runs" no sh "$cmd"
  R[$label.mean]=$(mean_of "$label"); R[$label.sd]=$(sd_of "$label")
  R[$label.seedcpu]=$(seed_cpu_per "$label" $((warm + runs)))
  read -r _ R[$label.user] R[$label.sys] R[$label.rss] _ <<<"$(util timelog "$tl")"
}

# --- 3./4. 1 GiB and 100 MiB transfers -----------------------------------------------------------------
for k in 1g 100m; do
  log "=== ${NAME[$k]}: p2p-seed -> p2p-download"
  p2p_seed_start "$k"
  p2p_runs "$k" "p2p-$k" "" "$WARMUP" "$RUNS"
  if [ "$k" = 1g ]; then
    p2p_runs "$k" "p2p-$k-par1" 1 "$WARMUP" "$RUNS"
    p2p_runs "$k" "p2p-$k-par8" 8 "$WARMUP" "$RUNS"
  fi
  R[p2pseed-$k.rss]=$(proc_hwm "$SEED_PID")
  stop_pid "$SEED_PID"

  log "=== ${NAME[$k]}: aria2c seeder -> aria2c downloader (tracker: opentracker)"
  aria_seed_start "$k"
  aria_runs "$k" "aria-$k" "$WARMUP" "$ARIA_RUNS"
  R[ariaseed-$k.rss]=$(proc_hwm "$SEED_PID")
  stop_pid "$SEED_PID"
done

log "=== ${NAME[1g]}: cp"
CPDIR=$RUN/dl/cp
CP_CMD="$(q cp "$F1G" "$CPDIR/${NAME[1g]}")"
transfer cp-1g "$CPDIR/${NAME[1g]}" "$F1G" "$CPDIR" "$WARMUP" "$RUNS" mkdir sh "$CP_CMD"
R[cp-1g.mean]=$(mean_of cp-1g); R[cp-1g.sd]=$(sd_of cp-1g)
# p2p-download fdatasyncs the file before reporting success; cp does not. Same copy, made durable:
CPS_CMD="$CP_CMD && $(q sync -d "$CPDIR/${NAME[1g]}")"
transfer cpsync-1g "$CPDIR/${NAME[1g]}" "$F1G" "$CPDIR" "$WARMUP" "$RUNS" mkdir sh "$CPS_CMD"
R[cpsync-1g.mean]=$(mean_of cpsync-1g); R[cpsync-1g.sd]=$(sd_of cpsync-1g)

# --- 5. 1 MiB end to end ------------------------------------------------------------------------------------
log "=== ${NAME[1m]}: process start to verified file"
p2p_seed_start 1m
OUT1M=$RUN/dl/p2p-1m
P2P_1M_CMD="$(q "$BIN/p2p-download" --meta "${META[1m]}" --peer "127.0.0.1:$SEED_PORT" --workdir "$OUT1M" --quiet)"
transfer p2p-1m "$OUT1M/${NAME[1m]}" "$DATA/${NAME[1m]}" "$OUT1M" 3 "$SMALL_RUNS" no none "$P2P_1M_CMD"
R[p2p-1m.mean]=$(mean_of p2p-1m); R[p2p-1m.sd]=$(sd_of p2p-1m)
stop_pid "$SEED_PID"
aria_seed_start 1m
aria_runs 1m aria-1m 0 "$ARIA_RUNS"
stop_pid "$SEED_PID"

stop_pid "$OT_PID"
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - START_TS))

# --- 6. report -------------------------------------------------------------------------------------------------
ROWS=$RUN/rows.tsv
DETAIL=$RUN/detail.tsv
: >"$ROWS"; : >"$DETAIL"
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }
drow() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$DETAIL"; }
C_P=$(mean_of create-p2p); C_PS=$(sd_of create-p2p); C_M=$(mean_of create-mktorrent); C_MS=$(sd_of create-mktorrent)
row "p2p-create 1 GiB (s)" "$C_P" "$C_PS" "mktorrent -t 2" "$C_M" "$C_MS" s "<=1.0x"
for v in "p2p-1g|default --parallel" "p2p-1g-par1|--parallel 1" "p2p-1g-par8|--parallel 8"; do
  l=${v%%|*}; d=${v#*|}
  row "1 GiB transfer, $d (s)" "${R[$l.mean]}" "${R[$l.sd]}" "aria2c→aria2c" "${R[aria-1g.mean]}" "${R[aria-1g.sd]}" s "<=0.25x"
  row "1 GiB transfer, $d (s)" "${R[$l.mean]}" "${R[$l.sd]}" "cp" "${R[cp-1g.mean]}" "${R[cp-1g.sd]}" s "<=1.5x"
done
row "Peak RSS seeder, 100 MiB" "${R[p2pseed-100m.rss]}" "" "aria2c seeder" "${R[ariaseed-100m.rss]}" "" MiB "<=1.0x"
row "Peak RSS downloader, 100 MiB" "${R[p2p-100m.rss]}" "" "aria2c downloader" "${R[aria-100m.rss]}" "" MiB "<=1.0x"
row "Peak RSS seeder, 1 GiB" "${R[p2pseed-1g.rss]}" "" "aria2c seeder" "${R[ariaseed-1g.rss]}" "" MiB "<=1.0x"
row "Peak RSS downloader, 1 GiB" "${R[p2p-1g.rss]}" "" "aria2c downloader" "${R[aria-1g.rss]}" "" MiB "<=1.0x"
row "1 MiB start→verified file (s)" "${R[p2p-1m.mean]}" "${R[p2p-1m.sd]}" "aria2c→aria2c" "${R[aria-1m.mean]}" "${R[aria-1m.sd]}" s "<50ms"

drow "1 GiB transfer vs cp + fdatasync (s)" "${R[p2p-1g.mean]}" "${R[p2p-1g.sd]}" "cp && sync -d" "${R[cpsync-1g.mean]}" "${R[cpsync-1g.sd]}" s "-"
ARIA_NET=$(calc "${R[aria-1g.mean]} - ${R[aria-1m.mean]}")
drow "1 GiB transfer vs aria2c net of its fixed start/stop cost (s)" "${R[p2p-1g.mean]}" "" "aria2c 1 GiB − aria2c 1 MiB" "$ARIA_NET" "" s "-"
drow "100 MiB transfer (s)" "${R[p2p-100m.mean]}" "${R[p2p-100m.sd]}" "aria2c→aria2c" "${R[aria-100m.mean]}" "${R[aria-100m.sd]}" s "-"
for v in "p2p-1g|default --parallel" "p2p-1g-par1|--parallel 1" "p2p-1g-par8|--parallel 8"; do
  l=${v%%|*}; d=${v#*|}
  drow "Downloader user CPU per 1 GiB, $d (s)" "${R[$l.user]}" "" "aria2c downloader" "${R[aria-1g.user]}" "" s "-"
  drow "Downloader sys CPU per 1 GiB, $d (s)" "${R[$l.sys]}" "" "aria2c downloader" "${R[aria-1g.sys]}" "" s "-"
  drow "Seeder user+sys CPU per 1 GiB, $d (s)" "${R[$l.seedcpu]}" "" "aria2c seeder" "${R[aria-1g.seedcpu]}" "" s "-"
done
drow "Peak RSS downloader, 1 GiB --parallel 1 / 8" "${R[p2p-1g-par1.rss]}" "" "(--parallel 8)" "${R[p2p-1g-par8.rss]}" "" MiB "-"

HOST_INFO="$(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(findmnt -no FSTYPE -T "$BENCH_DIR") at $BENCH_DIR"
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- lib apps CMakeLists.txt 2>/dev/null | wc -l)
VERSIONS="p2p-share $GIT_REV$([ "$GIT_DIRTY" != 0 ] && echo " (+$GIT_DIRTY uncommitted changes in lib/ apps/)") RelWithDebInfo; $(aria2c --version | head -1); $(mktorrent -h 2>&1 | head -1 | sed 's/ (c).*//'); opentracker $(dpkg-query -W -f='${Version}' opentracker 2>/dev/null || echo '?'); $(hyperfine --version); $(cp --version | head -1)"

echo
echo "Core transfer benchmark — $HOST_INFO"
echo "load average: $LOAD_START at start, $LOAD_MEASURE after the build (CPU ${IDLE_PCT}% idle), $LOAD_END at end; ${ELAPSED}s total"
echo "hyperfine mean ± sd (min) of $RUNS runs after $WARMUP warm-up (aria2c: $ARIA_RUNS runs; 1 MiB p2p: $SMALL_RUNS runs after 3); ratios use means; RSS = max over runs"
echo
util table "$ROWS"
echo
echo "Detail (no targets):"
util table "$DETAIL"
if python3 -c "import sys; sys.exit(0 if float('${LOAD_MEASURE%% *}') > $(nproc) * 0.5 else 1)"; then
  echo
  echo "NOTE: load average ${LOAD_MEASURE%% *} when measuring started, on $(nproc) cores: other work was running; figures may be noisy (rerun when the machine is idle)."
fi

mkdir -p "$(dirname "$RESULTS")"
{
  echo "# Core transfer benchmark — latest run"
  echo
  echo "Produced by \`bash bench/core_bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "- Host: $HOST_INFO"
  echo "- Load average: $LOAD_START at start, $LOAD_MEASURE after the build (when measuring started; CPU ${IDLE_PCT}% idle over 1 s), $LOAD_END at end (the machine is shared; figures can be noisy). Total ${ELAPSED}s including the build."
  echo "- Versions: $VERSIONS"
  echo "- Method: hyperfine mean ± sd (min) of $RUNS runs after $WARMUP warm-up (aria2c transfers: $ARIA_RUNS runs; 1 MiB p2p: $SMALL_RUNS runs after 3 warm-ups, no shell, no wrapper); ratios and targets use the means. Warm page cache, loopback, one seeder and one downloader. Every output was compared with \`cmp\` against the source before it was counted. Transfer times are process start to exit (file complete and verified). Downloader RSS and CPU come from \`/usr/bin/time -f '%e %U %S %M'\` around each run (max RSS over runs, mean CPU); seeder RSS is VmHWM of the long-lived seeder (including its start-up hash check) read just before stopping it; seeder CPU is the /proc/PID/stat delta over the runs divided by the number of transfers."
  echo "- Inputs: random files in \`$DATA\` (1 GiB, 100 MiB, 1 MiB). p2p-create picks its piece size automatically (512 KiB for 1 GiB) and computes SHA-256 per piece plus a whole-file SHA-256; mktorrent computes one SHA-1 per 256 KiB piece (its default). p2p-download fdatasyncs the file and checks a whole-file SHA-256 before exiting; cp and aria2c do neither (see the cp + fdatasync row)."
  echo
  echo "## Results"
  echo
} >"$RESULTS"
util table "$ROWS" --md "$RESULTS" >/dev/null
{
  echo
  echo "## Detail (no targets)"
  echo
} >>"$RESULTS"
util table "$DETAIL" --md "$RESULTS" >/dev/null
{
  echo
  echo "## Exact commands"
  echo
  echo "Ports are chosen free at run time. hyperfine JSON exports and logs: \`$RUN/json\`, \`$RUN/logs\`. \`hyperfine --style basic -w W -r N --export-json … --prepare 'check_rm.sh OUT SRC DIR LOG'\` wraps every timed command (check_rm.sh cmp's the previous output against the source, then deletes the output directory)."
  echo
  cat "$CMDLOG"
} >>"$RESULTS"
log "wrote $RESULTS"

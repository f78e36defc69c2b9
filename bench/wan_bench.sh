#!/usr/bin/env bash
# Transfers across long round trips (issue 21), as root: every process in its own network
# namespace (scripts/netns/harness.sh), round trips made by delay relays on the TCP
# connections between namespaces (nsh_delay: RTT/2 each way, in user space; see the top of
# harness.sh for what that models), uploads capped by the kernel (tbf), every program with its
# default flags; p2p-share (p2p-seed + p2p-download), aria2c and libtorrent (python3-libtorrent,
# TCP only) through the same relays in the same run.
#   one:   one seeder and one downloader, F_MIB (64) MiB, the seeder's upload capped at CAP_MIB
#          (40) MiB/s and uncapped, at each RTT of RTTS (0 50 100 200 ms; 0 = through the relays
#          without delay). Throughput = F / (downloader start -> complete copy), and its ratio to
#          the same tool and cap at RTT 0; beside it the steady rate the relay measured on the
#          connection (from its 8th MiB to its last). p2p-download's peak RSS is recorded too.
#   swarm: one seeder and SWARM_N (8) downloaders, SWARM_F_MIB (32) MiB, every upload capped at
#          SWARM_R_MIB (4) MiB/s (SWARM_HET=1: every second downloader at a quarter), downloads
#          uncapped, a round trip between every two members drawn uniformly from
#          SWARM_RTT_MIN..SWARM_RTT_MAX ms (20..200) with SWARM_SEED (21); the tracker's link has
#          none. Time until the last holds a verified copy, against the minimum distribution time
#          T* = max(F/u_s, F/d_min, N·F/(u_s + Σu_i)) (d_min: downloads uncapped, so no term).
# p2p-share's downloaders are given the seeder's address (they meet by gossip); aria2c and
# libtorrent find peers through opentracker (bench/lib.sh's start_seeder / start_leecher, as in
# bench/netns_swarm_bench.sh).
#
#   sudo bash bench/wan_bench.sh
#
# Writes bench/results/wan_bench-latest.{md,json,dat} and wan_bench.png (gnuplot).
# Env: PARTS ("one swarm"), TOOLS ("p2p aria lt"), REPEATS (runs per cell, 3; medians),
#      F_MIB, CAP_MIB, CAPS ("$CAP_MIB 0"), RTTS, SWARM_N, SWARM_F_MIB, SWARM_R_MIB, SWARM_HET,
#      SWARM_RTT_MIN, SWARM_RTT_MAX, SWARM_SEED, RELAY_BUFFER_MIB (256: bytes a relay holds per
#      direction and connection, a ceiling of RELAY_BUFFER/(RTT/2) on one direction's rate),
#      TBF_QUEUE_MS (100: how long tbf queues before it drops; 5 = a shallow, dropping bottleneck),
#      P2P_BENCH_SKIP_BUILD=1 (use build/bin as is), P2P_BENCH_BIN (programs from there instead
#      of build/bin, with P2P_BENCH_SKIP_BUILD=1: p2p-create, p2p-seed, p2p-download, delay_relay), KEEP_SCRATCH=1 (keep logs), OUT (results
#      path prefix), P2P_DL_ARGS (extra p2p-download flags, experiments only).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
RESULTS_DIR=$ROOT/bench/results
PARTS=${PARTS:-one swarm}
TOOLS=${TOOLS:-p2p aria lt}
REPEATS=${REPEATS:-3}
F_MIB=${F_MIB:-64}
CAP_MIB=${CAP_MIB:-40}
CAPS=${CAPS:-$CAP_MIB 0}
RTTS=${RTTS:-0 50 100 200}
SWARM_N=${SWARM_N:-8}
SWARM_F_MIB=${SWARM_F_MIB:-32}
SWARM_R_MIB=${SWARM_R_MIB:-4}
SWARM_HET=${SWARM_HET:-0}
SWARM_RTT_MIN=${SWARM_RTT_MIN:-20}
SWARM_RTT_MAX=${SWARM_RTT_MAX:-200}
SWARM_SEED=${SWARM_SEED:-21}
RELAY_BUFFER_MIB=${RELAY_BUFFER_MIB:-256}
TBF_QUEUE_MS=${TBF_QUEUE_MS:-100}
OUT=${OUT:-$RESULTS_DIR/wan_bench}
LT_PY=/usr/bin/python3   # python3-libtorrent is built for Debian's python

tools=(python3 cmp curl gnuplot ip tc nft)
case " $TOOLS " in *" aria "*|*" lt "*) tools+=(mktorrent opentracker) ;; esac
case " $TOOLS " in *" aria "*) tools+=(aria2c) ;; esac
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || die "$tool is not installed (P2P_BENCH_DEPS=1 scripts/setup-deps.sh)"
done
case " $TOOLS " in *" lt "*)
  "$LT_PY" -c 'import libtorrent' 2>/dev/null || die "python3-libtorrent is not installed (apt-get install python3-libtorrent)" ;;
esac
netns_bench_setup wan-bench

# Binaries are copied so that a concurrent rebuild of build/bin cannot swap them mid-run.
mkdir -p "$T/bin" "$T/data" "$T/runs" "$T/ot"
BIN=$T/bin
for b in p2p-create p2p-seed p2p-download delay_relay; do
  cp "${P2P_BENCH_BIN:-$ROOT/build/bin}/$b" "$BIN/" 2>/dev/null && "$BIN/$b" --help >/dev/null 2>&1 ||
    die "${P2P_BENCH_BIN:-build/bin}/$b is missing or broken (a concurrent build?); rerun scripts/build.sh"
done
NSH_RELAY=$BIN/delay_relay
NSH_DELAY_BUFFER=$((RELAY_BUFFER_MIB << 20))
NSH_DELAY_STATS=1   # the relays' per-connection lines give the steady rate of one connection
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- lib apps 2>/dev/null | wc -l)

nsh_node seed 0
nsh_node tracker 0
MAXN=1
case " $PARTS " in *" swarm "*) MAXN=$SWARM_N ;; esac
for ((i = 1; i <= MAXN; i++)); do nsh_node "d$i" 0; done
SEED_ADDR=${NSH_ADDR[seed]}
TRACKER_ADDR=${NSH_ADDR[tracker]}
write_aria_done_hook
chmod 755 "$T" "$T/ot"   # opentracker reads its whitelist as user nobody, chrooted in -d
: >"$T/ot/whitelist"

# make_file PART MIB: the part's random file, .p2pmeta (automatic piece size) and .torrent;
# sets NAME, SRC, META, TORRENT, INFOHASH (what bench/lib.sh's peers use).
make_file() {
  local part=$1 mib=$2
  NAME=wan-$part-${mib}MiB.bin
  SRC=$T/data/$NAME
  META=$SRC.p2pmeta
  TORRENT=$SRC.torrent
  log "creating a $mib MiB random file for '$part'"
  head -c $((mib << 20)) /dev/urandom >"$SRC"
  "$BIN/p2p-create" -q "$SRC" -o "$META"
  mktorrent -a "http://$TRACKER_ADDR:6969/announce" -o "$TORRENT" "$SRC" >/dev/null   # default piece length
  INFOHASH=$(python3 "$ROOT/bench/bench_util.py" infohash "$TORRENT")
  echo "$INFOHASH" >>"$T/ot/whitelist"; chmod 644 "$T/ot/whitelist"
}

RAW=$OUT-latest.dat
mkdir -p "$(dirname "$OUT")"
# part tool cap_bps rtt_ms rep n bytes wall first status rss_kb cpu load tstar steady_mib_s relay_cpu
: >"$T/raw.tsv"
CMDS=()

# run PART TOOL N CAP RTT REP TSTAR: the seeder and downloaders d1..dN started together; the
# time until all N hold the file; appends a row to raw.tsv.
run() {
  local part=$1 tool=$2 n=$3 cap=$4 rtt=$5 rep=$6 ts=$7 dir i t0 status=ok done_n load wall first rss='' cpu v
  dir=$T/runs/$part-$tool-c$cap-r$rtt-$rep; mkdir -p "$dir"
  # one connection: where the relays' per-connection lines of this run will begin
  local stat_logs=() lg relay_pids=() relay_cpu0=0 relay_cpu=-
  if [ "$part" = one ]; then
    for lg in "${NSH_DELAY_LOG[d1>seed]}" "${NSH_DELAY_LOG[seed>d1]}"; do stat_logs+=("$lg:$(wc -l <"$lg")"); done
    # The two relays live through every run: their CPU during this one is the difference.
    relay_pids=("${NSH_DELAY_PID[d1>seed]}" "${NSH_DELAY_PID[seed>d1]}")
    relay_cpu0=$(cpu_seconds "${relay_pids[@]}")
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  log "$part $tool N=$n cap $((cap >> 20)) MiB/s RTT $rtt ms run $rep (load $load)"
  start_seeder "$tool" "$dir"
  DL_PID=()
  # No process of the bench's own is started while the clock runs (netns_swarm_bench.sh).
  local t0_us deadline_us iter=0
  deadline_us=$(python3 -c "print(int(max(120, 8 * $ts)) * 1000000)")
  start_leechers_together "$tool" "$dir" "$n"   # sets t0
  t0_us=${t0/./}; deadline_us=$((t0_us + deadline_us))
  while :; do
    done_n=0
    for ((i = 1; i <= n; i++)); do
      if [ -s "$dir/done.$i" ] || { [ "$tool" = p2p ] && [ -f "$dir/d$i/$NAME" ]; }; then done_n=$((done_n + 1)); fi
    done
    [ "$done_n" -ge "$n" ] && break
    [ "${EPOCHREALTIME/./}" -ge "$deadline_us" ] && { status=timeout; break; }
    if [ $((++iter % 10)) = 0 ]; then
      for ((i = 1; i <= n; i++)); do
        [ -s "$dir/done.$i" ] || [ -f "$dir/d$i/$NAME" ] || nsh_running "${DL_PID[$i]}" || status=failed
      done
      [ "$status" = ok ] || break
    fi
    poll_pause 0.05
  done
  # p2p-download renames NAME.partial to NAME once every piece and the whole-file hash check
  # out: the rename's ctime is its completion time.
  [ "$tool" = p2p ] && [ "$n" = 1 ] && rss=$(proc_hwm "${DL_PID[1]}" 2>/dev/null || echo -)
  read -r wall first < <(python3 - "$dir" "$n" "$t0" "$status" "$tool" "$NAME" <<'PY'
import os, sys
d, n, t0, status, tool, name = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
ts = []
for i in range(1, n + 1):
    f, done = f"{d}/d{i}/{name}", f"{d}/done.{i}"
    if tool == "p2p" and os.path.exists(f):
        ts.append(os.stat(f).st_ctime - t0)
    elif os.path.exists(done) and os.path.getsize(done):
        ts.append(float(open(done).read().split()[0]) - t0)
print(f"{max(ts):.3f}" if len(ts) == n and status == "ok" else status, f"{min(ts):.3f}" if ts else "-")
PY
)
  local pids=()
  for ((i = 1; i <= n; i++)); do pids+=("${DL_PID[$i]}"); done
  cpu=$(cpu_seconds "$SEED_PID" "${pids[@]}")
  [ ${#relay_pids[@]} -gt 0 ] && relay_cpu=$(python3 -c "print(f'{$(cpu_seconds "${relay_pids[@]}") - $relay_cpu0:.1f}')")
  seeder_uploaded "$tool" "$dir" >/dev/null
  nsh_stop 10 "${pids[@]}"
  [ -n "${OT_PID:-}" ] && { nsh_stop 5 "$OT_PID"; OT_PID=""; }
  # The relays print a connection's line once both sides have closed it (up to RTT/2 later).
  local steady=-
  if [ ${#stat_logs[@]} -gt 0 ]; then
    for ((i = 0; i < 40; i++)); do
      steady=$(python3 "$ROOT/bench/wan_report.py" steady 8 "${stat_logs[@]}")
      [ "$steady" != - ] && break
      sleep 0.05
    done
  fi
  v=ok
  if [ "$status" != ok ]; then
    v="${done_n}/${n}_done"
  else
    for ((i = 1; i <= n; i++)); do cmp -s "$SRC" "$dir/d$i/$NAME" || v=bad_copy; done
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$part" "$tool" "$cap" "$rtt" "$rep" "$n" \
    "$(stat -c %s "$SRC")" "$wall" "$first" "$v" "${rss:--}" "$cpu" "$load" "$ts" "$steady" "$relay_cpu" >>"$T/raw.tsv"
  log "   $wall s$([ "$wall" != "${wall#[0-9]}" ] && python3 -c "print(f' = {$(stat -c %s "$SRC") / 1048576 / $wall:.1f} MiB/s' + (f', {$wall / $ts:.2f}×T*' if $ts > 0 else ''))"), $v, CPU $cpu s${rss:+, RSS $rss KiB}$([ "$relay_cpu" != - ] && echo ", relays $relay_cpu CPU-s")$([ "$steady" != - ] && echo ", steady $steady MiB/s (relay)")"
  if [ "$v" != ok ]; then
    local keep=$OUT-failed-$part-$tool-c$cap-r$rtt-$rep
    rm -rf "$keep"; cp -r "$dir" "$keep" 2>/dev/null || true
    find "$keep" -name "$NAME*" -type f -delete 2>/dev/null || true
    log "   logs of this run kept in ${keep#"$ROOT"/}"
  fi
  if ! printf '%s\n' "${CMDS[@]:-}" | grep -q "^$part $tool:"; then
    CMDS+=("$part $tool: $(printf '%q ' "${SEED_CMD[@]}")" "$part $tool: $(printf '%q ' "${DL_CMD[@]}")  # × N, each in its namespace")
  fi
  [ "${KEEP_SCRATCH:-0}" = 1 ] || rm -rf "$dir"/d[0-9]* "$dir/seedwd"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START=$SECONDS
for part in $PARTS; do
  case $part in
    one)
      make_file one "$F_MIB"
      for rtt in $RTTS; do
        nsh_delay d1 seed "$rtt" || die "nsh_delay d1 seed $rtt failed"
        for cap_mib in $CAPS; do
          cap=$((cap_mib << 20))
          if [ "$cap" -gt 0 ]; then nsh_shape seed "$cap" "$TBF_QUEUE_MS"; else tc -n "${NSH_NS[seed]}" qdisc del dev eth0 root 2>/dev/null || true; fi
          ts=$(python3 -c "print(f'{($F_MIB << 20) / $cap if $cap else 0:.3f}')")
          for tool in $TOOLS; do
            for ((rep = 1; rep <= REPEATS; rep++)); do run one "$tool" 1 "$cap" "$rtt" "$rep" "$ts"; done
          done
        done
      done
      nsh_undelay d1 seed ;;
    swarm)
      make_file swarm "$SWARM_F_MIB"
      R=$((SWARM_R_MIB << 20))
      # caps: the seeder and downloaders at R (SWARM_HET=1: the even-numbered ones at R/4)
      nsh_shape seed "$R" "$TBF_QUEUE_MS"
      for ((i = 1; i <= SWARM_N; i++)); do
        if [ "$SWARM_HET" = 1 ] && [ $((i % 2)) = 0 ]; then nsh_shape "d$i" $((R / 4)) "$TBF_QUEUE_MS"; else nsh_shape "d$i" "$R" "$TBF_QUEUE_MS"; fi
      done
      ts=$(python3 -c "
n, het, F, R = $SWARM_N, $SWARM_HET, $SWARM_F_MIB << 20, $R
up = sum(R / 4 if het and i % 2 == 0 else R for i in range(1, n + 1))
print(f'{max(F / R, n * F / (R + up)):.3f}')")
      # a round trip for every pair of members, from a fixed seed
      members=(seed); for ((i = 1; i <= SWARM_N; i++)); do members+=("d$i"); done
      log "delaying the $((${#members[@]} * (${#members[@]} - 1) / 2)) pairs of the swarm (RTT $SWARM_RTT_MIN..$SWARM_RTT_MAX ms, seed $SWARM_SEED)"
      python3 -c "
import random, sys
m = sys.argv[1:]; r = random.Random($SWARM_SEED)
for i in range(len(m)):
    for j in range(i + 1, len(m)): print(m[i], m[j], r.randint($SWARM_RTT_MIN, $SWARM_RTT_MAX))" "${members[@]}" >"$T/pairs.txt"
      while read -r a b ms; do nsh_delay "$a" "$b" "$ms" || die "nsh_delay $a $b $ms failed"; done <"$T/pairs.txt"
      for tool in $TOOLS; do
        for ((rep = 1; rep <= REPEATS; rep++)); do run swarm "$tool" "$SWARM_N" "$R" mixed "$rep" "$ts"; done
      done ;;
    *) die "unknown part '$part' (one, swarm)" ;;
  esac
done
ELAPSED=$((SECONDS - START))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

cp "$T/raw.tsv" "$RAW"
[ -f "$T/pairs.txt" ] && cp "$T/pairs.txt" "$OUT-latest-pairs.txt"
VERSIONS="p2p-share $GIT_REV"
[ "$GIT_DIRTY" != 0 ] && VERSIONS+=" (+$GIT_DIRTY uncommitted files in lib/ apps/)"
VERSIONS+=" RelWithDebInfo"
case " $TOOLS " in *" aria "*) VERSIONS+="; $(aria2c --version | head -1)" ;; esac
case " $TOOLS " in *" lt "*) VERSIONS+="; libtorrent $("$LT_PY" -c 'import libtorrent; print(libtorrent.__version__)') (python3-libtorrent)" ;; esac
printf '%s\n' "${CMDS[@]}" >"$T/cmds.txt"
python3 "$ROOT/bench/wan_report.py" "$RAW" "$OUT" \
  --host "$(nproc) cores, Linux $(uname -r); load average at start $LOAD_START, at end $LOAD_END" \
  --versions "$VERSIONS" --elapsed "$ELAPSED" --commands "$T/cmds.txt" --repeats "$REPEATS" \
  --swarm "N=$SWARM_N, $SWARM_F_MIB MiB, uploads $SWARM_R_MIB MiB/s$([ "$SWARM_HET" = 1 ] && echo ' (every second downloader at a quarter)'), RTT $SWARM_RTT_MIN..$SWARM_RTT_MAX ms per pair (seed $SWARM_SEED)" \
  --reproduce "sudo bash bench/wan_bench.sh  # PARTS=\"$PARTS\" TOOLS=\"$TOOLS\" REPEATS=$REPEATS F_MIB=$F_MIB CAPS=\"$CAPS\" RTTS=\"$RTTS\" SWARM_N=$SWARM_N SWARM_F_MIB=$SWARM_F_MIB SWARM_R_MIB=$SWARM_R_MIB SWARM_HET=$SWARM_HET SWARM_RTT_MIN=$SWARM_RTT_MIN SWARM_RTT_MAX=$SWARM_RTT_MAX SWARM_SEED=$SWARM_SEED RELAY_BUFFER_MIB=$RELAY_BUFFER_MIB TBF_QUEUE_MS=$TBF_QUEUE_MS"

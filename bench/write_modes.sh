#!/usr/bin/env bash
# How a download's verified pieces should reach the disk (not a timed test): builds a
# p2p-download with bench/experiments/write_modes.patch (PieceWriter strategies chosen by
# P2P_WRITE_MODE) from a copy of HEAD, then downloads the same file from one p2p-seed with
# each strategy, interleaved, after a `sync`:
#   concurrent  every hashing thread pwrites at once (the path before PieceWriter)
#   serial      one pwrite at a time, no write-behind
#   wb          one at a time + write-behind per 8 MiB region (PieceWriter, the default)
#   wbdrop      wb + POSIX_FADV_DONTNEED of each region once it is on disk
#   direct      O_DIRECT through an aligned bounce buffer, one at a time
# Reports medians of wall, user, sys, wall time inside PieceWriter::write, seeder CPU and the
# peak of the kernel's Dirty + Writeback memory during the run, in
# bench/results/write_modes-latest.md.
#
#   bash bench/write_modes.sh
#
# Env: BENCH_DIR (/tmp/p2p-bench), SIZES ("1g 8g"), ROUNDS (3), MODES (all five).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
source "$HERE/lib.sh"
BENCH_DIR=${BENCH_DIR:-/tmp/p2p-bench}
SIZES=${SIZES:-1g 8g}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-concurrent serial wb wbdrop direct}
W=$BENCH_DIR/write-modes
mkdir -p "$W"
declare -A BYTES=([100m]=$((100 << 20)) [1g]=$((1 << 30)) [4g]=$((4 << 30)) [8g]=$((8 << 30)))

log "building p2p-download with the write-mode switch from HEAD + bench/experiments/write_modes.patch"
rm -rf "$W/src" && mkdir -p "$W/src"
git -C "$ROOT" archive HEAD | tar -x -C "$W/src"
(cd "$W/src" && git apply "$HERE/experiments/write_modes.patch") || die "the patch no longer applies to lib/storage/piece_writer.cpp"
cmake -S "$W/src" -B "$W/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
nice cmake --build "$W/build" -j2 --target p2p-download p2p-seed p2p-create >/dev/null
BIN=$W/build/bin

trap stop_all EXIT
ROWS=$W/rows.tsv
: >"$ROWS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for k in $SIZES; do
  src=$W/src-$k.bin
  { openssl enc -aes-128-ctr -K "$(openssl rand -hex 16)" -iv 0 -nosalt </dev/zero 2>/dev/null || true; } | head -c "${BYTES[$k]}" >"$src"
  "$BIN/p2p-create" -q "$src" -o "$src.p2pmeta"
  bg_start "$W/seed.log" "$BIN/p2p-seed" --meta "$src.p2pmeta" --source "$src" --port 0 --host 127.0.0.1 --quiet
  seed=$BG_PID
  wait_until 120 "p2p-seed to listen" grep -q '^listening ' "$W/seed.log"
  port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$W/seed.log")
  sync
  for ((r = 0; r < ROUNDS; r++)); do
    for m in $MODES; do
      rm -rf "$W/dl"
      sync
      # Peak Dirty + Writeback (kB) while the download runs, sampled every 50 ms.
      echo 0 >"$W/dirty"
      (peak=0; while :; do
         v=$(awk '/^(Dirty|Writeback):/ {s += $2} END {print s}' /proc/meminfo)
         [ "$v" -gt "$peak" ] && peak=$v && echo "$peak" >"$W/dirty"
         sleep 0.05
       done) &
      sampler=$!
      c0=$(proc_cpu "$seed" | awk '{print $1 + $2}')
      P2P_WRITE_MODE=$m P2P_WRITE_STATS=1 /usr/bin/time -f '%e %U %S %M' -o "$W/time" \
        "$BIN/p2p-download" --meta "$src.p2pmeta" --peer "127.0.0.1:$port" --workdir "$W/dl" --quiet 2>"$W/stats" ||
        die "$m: download failed: $(cat "$W/stats")"
      c1=$(proc_cpu "$seed" | awk '{print $1 + $2}')
      kill "$sampler"; wait "$sampler" 2>/dev/null || true
      cmp -s "$W/dl/$(basename "$src")" "$src" || die "$m: downloaded file differs"
      read -r wall user sys rss <"$W/time"
      inwrite=$(sed -n 's/.*in write() \([0-9.]*\) s.*/\1/p' "$W/stats")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$m" "$wall" "$user" "$sys" "$rss" "${inwrite:-0}" \
        "$(calc "$c1 - $c0")" "$(cat "$W/dirty")" "$(cut -d' ' -f1 /proc/loadavg)" >>"$ROWS"
      log "$k $m: ${wall}s user ${user} sys ${sys}, in write() ${inwrite:-?}s, peak dirty+writeback $(($(cat "$W/dirty") / 1024)) MiB"
    done
  done
  stop_pid "$seed"
  rm -rf "$W/dl" "$src" "$src.p2pmeta"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$ROWS" "$HERE/results/write_modes-latest.md" "$LOAD_START" "$LOAD_END" "$ROUNDS" <<'PY'
import statistics, sys, collections, datetime
rows, out, load0, load1, rounds = sys.argv[1:]
d = collections.defaultdict(list)
order = []
for line in open(rows):
    f = line.rstrip("\n").split("\t")
    key = (f[0], f[1])
    if key not in d: order.append(key)
    d[key].append([float(x) for x in f[2:]])
med = lambda rs, i: statistics.median(r[i] for r in rs)
with open(out, "w") as o:
    o.write("# Write strategies for a download's pieces — latest run\n\n")
    o.write(f"Produced by `bash bench/write_modes.sh` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; load {load0} at start, "
            f"{load1} at end. Medians of {rounds} interleaved runs per strategy (one p2p-seed, one p2p-download, loopback, "
            "after `sync`); wall/user/sys/peak RSS of the downloader from /usr/bin/time; *in write()* is wall time spent in "
            "PieceWriter::write summed over the hashing threads; *peak dirty* is the largest Dirty + Writeback in "
            "/proc/meminfo sampled every 50 ms during the run (the whole machine).\n\n")
    o.write("| size | strategy | wall (s) | user (s) | sys (s) | in write() (s) | seeder CPU (s) | peak dirty + writeback (MiB) | peak RSS (MiB) | load |\n")
    o.write("|---|---|---|---|---|---|---|---|---|---|\n")
    for k, m in order:
        rs = d[(k, m)]
        o.write(f"| {k} | {m} | {med(rs,0):.2f} | {med(rs,1):.2f} | {med(rs,2):.2f} | {med(rs,4):.2f} | {med(rs,5):.2f} | "
                f"{med(rs,6)/1024:.0f} | {med(rs,3)/1024:.1f} | {min(r[7] for r in rs):.2f}–{max(r[7] for r in rs):.2f} |\n")
    o.write("\nEvery run: " + "; ".join(f"{k} {m}: " + ", ".join(f"{r[0]:.2f}" for r in d[(k, m)]) for k, m in order) + "\n")
PY
log "wrote $HERE/results/write_modes-latest.md"

#!/usr/bin/env bash
# A meta with two trackers that share one Redis; tracker A is killed mid-run.
# The download carries on through tracker B: it finds, through B alone, a seeder
# that appeared after A died, once the seeder it started with is gone too. A
# download by name that lists A first falls back to B.
source "$(dirname "$0")/lib.sh"
require_redis
start_redis

start trackerA "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --store "$REDIS_URL" --interval 5
TA=127.0.0.1:$PORT
TRACKER_A=$LAST_PID
start trackerB "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --store "$REDIS_URL" --interval 5
TB=127.0.0.1:$PORT

SIZE=$((8 * 1024 * 1024))
mkdir -p "$T/s1" "$T/s2"
random_file "$T/s1/f.bin" $SIZE
cp "$T/s1/f.bin" "$T/s2/f.bin"
"$BIN/p2p-create" -q --piece-size 65536 --tracker "$TA" --tracker "$TB" "$T/s1/f.bin"
M=$T/s1/f.bin.p2pmeta

# Seeder 1 is slow (1 MiB/s), so the download is still running when A dies.
start seed1 "$BIN/p2p-seed" --meta "$M" --source "$T/s1/f.bin" --host 127.0.0.1 --port 0 --publish \
  --max-upload-rate 1M --json
SEED1=$LAST_PID
# No --peer: the trackers of the meta are the only way to find anyone.
"$BIN/p2p-download" --meta "$M" --workdir "$T/dl" --listen-host 127.0.0.1 --json >"$T/dl.json" 2>"$T/dl.err" &
DL=$!
PIDS+=("$DL")
for i in $(seq 1 300); do
  v=$(grep '"event":"progress"' "$T/dl.json" 2>/dev/null | tail -n1 | sed -n 's/.*"verified_bytes":\([0-9]*\).*/\1/p' || true)
  [ "${v:-0}" -gt $((SIZE / 8)) ] && break
  sleep 0.1
done
[ "${v:-0}" -gt 0 ] || fail "the download never started: $(tail -n 3 "$T/dl.err")"

kill -9 "$TRACKER_A"
wait "$TRACKER_A" 2>/dev/null || true
pass "tracker A killed at ${v} of $SIZE bytes"
# A seeder that only B can introduce (A is gone), then the first seeder goes away.
# Capped too: seed2 dials the download as soon as B names it (both ends dial), and the
# download must still be running at its next announce to A (interval 5 s) to notice A is gone.
start seed2 "$BIN/p2p-seed" --meta "$M" --source "$T/s2/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 1M --json
SEED2_PORT=$PORT
kill -9 "$SEED1"
wait "$DL" || fail "download failed after tracker A died: $(tail -n 3 "$T/dl.err")"
cmp "$T/s1/f.bin" "$T/dl/f.bin" || fail "downloaded file differs"
grep -q "127.0.0.1:$SEED2_PORT" "$T/dl.json" || fail "the download never reached the seeder only B knew"
[ "$(grep -c "tracker $TA" "$T/dl.json")" -ge 1 ] || fail "the download did not notice that tracker A died"
pass "the download finished through tracker B from a seeder that appeared after A died"

"$BIN/p2p-download" --tracker "$TA" --tracker "$TB" --name f.bin --workdir "$T/dl2" --quiet 2>"$T/dl2.err" \
  || fail "download by name with A dead failed: $(tail -n 3 "$T/dl2.err")"
cmp "$T/s1/f.bin" "$T/dl2/f.bin" || fail "download by name: file differs"
pass "a download by name that lists the dead tracker first got the meta and peers from B"

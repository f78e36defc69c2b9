# One p2p-seed serves three files on one port while three downloads run at once.
# One source is deleted mid-way: that torrent stops with a clear message (and its
# download fails cleanly), the other two complete byte-identical.
source "$(dirname "$0")/lib.sh"
SIZE=$((6 * 1024 * 1024))
for n in a b c; do
  random_file "$T/$n.bin" $SIZE
  "$BIN/p2p-create" -q --piece-size 65536 "$T/$n.bin"
done
# 3 x 6 MiB at 6 MiB/s in all: about 3 s, time enough to delete c.bin mid-way.
start seed "$BIN/p2p-seed" --meta "$T/a.bin.p2pmeta" --meta "$T/b.bin.p2pmeta" --meta "$T/c.bin.p2pmeta" \
  --source "$T/a.bin" --source "$T/b.bin" --source "$T/c.bin" --workdir "$T/seedwd" \
  --host 127.0.0.1 --port 0 --max-upload-rate 6M --json
SEED_PID=$LAST_PID
SEED=$PORT
DL_PIDS=()
for n in a b c; do
  "$BIN/p2p-download" --meta "$T/$n.bin.p2pmeta" --peer 127.0.0.1:$SEED --workdir "$T/dl-$n" --no-listen --json \
    >"$T/dl-$n.log" 2>&1 &
  DL_PIDS+=($!)
  PIDS+=($!)
done
sleep 0.8
rm "$T/c.bin"
rc=()
for p in "${DL_PIDS[@]}"; do
  set +e
  wait "$p"
  rc+=($?)
  set -e
done
[ "${rc[0]}" -eq 0 ] || fail "download a exited ${rc[0]}"
[ "${rc[1]}" -eq 0 ] || fail "download b exited ${rc[1]}"
cmp "$T/a.bin" "$T/dl-a/a.bin" || fail "a.bin differs"
cmp "$T/b.bin" "$T/dl-b/b.bin" || fail "b.bin differs"
# c: the seeder stopped serving it; the downloader gives up cleanly (no peer can
# supply the rest) and keeps what it verified, never a file under the final name.
[ "${rc[2]}" -eq 7 ] || fail "download c exited ${rc[2]}, expected 7 (peers failed)"
[ ! -e "$T/dl-c/c.bin" ] || fail "an incomplete c.bin was presented as complete"
grep -q '"event":"torrent_stopped".*c.bin is gone\|"event":"torrent_stopped".*c.bin was deleted' "$T/seed.log" ||
  fail "seeder did not say why it stopped serving c.bin"
kill -0 $SEED_PID || fail "seeder exited when one of its files failed"
# The seeder still serves a and b after c failed.
"$BIN/p2p-download" --meta "$T/a.bin.p2pmeta" --peer 127.0.0.1:$SEED --workdir "$T/dl-a2" --no-listen -q ||
  fail "seeder stopped serving a.bin after c.bin failed"
cmp "$T/a.bin" "$T/dl-a2/a.bin" || fail "second a.bin differs"
# Every download used the one port.
[ "$(grep -c '^listening\|"event":"listening"' "$T/seed.log")" -eq 1 ] || fail "seeder listened more than once"
stop $SEED_PID
pass "3 files on one port; c.bin deleted mid-way stopped only c; a and b identical"

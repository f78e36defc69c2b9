#!/usr/bin/env bash
# p2p-seed --watch DIR (no --http): a .p2pmeta written slowly into DIR is taken
# only once it stops changing, downloaded, and moved to DIR/.added/; garbage and a
# second copy of a meta already queued go to DIR/.failed/ with the reason in a
# .txt beside them; names taken in .added/ get -1. Bytes compared with cmp.
source "$(dirname "$0")/lib.sh"

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 2
TR=127.0.0.1:$PORT
mkdir -p "$T/src" "$T/metas" "$T/watch"
random_file "$T/src/one.bin" 700000
random_file "$T/src/two.bin" 400000
for f in one.bin two.bin; do "$BIN/p2p-create" -q -o "$T/metas/$f.p2pmeta" "$T/src/$f"; done
start src "$BIN/p2p-seed" --meta "$T/metas/one.bin.p2pmeta" --meta "$T/metas/two.bin.p2pmeta" --workdir "$T/src" \
  --port 0 --host 127.0.0.1 --tracker "$TR" --publish
start node "$BIN/p2p-seed" --port 0 --host 127.0.0.1 --workdir "$T/node" --tracker "$TR" --watch "$T/watch"
NODE_PID=$LAST_PID

# Written slowly, a part every 0.3 s over ~3 s: part of a meta is not JSON, so taking
# it before it stops changing would fail it.
python3 - "$T/metas/one.bin.p2pmeta" "$T/watch/one.p2pmeta" <<'PY'
import sys, time
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as out:
    for i in range(10):
        out.write(data[i * len(data) // 10:(i + 1) * len(data) // 10])
        out.flush()
        time.sleep(0.3)
PY
wait_for 20 "one.p2pmeta in .added" test -f "$T/watch/.added/one.p2pmeta"
[ ! -e "$T/watch/.failed/one.p2pmeta" ] || fail "one.p2pmeta failed: $(cat "$T/watch/.failed/one.p2pmeta.txt")"
wait_for 30 "one.bin downloaded" test -f "$T/node/one.bin"
cmp "$T/src/one.bin" "$T/node/one.bin" || fail "one.bin differs"
pass "a meta written slowly is taken once stable, downloaded (bytes equal), moved to .added/"

echo 'this is not a meta' >"$T/watch/junk.p2pmeta"
cp "$T/metas/one.bin.p2pmeta" "$T/watch/again.p2pmeta"
cp "$T/metas/two.bin.p2pmeta" "$T/watch/one.p2pmeta"  # a name already in .added/
echo 'ignored' >"$T/watch/notes.txt"
wait_for 20 "junk in .failed" test -f "$T/watch/.failed/junk.p2pmeta.txt"
grep -q "junk.p2pmeta" "$T/watch/.failed/junk.p2pmeta.txt" || fail "no reason for junk: $(cat "$T/watch/.failed/junk.p2pmeta.txt")"
wait_for 20 "again in .failed" test -f "$T/watch/.failed/again.p2pmeta.txt"
grep -q "already" "$T/watch/.failed/again.p2pmeta.txt" || fail "no reason for the duplicate: $(cat "$T/watch/.failed/again.p2pmeta.txt")"
wait_for 20 "the second one.p2pmeta in .added as one-1.p2pmeta" test -f "$T/watch/.added/one-1.p2pmeta"
cmp "$T/metas/two.bin.p2pmeta" "$T/watch/.added/one-1.p2pmeta" || fail "the wrong file went to .added/one-1.p2pmeta"
wait_for 30 "two.bin downloaded" test -f "$T/node/two.bin"
cmp "$T/src/two.bin" "$T/node/two.bin" || fail "two.bin differs"
[ -f "$T/watch/notes.txt" ] || fail "a file that is not a meta was touched"
pass "garbage and a duplicate go to .failed/ with their reason; a taken name gets -1; other files are left alone"
stop "$NODE_PID"

# Several downloads in one p2p-download: --meta (and --id) repeatable, one session
# on one port, the run ends when every one is done. One that fails (a bad meta,
# no seeder) does not stop the others; each failure is named on its own line and
# the exit code is that of the first failure in the order given.
source "$(dirname "$0")/lib.sh"
mkdir -p "$T/src/album/sub"
random_file "$T/src/one.bin" 3000000
random_file "$T/src/two.bin" 1234567
random_file "$T/src/album/a.jpg" 400000
random_file "$T/src/album/sub/b.txt" 7000
random_file "$T/src/lonely.bin" 100000
for f in one.bin two.bin album lonely.bin; do "$BIN/p2p-create" -q --piece-size 65536 "$T/src/$f" || fail "p2p-create $f"; done
start seed "$BIN/p2p-seed" --meta "$T/src/one.bin.p2pmeta" --meta "$T/src/two.bin.p2pmeta" --meta "$T/src/album.p2pmeta" \
  --source "$T/src/one.bin" --source "$T/src/two.bin" --source "$T/src/album" --host 127.0.0.1 --port 0 --workdir "$T/seedwd"
SEED=$PORT

"$BIN/p2p-download" --meta "$T/src/one.bin.p2pmeta" --meta "$T/src/two.bin.p2pmeta" --meta "$T/src/album.p2pmeta" \
  --peer 127.0.0.1:$SEED --workdir "$T/dl" --json >"$T/many.json" 2>"$T/many.log" || fail "three downloads failed: $(tail -3 "$T/many.log")"
cmp "$T/src/one.bin" "$T/dl/one.bin" || fail "one.bin differs"
cmp "$T/src/two.bin" "$T/dl/two.bin" || fail "two.bin differs"
diff -r "$T/src/album" "$T/dl/album" || fail "album differs"
[ "$(grep -c '"event":"listening"' "$T/many.json")" -eq 1 ] || fail "not one listening port: $(grep listening "$T/many.json")"
[ "$(grep -c '"event":"complete"' "$T/many.json")" -eq 3 ] || fail "not three complete events"
pass "three --meta in one run, one port: every byte right"

# The same file twice is fetched once; a rerun finds all three complete.
"$BIN/p2p-download" --meta "$T/src/one.bin.p2pmeta" --meta "$T/src/one.bin.p2pmeta" --meta "$T/src/two.bin.p2pmeta" \
  --peer 127.0.0.1:$SEED --workdir "$T/dl" >"$T/again.out" 2>"$T/again.log" || fail "rerun failed: $(tail -3 "$T/again.log")"
[ "$(grep -c "already complete" "$T/again.log")" -eq 2 ] || fail "rerun did not find both complete: $(cat "$T/again.log")"
grep -q "the same download as" "$T/again.log" || fail "a file given twice was not said to be fetched once"
pass "a rerun finds them complete; a file given twice is fetched once"

# Failures: a meta with no seeder (exit 7) and a broken meta (exit 4), between two good ones.
echo '{"not": "a meta"}' >"$T/bad.p2pmeta"
rm -rf "$T/dl2"
expect_exit 7 "$BIN/p2p-download" --meta "$T/src/two.bin.p2pmeta" --meta "$T/src/lonely.bin.p2pmeta" --meta "$T/bad.p2pmeta" \
  --meta "$T/src/album.p2pmeta" --peer 127.0.0.1:$SEED --workdir "$T/dl2" --give-up-after 2
cmp "$T/src/two.bin" "$T/dl2/two.bin" || fail "two.bin (beside failures) differs"
diff -r "$T/src/album" "$T/dl2/album" || fail "album (beside failures) differs"
[ ! -e "$T/dl2/lonely.bin" ] || fail "a file with no seeder is presented as complete"
grep -q "error: .*$T/src/lonely.bin.p2pmeta" "$T/last.err" || fail "the failure with no seeder is not named: $(cat "$T/last.err")"
grep -q "error: .*$T/bad.p2pmeta" "$T/last.err" || fail "the bad meta is not named: $(cat "$T/last.err")"
[ "$(grep -c "error:" "$T/last.err")" -eq 2 ] || fail "not exactly two failures reported: $(cat "$T/last.err")"
pass "a failure does not stop the others; each named; exit 7 (the first, in order given)"

# The order given decides the exit code: the bad meta first gives 4.
expect_exit 4 "$BIN/p2p-download" --meta "$T/bad.p2pmeta" --meta "$T/src/lonely.bin.p2pmeta" --meta "$T/src/two.bin.p2pmeta" \
  --peer 127.0.0.1:$SEED --workdir "$T/dl2" --give-up-after 2 --json
grep -q '"event":"error","exit_code":4,"message":"[^"]*bad.p2pmeta' "$T/last.out" || fail "no JSON error event for the bad meta"
grep -q '"event":"error","exit_code":7,"message":"[^"]*lonely.bin.p2pmeta' "$T/last.out" || fail "no JSON error event for the file with no seeder"
pass "the exit code is the first failure's, in the order given (4)"

# --only goes with one download only.
expect_exit 2 "$BIN/p2p-download" --meta "$T/src/album.p2pmeta" --meta "$T/src/one.bin.p2pmeta" --only 'sub/*' \
  --peer 127.0.0.1:$SEED --workdir "$T/dl3"
grep -q "one folder" "$T/last.err" || fail "unclear --only refusal with several downloads"

# --id is repeatable too (with a tracker), and mixes with --meta.
start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 2
TR=127.0.0.1:$PORT
id_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["info_hash"])' "$1"; }
start seed2 "$BIN/p2p-seed" --meta "$T/src/one.bin.p2pmeta" --meta "$T/src/two.bin.p2pmeta" --meta "$T/src/lonely.bin.p2pmeta" \
  --source "$T/src/one.bin" --source "$T/src/two.bin" --source "$T/src/lonely.bin" --host 127.0.0.1 --port 0 \
  --workdir "$T/seedwd2" --tracker "$TR" --publish
"$BIN/p2p-download" --tracker "$TR" --id "$(id_of "$T/src/one.bin.p2pmeta")" --meta "$T/src/lonely.bin.p2pmeta" \
  --id "$(id_of "$T/src/two.bin.p2pmeta")" --workdir "$T/dl4" --quiet || fail "--id twice with --meta failed"
cmp "$T/src/one.bin" "$T/dl4/one.bin" && cmp "$T/src/two.bin" "$T/dl4/two.bin" && cmp "$T/src/lonely.bin" "$T/dl4/lonely.bin" ||
  fail "a file fetched by --id differs"
pass "--id repeatable, mixed with --meta, through the tracker"

# A folder end to end: p2p-create DIR (links skipped with a warning), p2p-seed from the
# folder in place, p2p-download rebuilds it (diff -r, exec bits, empty files and
# folders), file_complete events, a rerun finds it complete, a second downloader
# fetches it from the first one's finished tree, and what is in the way is refused.
source "$(dirname "$0")/lib.sh"
S=$T/src/tree
mkdir -p "$S/photos/2024/june" "$S/bin" "$S/empty/deeper" "$S/docs"
random_file "$S/photos/2024/june/a.jpg" 300000
random_file "$S/photos/2024/b.jpg" 65536
random_file "$S/docs/readme.txt" 1000
random_file "$S/big.bin" 3000000
for i in $(seq 1 40); do random_file "$S/docs/n$i.txt" $((i * 97)); done
: >"$S/docs/empty.txt"
printf '#!/bin/sh\necho hi\n' >"$S/bin/run.sh"
chmod 755 "$S/bin/run.sh"
ln -s /etc/passwd "$S/docs/link"
mkfifo "$S/docs/fifo"

"$BIN/p2p-create" --piece-size 65536 "$S" >"$T/create.out" 2>"$T/create.err" || fail "p2p-create DIR failed"
[ -f "$S.p2pmeta" ] || fail "no $S.p2pmeta"
grep -q "skipping symbolic link .*docs/link" "$T/create.err" || fail "no warning naming the skipped link: $(cat "$T/create.err")"
grep -q "skipping .*docs/fifo" "$T/create.err" || fail "no warning naming the skipped fifo"
grep -q "46 files, 1 empty folders" "$T/create.out" || fail "unexpected summary: $(cat "$T/create.out")"
python3 - "$S.p2pmeta" <<'PY' || fail "meta is not format 3 as documented"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["version"] == 3, m["version"]
paths = [f["path"] for f in m["files"]]
assert paths == sorted(paths, key=lambda p: p.encode()), paths
assert "docs/link" not in paths and "docs/fifo" not in paths
assert m["dirs"] == ["empty/deeper"], m["dirs"]
assert [f for f in m["files"] if f["path"] == "bin/run.sh"][0]["exec"] is True
PY
expect_exit 2 "$BIN/p2p-create" --sha256 -o "$T/x.p2pmeta" "$S"
grep -q "sha256" "$T/last.err" || fail "--sha256 with a folder: unclear refusal"

start seed "$BIN/p2p-seed" --meta "$S.p2pmeta" --source "$S" --host 127.0.0.1 --port 0 --workdir "$T/seedwd"
SEED_PORT=$PORT
"$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:$SEED_PORT --workdir "$T/dl" --json >"$T/dl.json" 2>"$T/dl.log" ||
  fail "tree download failed: $(tail -3 "$T/dl.log")"
D=$T/dl/tree
[ -d "$D" ] || fail "no $D"
[ ! -e "$T/dl/tree.partial" ] || fail "tree.partial left behind"
ls "$T/dl/.p2p" | grep -q '\.files$' && fail "the per-file data folder was left in .p2p"
diff -r -x link -x fifo "$S" "$D" || fail "downloaded tree differs"
[ -x "$D/bin/run.sh" ] || fail "exec bit lost"
[ ! -x "$D/docs/readme.txt" ] || fail "exec bit invented"
[ -f "$D/docs/empty.txt" ] && [ ! -s "$D/docs/empty.txt" ] || fail "empty file missing"
[ -d "$D/empty/deeper" ] || fail "empty folder missing"
[ ! -e "$D/docs/link" ] || fail "a skipped link appeared"
n=$(grep -c '"event":"file_complete"' "$T/dl.json" || true)
[ "$n" -eq 45 ] || fail "expected 45 file_complete events (46 files, one empty), got $n"
grep -q '"event":"file_complete","path":"bin/run.sh","size":18' "$T/dl.json" ||
  grep -q '"path":"bin/run.sh".*"size":18' "$T/dl.json" || fail "file_complete lacks path and size"
grep '"event":"progress"' "$T/dl.json" | tail -1 | grep -q '"files_total":46' || true
pass "tree downloaded: identical, exec bits, empty file and folder, events"

# A rerun finds it complete and verified; nothing is fetched.
"$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:$SEED_PORT --workdir "$T/dl" >"$T/again.out" 2>"$T/again.log" ||
  fail "rerun failed"
grep -q "already complete" "$T/again.log" || fail "rerun did not recognise the finished tree"

# A second downloader fetches from the first one's finished tree (p2p-seed, default source WORKDIR/<name>).
start seed2 "$BIN/p2p-seed" --meta "$S.p2pmeta" --host 127.0.0.1 --port 0 --workdir "$T/dl"
"$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl2" --quiet || fail "download from a downloaded tree failed"
diff -r -x link -x fifo "$S" "$T/dl2/tree" || fail "second-hand tree differs"
pass "seeded from a downloaded tree"

# In the way: a file named like the tree, a folder of the user's with other content.
mkdir -p "$T/w1" "$T/w2/tree" "$T/w3/tree.partial"
echo mine >"$T/w1/tree"
echo mine >"$T/w2/tree/x"
for w in w1 w2; do
  expect_exit 11 "$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:$SEED_PORT --workdir "$T/$w" --quiet
done
grep -q "not the folder this meta describes" "$T/last.err" || fail "a folder of the user's: unclear message: $(cat "$T/last.err")"
[ "$(cat "$T/w1/tree")" = mine ] && [ "$(cat "$T/w2/tree/x")" = mine ] && [ "$(ls "$T/w2/tree")" = x ] ||
  fail "something of the user's was touched"
# A folder of the user's named <name>.partial (no state of ours) is no longer in the way, and left alone.
echo mine >"$T/w3/tree.partial/x"
"$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:$SEED_PORT --workdir "$T/w3" --quiet || fail "download beside tree.partial failed"
diff -r -x link -x fifo "$S" "$T/w3/tree" || fail "tree beside tree.partial differs"
[ "$(ls "$T/w3/tree.partial")" = x ] && [ "$(cat "$T/w3/tree.partial/x")" = mine ] || fail "the user's tree.partial was touched"
pass "a tree never replaces what is in its way"

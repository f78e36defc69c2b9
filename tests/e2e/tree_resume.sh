# kill -9 in the middle of a tree's download (with --only), then the same command:
# every file that had reached its final path WORKDIR/<name>/<path> is whole and
# right (nothing at a final path is ever partly written), no file outside the
# selection appears, verified pieces are not fetched again, and a later run
# without --only completes the tree, identical to the source.
source "$(dirname "$0")/lib.sh"
S=$T/src/tree
mkdir -p "$S/a" "$S/b/c"
for i in $(seq 1 24); do random_file "$S/a/f$i.bin" $((700000 + i * 1000)); done
for i in $(seq 1 8); do random_file "$S/b/c/g$i.bin" $((300000 + i)); done
: >"$S/b/empty"
mkdir -p "$S/hollow"
"$BIN/p2p-create" -q --piece-size 65536 "$S" || fail "p2p-create"
read -r total selected IH < <(python3 -c '
import json,sys
m = json.load(open(sys.argv[1]))
print(m["size"], sum(f["size"] for f in m["files"] if f["path"].startswith("a/")), m["info_hash"])' "$S.p2pmeta")
# A slow seeder, so that the kill lands mid-way.
start seed "$BIN/p2p-seed" --meta "$S.p2pmeta" --source "$S" --host 127.0.0.1 --port 0 --workdir "$T/seedwd" \
  --max-upload-rate 6M
DL=(--meta "$S.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl" --json)
D=$T/dl/tree
"$BIN/p2p-download" "${DL[@]}" --only 'a/*' >"$T/first.json" 2>"$T/first.log" &
dl_pid=$!
PIDS+=("$dl_pid")
for i in $(seq 1 600); do
  [ "$(grep -c '"event":"file_complete"' "$T/first.json" || true)" -ge 6 ] && break
  sleep 0.02
done
kill -9 $dl_pid 2>/dev/null || true
wait $dl_pid 2>/dev/null || true
grep -q '"event":"selection_complete"' "$T/first.json" && { echo "first run finished before the kill; inconclusive" >&2; exit 1; }
[ -d "$D" ] || fail "no $D after kill -9"
[ -f "$T/dl/.p2p/$IH.state.json" ] || fail "no state file after kill -9: the unfinished tree looks finished"
# Whatever is at a final path must be complete and right.
n=0
while IFS= read -r -d '' f; do
  rel=${f#"$D/"}
  case $rel in a/*) ;; *) fail "$rel is outside the selection but at its final path" ;; esac
  cmp "$S/$rel" "$f" || fail "$rel is at its final path but differs from the source"
  n=$((n + 1))
done < <(find "$D" -type f ! -empty -print0)  # (empty files are made at once)
echo "after kill -9: $n files at their final path, all intact"
[ "$n" -ge 6 ] || fail "expected at least 6 finished files before the kill"
[ "$n" -lt 24 ] || fail "every selected file was there before the kill; inconclusive"

"$BIN/p2p-download" "${DL[@]}" --only 'a/*' >"$T/second.json" 2>"$T/second.log" || fail "resume failed: $(tail -3 "$T/second.log")"
diff -r "$S/a" "$D/a" || fail "resumed selection differs"
[ ! -e "$D/b/c" ] || fail "files outside the selection appeared"
line=$(grep '"event":"selection_complete"' "$T/second.json")
fetched=$(echo "$line" | sed -n 's/.*"downloaded_bytes":\([0-9]*\).*/\1/p')
resumed=$(echo "$line" | sed -n 's/.*"resumed_bytes":\([0-9]*\).*/\1/p')
echo "second run fetched $fetched, resumed $resumed of the $selected selected"
[ "$resumed" -gt 0 ] || fail "nothing resumed"
[ "$fetched" -lt "$selected" ] || fail "the whole selection was fetched again ($fetched of $selected)"
pass "an --only download resumes in place after kill -9; every file at a final path was whole"

"$BIN/p2p-download" "${DL[@]}" >"$T/third.json" 2>"$T/third.log" || fail "full run failed: $(tail -3 "$T/third.log")"
diff -r "$S" "$D" || fail "finished tree differs"
[ -d "$D/hollow" ] && [ -f "$D/b/empty" ] || fail "empty folder or file missing"
[ ! -f "$T/dl/.p2p/$IH.state.json" ] || fail "the finished tree still has its state file"
fetched3=$(grep '"event":"complete"' "$T/third.json" | sed -n 's/.*"downloaded_bytes":\([0-9]*\).*/\1/p')
[ "$fetched3" -eq $((total - selected)) ] || fail "the full run fetched $fetched3 bytes; the files outside a/ hold $((total - selected))"
pass "a full run completed the tree ($fetched3 bytes: exactly the files not there)"

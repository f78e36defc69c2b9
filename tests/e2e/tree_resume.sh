# kill -9 in the middle of a tree's download, then the same command: every file
# that had reached its final path inside WORKDIR/<name>.partial/ is intact, verified
# pieces are not fetched again, and the finished tree is identical.
source "$(dirname "$0")/lib.sh"
S=$T/src/tree
mkdir -p "$S/a" "$S/b/c"
for i in $(seq 1 24); do random_file "$S/a/f$i.bin" $((700000 + i * 1000)); done
for i in $(seq 1 8); do random_file "$S/b/c/g$i.bin" $((300000 + i)); done
: >"$S/b/empty"
mkdir -p "$S/hollow"
"$BIN/p2p-create" -q --piece-size 65536 "$S" || fail "p2p-create"
total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["size"])' "$S.p2pmeta")
# A slow seeder, so that the kill lands mid-way.
start seed "$BIN/p2p-seed" --meta "$S.p2pmeta" --source "$S" --host 127.0.0.1 --port 0 --workdir "$T/seedwd" \
  --max-upload-rate 6M
DL=(--meta "$S.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl" --json)
"$BIN/p2p-download" "${DL[@]}" >"$T/first.json" 2>"$T/first.log" &
dl_pid=$!
PIDS+=("$dl_pid")
for i in $(seq 1 600); do
  [ "$(grep -c '"event":"file_complete"' "$T/first.json" || true)" -ge 6 ] && break
  sleep 0.02
done
kill -9 $dl_pid 2>/dev/null || true
wait $dl_pid 2>/dev/null || true
[ -d "$T/dl/tree" ] && { echo "first run finished before the kill; inconclusive" >&2; exit 1; }
[ -d "$T/dl/tree.partial" ] || fail "no tree.partial after kill -9"
# Whatever is at a final path must be complete and right.
n=0
while IFS= read -r -d '' f; do
  rel=${f#"$T/dl/tree.partial/"}
  cmp "$S/$rel" "$f" || fail "$rel is at its final path but differs from the source"
  n=$((n + 1))
done < <(find "$T/dl/tree.partial" -type f -print0)
echo "after kill -9: $n files at their final path, all intact"
[ "$n" -ge 6 ] || fail "expected at least 6 finished files before the kill"

"$BIN/p2p-download" "${DL[@]}" >"$T/second.json" 2>"$T/second.log" || fail "resume failed: $(tail -3 "$T/second.log")"
diff -r "$S" "$T/dl/tree" || fail "resumed tree differs"
[ -d "$T/dl/tree/hollow" ] && [ -f "$T/dl/tree/b/empty" ] || fail "empty folder or file missing"
line=$(grep '"event":"complete"' "$T/second.json")
fetched=$(echo "$line" | sed -n 's/.*"downloaded_bytes":\([0-9]*\).*/\1/p')
resumed=$(echo "$line" | sed -n 's/.*"resumed_bytes":\([0-9]*\).*/\1/p')
echo "second run fetched $fetched, resumed $resumed of $total"
[ "$resumed" -gt 0 ] || fail "nothing resumed"
[ $((fetched + resumed)) -le "$total" ] || fail "verified pieces were fetched again ($fetched + $resumed > $total)"
pass "tree resume after kill -9"

# A private download killed with -9 mid-way resumes over TLS and completes byte-identical,
# fetching less than the whole file the second time.
source "$(dirname "$0")/lib.sh"
SIZE=$((48 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --private --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 16M
DL=(--meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/dl" --no-listen --json)
P=$(partial_of "$M" "$T/dl")

"$BIN/p2p-download" "${DL[@]}" >"$T/first.json" 2>"$T/first.log" &
dl_pid=$!
PIDS+=("$dl_pid")
for i in $(seq 1 3000); do
  [ -f "$T/dl/f.bin" ] && break
  [ -f "$P" ] && [ "$("$BIN/count_valid_pieces" "$M" "$P" 2>/dev/null || echo 0)" -gt 64 ] && break
  sleep 0.01
done
kill -9 $dl_pid 2>/dev/null || true
wait $dl_pid 2>/dev/null || true
[ -f "$T/dl/f.bin" ] && { echo "first run finished before the kill; test inconclusive" >&2; exit 1; }
[ -f "$P" ] || fail "no .partial after kill -9"

"$BIN/p2p-download" "${DL[@]}" >"$T/second.json" 2>"$T/second.log" || fail "private resume failed"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "resumed file differs"
done_line=$(grep '"event":"complete"' "$T/second.json" || true)
fetched=$(echo "$done_line" | sed -n 's/.*"downloaded_bytes":\([0-9]*\).*/\1/p')
resumed=$(echo "$done_line" | sed -n 's/.*"resumed_bytes":\([0-9]*\).*/\1/p')
[ -n "$fetched" ] || fail "no complete event"
[ "$resumed" -gt 0 ] || fail "nothing was resumed"
[ "$fetched" -lt "$SIZE" ] || fail "second run fetched $fetched bytes: not fewer than the file ($SIZE)"
pass "private resume after kill -9: fetched $fetched, resumed $resumed of $SIZE"

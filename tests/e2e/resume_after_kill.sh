# kill -9 a download mid-way; the rerun resumes and fetches fewer bytes than the whole file.
source "$(dirname "$0")/lib.sh"
SIZE=$((64 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
# A capped seeder (64 MiB take 4 s), so that the kill lands mid-way: uncapped, an idle machine
# moves the whole file over loopback before the loop below sees 64 verified pieces.
start seed "$BIN/p2p-seed" --meta "$T/f.bin.p2pmeta" --source "$T/f.bin" --host 127.0.0.1 --port 0 \
  --max-upload-rate 16M
DL=(--meta "$T/f.bin.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl" --parallel 2 --json)
P=$(partial_of "$T/f.bin.p2pmeta" "$T/dl")

# Kill as soon as some pieces are verified.
"$BIN/p2p-download" "${DL[@]}" >"$T/first.json" 2>"$T/first.log" &
dl_pid=$!
PIDS+=("$dl_pid")
# The .partial is preallocated, so its size says nothing: count the pieces that verify.
for i in $(seq 1 1000); do
  [ -f "$T/dl/f.bin" ] && break
  [ -f "$P" ] && [ "$("$BIN/count_valid_pieces" "$T/f.bin.p2pmeta" "$P" 2>/dev/null || echo 0)" -gt 64 ] && break
  sleep 0.01
done
kill -9 $dl_pid 2>/dev/null || true
wait $dl_pid 2>/dev/null || true
[ -f "$T/dl/f.bin" ] && { echo "first run finished before the kill; test inconclusive" >&2; exit 1; }
[ -f "$P" ] || fail "no .partial after kill -9"

"$BIN/p2p-download" "${DL[@]}" >"$T/second.json" 2>"$T/second.log" || fail "resume failed"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "resumed file differs"
done_line=$(grep '"event":"complete"' "$T/second.json" || true)
fetched=$(echo "$done_line" | sed -n 's/.*"downloaded_bytes":\([0-9]*\).*/\1/p')
resumed=$(echo "$done_line" | sed -n 's/.*"resumed_bytes":\([0-9]*\).*/\1/p')
[ -n "$fetched" ] || fail "no complete event"
echo "second run fetched $fetched bytes, resumed $resumed of $SIZE"
[ "$resumed" -gt 0 ] || fail "nothing was resumed"
[ "$fetched" -lt "$SIZE" ] || fail "second run fetched $fetched bytes: not fewer than the file ($SIZE)"
pass "resume after kill -9"

# Disk full and read-only workdir: a clear error and exit 8, the verified pieces
# stay usable, and the download resumes once space is back. Needs root (tmpfs).
source "$(dirname "$0")/lib.sh"
SMALL="$T/small"
mkdir -p "$SMALL"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=6m tmpfs "$SMALL" 2>/dev/null; then
  echo "skipped: needs root to mount a small tmpfs"
  exit 77
fi
on_cleanup() { umount "$SMALL" 2>/dev/null; }

SIZE=$((16 * 1024 * 1024))
mkdir -p "$T/src"
random_file "$T/src/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/src/f.bin"
M="$T/src/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/src/f.bin" --host 127.0.0.1 --port 0 --workdir "$T/seedwork" \
  --max-upload-rate 4M
DL=(--meta "$M" --peer 127.0.0.1:$PORT --workdir "$SMALL/dl" --no-listen)
P=$(partial_of "$M" "$SMALL/dl")

# 16 MiB do not fit in 6 MiB: the space is reserved up front, so this fails at once, clearly.
expect_exit 8 "$BIN/p2p-download" "${DL[@]}" --quiet
grep -q "No space left on device" "$T/last.err" || fail "disk full: unclear message: $(cat "$T/last.err")"
grep -q "$P" "$T/last.err" || fail "disk full: the message does not name the file"
[ ! -e "$SMALL/dl/f.bin" ] || fail "an incomplete file was presented as complete"
pass "disk full: exit 8 ($(tail -n1 "$T/last.err"))"

# Space comes back; the download runs, and is killed part-way.
mount -o remount,size=40m "$SMALL"
"$BIN/p2p-download" "${DL[@]}" --quiet &
pid=$!
PIDS+=("$pid")
for i in $(seq 1 100); do
  [ "$("$BIN/count_valid_pieces" "$M" "$P" 2>/dev/null || echo 0)" -gt 40 ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
valid=$("$BIN/count_valid_pieces" "$M" "$P")
[ "$valid" -gt 0 ] && [ "$valid" -lt 256 ] || fail "kill landed at $valid of 256 pieces; test inconclusive"

# Read-only workdir: refused clearly, nothing touched.
mount -o remount,ro "$SMALL"
expect_exit 8 "$BIN/p2p-download" "${DL[@]}" --quiet
grep -qi "read-only\|not writable" "$T/last.err" || fail "read-only: unclear message: $(cat "$T/last.err")"
pass "read-only workdir: exit 8 ($(tail -n1 "$T/last.err"))"

# Writable again: resumes exactly the verified pieces and completes.
mount -o remount,rw "$SMALL"
"$BIN/p2p-download" "${DL[@]}" --json >"$T/resume.json" 2>"$T/resume.err" || fail "resume failed: $(cat "$T/resume.err")"
cmp "$T/src/f.bin" "$SMALL/dl/f.bin" || fail "file differs after the resume"
got=$(sed -n 's/.*"event":"resumed","text":"\([0-9]*\) of .*/\1/p' "$T/resume.json" | head -n1)
[ "${got:-0}" -eq "$valid" ] || fail "resumed ${got:-0} pieces, $valid were verified before the kill"
pass "resumed $got pieces once writable again; file identical"

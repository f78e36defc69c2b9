# --max-upload-rate and --max-download-rate: a transfer is never faster than the
# cap (+10 %). The lower side is a benchmark figure, not asserted (tests never fail on slowness).
source "$(dirname "$0")/lib.sh"
SIZE=$((6 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
check() {  # check LABEL LIMIT_BYTES START_NS END_NS
  local secs rate
  secs=$(awk "BEGIN{print ($4-$3)/1e9}")
  rate=$(awk "BEGIN{printf \"%d\", $SIZE/$secs}")
  echo "$1: $SIZE bytes in $secs s = $rate B/s (cap $2)"
  # The first 100 ms of burst is allowed on top of the cap.
  awk "BEGIN{exit !($SIZE <= 1.10 * $2 * $secs + $2 / 10)}" || fail "$1: $rate B/s exceeds the cap of $2 by more than 10 %"
}
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 2M
t0=$(date +%s%N)
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/up" --quiet --no-listen || fail "download failed"
t1=$(date +%s%N)
cmp "$T/f.bin" "$T/up/f.bin" || fail "file differs"
check "upload cap" $((2 * 1024 * 1024)) $t0 $t1
start seed2 "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0
t0=$(date +%s%N)
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/down" --quiet --no-listen --max-download-rate 3M \
  || fail "download failed"
t1=$(date +%s%N)
cmp "$T/f.bin" "$T/down/f.bin" || fail "file differs"
check "download cap" $((3 * 1024 * 1024)) $t0 $t1
expect_exit 2 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --max-download-rate 12Q
pass "rate caps respected"

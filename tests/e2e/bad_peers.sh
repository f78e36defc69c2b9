# Lying, hanging-up, stalling and wrong-file peers: the download completes from an
# honest seeder, or fails with a clear error and exit code; never a corrupt file.
source "$(dirname "$0")/lib.sh"
random_file "$T/f.bin" $((2 * 1024 * 1024 + 5))
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
# The honest seeder is capped so that the bad peers surely serve blocks before it could finish alone.
start honest "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 512k
HONEST=$PORT

for mode in corrupt hangup stall; do
  start bad_$mode "$BIN/bad_peer" --meta "$M" --source "$T/f.bin" --port 0 --mode $mode
  "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --peer 127.0.0.1:$HONEST --workdir "$T/dl_$mode" \
    --parallel 2 >"$T/dl_$mode.log" 2>&1 || fail "$mode: download with an honest seeder present failed"
  cmp "$T/f.bin" "$T/dl_$mode/f.bin" || fail "$mode: file differs"
  pass "$mode peer + honest seeder: correct file"
done
grep -q "failed its hash check" "$T/dl_corrupt.log" || fail "corrupt data was not reported"
grep -q "banned" "$T/dl_corrupt.log" || fail "the corrupting peer was not banned"

# Only a liar: exit 7, no final file, no piece marked verified.
start liar "$BIN/bad_peer" --meta "$M" --source "$T/f.bin" --port 0 --mode corrupt
expect_exit 7 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/dl_liar" --give-up-after 5
[ ! -e "$T/dl_liar/f.bin" ] || fail "a corrupt file was presented as complete"
grep -q "banned" "$T/last.err" || fail "no ban reported: $(cat "$T/last.err")"
pass "only a liar: exit 7 with the reason"

for mode in wronghash garbage; do
  start only_$mode "$BIN/bad_peer" --meta "$M" --source "$T/f.bin" --port 0 --mode $mode
  expect_exit 7 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/dl_only_$mode" --give-up-after 5
  [ ! -e "$T/dl_only_$mode/f.bin" ] || fail "$mode: file presented as complete"
  pass "only a $mode peer: exit 7 ($(tail -n1 "$T/last.err"))"
done

# kill -9 a downloader at 20 random moments, resuming each time: every piece that
# was verified before a kill is found again by the next run (none is fetched
# twice), and the final file is bit-identical.
source "$(dirname "$0")/lib.sh"
SIZE=$((48 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 4M
DL=(--meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/dl" --no-listen --json)
PARTIAL=$(partial_of "$M" "$T/dl")
kills=0
for round in $(seq 1 20); do
  "$BIN/p2p-download" "${DL[@]}" >"$T/run$round.json" 2>"$T/run$round.err" &
  pid=$!
  PIDS+=("$pid")
  # Kill at a random moment of the transfer, not of the start-up: on a loaded machine
  # the resume check alone can outlast a fixed delay, and a run killed before it says
  # what it resumed checks nothing.
  for _ in $(seq 1 200); do
    grep -q '"event":"\(resumed\|peer_connected\|progress\)"' "$T/run$round.json" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  sleep "0.$(( (RANDOM % 35) + 5 ))"
  kill -9 $pid 2>/dev/null && kills=$((kills + 1)) || true
  wait $pid 2>/dev/null || true
  [ -f "$T/dl/f.bin" ] && break
  on_disk=$("$BIN/count_valid_pieces" "$M" "$PARTIAL")
  echo "$on_disk" >"$T/valid$round"
done
echo "killed $kills times"
[ $kills -ge 10 ] || fail "only $kills kills landed; the test did not exercise crashes"

# Every run after a kill must have resumed exactly the pieces valid on disk at that kill.
checked=0
for round in $(seq 2 20); do
  [ -f "$T/valid$((round - 1))" ] && [ -f "$T/run$round.json" ] || continue
  want=$(cat "$T/valid$((round - 1))")
  [ "$want" -gt 0 ] || continue
  got=$(sed -n 's/.*"event":"resumed","text":"\([0-9]*\) of .*/\1/p' "$T/run$round.json" | head -n1)
  # Killed while still re-hashing the .partial (a loaded machine): it never got to say.
  if [ -z "$got" ] && ! grep -q '"event":"\(progress\|peer_connected\)"' "$T/run$round.json"; then continue; fi
  [ "${got:-0}" -eq "$want" ] || fail "run $round resumed ${got:-0} pieces but $want were verified on disk"
  checked=$((checked + 1))
done
echo "checked $checked resumes against the pieces on disk"
[ $checked -ge 10 ] || fail "only $checked resumes could be checked"
"$BIN/p2p-download" "${DL[@]}" >"$T/final.json" 2>"$T/final.err" || fail "final resume failed: $(tail -n1 "$T/final.err")"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "file differs after $kills crashes"
pass "$kills kill -9s, every verified piece kept, file identical"

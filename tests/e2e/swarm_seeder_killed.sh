# The seeder is killed mid-transfer; another peer that has everything lets the
# download finish. A peer that disappears is dropped and its requests go elsewhere.
source "$(dirname "$0")/lib.sh"
SIZE=$((8 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0
SEED_PID=$LAST_PID
SEED=$PORT
start full "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/full" --listen-host 127.0.0.1 --seed \
  --max-upload-rate 1M
FULL=$PORT
for i in $(seq 1 300); do [ -f "$T/full/f.bin" ] && break; sleep 0.1; done
[ -f "$T/full/f.bin" ] || fail "the second full peer did not finish"

# The downloader knows both; the seeder dies once a quarter has arrived.
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --peer 127.0.0.1:$FULL --workdir "$T/dl" --no-listen \
  --max-download-rate 2M --json >"$T/dl.json" 2>"$T/dl.err" &
DL=$!
PIDS+=("$DL")
for i in $(seq 1 300); do
  v=$(grep '"event":"progress"' "$T/dl.json" 2>/dev/null | tail -n1 | sed -n 's/.*"verified_bytes":\([0-9]*\).*/\1/p' || true)
  [ "${v:-0}" -gt $((SIZE / 4)) ] && break
  sleep 0.1
done
kill -9 $SEED_PID
wait $DL || fail "download failed after the seeder was killed: $(tail -n1 "$T/dl.err")"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "file differs"
grep -q "127.0.0.1:$SEED" "$T/dl.json" || fail "the seeder's loss was not reported"
pass "seeder killed at ${v:-?} bytes; finished from the other peer"

# One rate-capped seeder and four downloaders that know only the seeder: peer
# exchange introduces them to each other, they trade pieces, and the seeder
# uploads little more than one copy while all four finish with identical files.
source "$(dirname "$0")/lib.sh"
SIZE=$((8 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 1M --json
SEED_PID=$LAST_PID
SEED=$PORT
for i in 1 2 3 4; do
  start dl$i "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --parallel 1 --workdir "$T/dl$i" \
    --listen-host 127.0.0.1 --seed --max-upload-rate 1M --json
done
for i in $(seq 1 1200); do
  done_count=0
  for d in 1 2 3 4; do [ -f "$T/dl$d/f.bin" ] && done_count=$((done_count + 1)); done
  [ $done_count -eq 4 ] && break
  sleep 0.1
done
[ $done_count -eq 4 ] || fail "only $done_count of 4 downloaders finished in 120 s"
for d in 1 2 3 4; do cmp "$T/f.bin" "$T/dl$d/f.bin" || fail "downloader $d: file differs"; done
stop $SEED_PID
up=$(grep '"event":"stopped"' "$T/seed.log" | sed -n 's/.*"uploaded_bytes":\([0-9]*\).*/\1/p')
[ -n "$up" ] || fail "seeder printed no summary"
echo "seeder uploaded $up bytes for 4 x $SIZE downloaded ($(awk "BEGIN{printf \"%.2f\", $up/$SIZE}") copies)"
# A client-server design would need 4 copies; trading peers need about one.
[ "$up" -lt $((SIZE * 2)) ] || fail "seeder uploaded $up bytes: peers did not trade"
traded=0
for d in 1 2 3 4; do
  u=$(grep '"event":"progress"' "$T/dl$d.log" | tail -n1 | sed -n 's/.*"uploaded_bytes":\([0-9]*\).*/\1/p' || true)
  [ "${u:-0}" -gt 0 ] && traded=$((traded + 1))
done
[ $traded -ge 3 ] || fail "only $traded downloaders uploaded anything"
pass "4 downloaders traded; seeder sent $(awk "BEGIN{printf \"%.2f\", $up/$SIZE}") copies"

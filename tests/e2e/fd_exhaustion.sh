# Descriptor exhaustion: a seeder limited to 64 open files is flooded with 300
# silent connections. It must not spin (the old accept loop retried EMFILE at
# 100 % CPU), must shed the silent connections rather than real peers, and a
# real download must complete meanwhile.
source "$(dirname "$0")/lib.sh"
command -v prlimit >/dev/null || { echo "skip: prlimit not installed"; exit 77; }
SIZE=$((2 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed prlimit --nofile=64:64 "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0
SEED_PID=$LAST_PID
SEED=$PORT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
"$BIN/hostile_client" --meta "$M" --port "$SEED" --attack idle --count 300 --from 127.0.0.2 --hold 6 >"$T/idle.out" 2>&1 &
PIDS+=($!)
sleep 1
before=$(cpu_ticks $SEED_PID)
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/dl" --no-listen -q --give-up-after 20 ||
  fail "download failed while the seeder was flooded"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "file differs"
sleep 3
after=$(cpu_ticks $SEED_PID)
ticks=$((after - before))
hz=$(getconf CLK_TCK)
echo "seeder CPU during the flood: $ticks ticks ($hz per second) over ~3+ s"
# A spinning accept loop burns a whole core (~3 s = $((3 * hz)) ticks here).
[ $ticks -lt $((hz * 3 / 2)) ] || fail "seeder used $ticks ticks of CPU: it spins on EMFILE"
kill -0 $SEED_PID || fail "seeder died"
pass "64-descriptor seeder flooded by 300 connections: no spin, real download completed"

# Peers that take an initial seeder's windows and never ask for them cannot starve a real
# downloader. A fresh seeder (initial seeding: each peer is shown a few pieces no other peer
# is shown) gets 40 connections from 40 addresses that complete a handshake, send an empty
# bitfield (they lack everything) and then never request what they are shown: between them
# they hold every piece of a 64-piece file. Before: the real downloader was shown nothing
# and got 0 bytes in 25 s. Now a window left unrequested for 2 s is taken back
# (swarm/policy/initial_seeding.hpp) and shown to the peer that asks.
source "$(dirname "$0")/lib.sh"
SIZE=$((4 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --workdir "$T/seed" --json
SEED=$PORT
"$BIN/hostile_client" --meta "$M" --port "$SEED" --attack idle-handshake --bitfield --count 40 --from 127.0.0.2 \
  --sources 40 --hold 120 >"$T/idle.out" 2>&1 &
PIDS+=($!)
for i in $(seq 1 300); do grep -q "^opened" "$T/idle.out" && break; sleep 0.1; done
grep -q "^opened 40 " "$T/idle.out" || fail "the idle client did not open its 40 connections: $(cat "$T/idle.out")"
sleep 1
held=$(grep -c '"event":"peer_connected"' "$T/seed.log" || true)
[ "$held" -ge 40 ] || fail "the seeder took only $held of the 40 idle peers: the test did not fill its windows"

t0=$EPOCHREALTIME
timeout 90 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/dl" --no-listen --json \
  >"$T/dl.json" 2>"$T/dl.err" || fail "the download did not complete beside window hoarders (rc $?): $(tail -n1 "$T/dl.err")"
t1=$EPOCHREALTIME
cmp "$T/f.bin" "$T/dl/f.bin" || fail "file differs"
grep -q "^opened" "$T/idle.out" && kill -0 "${PIDS[-1]}" 2>/dev/null || fail "the idle peers were gone before the download ended"
pass "beside 40 peers that hoard the initial seeder's windows, a download completed in $(python3 -c "print(round($t1 - $t0, 1))") s"

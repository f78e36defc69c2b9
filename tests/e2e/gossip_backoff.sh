# Gossip is not an amplifier: a peer advertising 500 addresses by peer exchange (each
# one a listener that accepts and hangs up at once, so every dial of it fails and is
# counted) makes the downloader dial each address it takes at most once in the first
# minute (a failed gossiped address waits 60 s, doubling), and no more of them than one
# advertiser may introduce (50). Before: 50 addresses dialled 3 times each within 6 s.
# A second gossiping peer on the same IP (another port) advertising 250 other addresses
# shares that quota: an advertiser is an address, not a connection.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=500
random_file "$T/f.bin" $((1024 * 1024))
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"

# 500 consecutive free ports below the ephemeral range; a few tries if some are taken.
for try in 1 2 3 4 5; do
  BASE=$((10000 + RANDOM % 20000))
  : >"$T/count.log"
  python3 "$ROOT/tests/tools/tcp_count.py" --addr 127.0.0.1 --port $BASE --ports $N --out "$T/count" >"$T/count.log" 2>&1 &
  COUNTER=$!
  PIDS+=($COUNTER)
  for i in $(seq 1 50); do grep -q ready "$T/count.log" && break; kill -0 $COUNTER 2>/dev/null || break; sleep 0.1; done
  grep -q ready "$T/count.log" && break
  kill $COUNTER 2>/dev/null || true
done
grep -q ready "$T/count.log" || fail "could not bind $N consecutive ports for the counter"

start gossip "$BIN/bad_peer" --meta "$M" --source "$T/f.bin" --mode gossip --pex-port $BASE --pex-count $N
GOSSIP=$PORT
start gossip2 "$BIN/bad_peer" --meta "$M" --source "$T/f.bin" --mode gossip --pex-port $((BASE + N / 2)) --pex-count $((N / 2))
GOSSIP2=$PORT
start dl "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$GOSSIP --peer 127.0.0.1:$GOSSIP2 --workdir "$T/dl" \
  --listen-host 127.0.0.1 --json --give-up-after 120
DL=$LAST_PID
# The gossip peer sends its 10 messages over 11 s; watch for 20 s (well inside the first minute).
sleep 20
kill -0 $DL || fail "the downloader exited: $(tail -n2 "$T/dl.log")"
read -r total distinct <"$T/count"
echo "advertised $N + $((N / 2)) addresses from one IP: $total dials to $distinct distinct addresses in 20 s"
grep -q "127.0.0.1:$GOSSIP (outgoing" "$T/dl.log" || fail "never connected to the gossiping peer"
grep -q "127.0.0.1:$GOSSIP2 (outgoing" "$T/dl.log" || fail "never connected to the second gossiping peer"
[ "$total" -ge 10 ] || fail "only $total gossiped addresses dialled: the test did not exercise gossip"
[ "$total" -eq "$distinct" ] || fail "$total dials to $distinct addresses: a failed gossiped address was redialled within a minute"
[ "$distinct" -le 50 ] || fail "$distinct addresses dialled: more than one advertising address may introduce (50)"
stop $DL
pass "750 gossiped dead addresses from two peers on one IP: $total dials, each address at most once in the first minute, at most 50"

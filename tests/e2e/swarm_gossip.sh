# Peer exchange: a downloader that knows one peer of a swarm and no tracker
# ends up connected to the others.
source "$(dirname "$0")/lib.sh"
random_file "$T/f.bin" $((4 * 1024 * 1024))
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0
SEED=$PORT
# Two peers that finish and keep seeding; each was told only about the seeder.
start a "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/a" --listen-host 127.0.0.1 --seed --json
A=$PORT
start b "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/b" --listen-host 127.0.0.1 --seed --json
B=$PORT
for i in $(seq 1 300); do [ -f "$T/a/f.bin" ] && [ -f "$T/b/f.bin" ] && break; sleep 0.1; done
[ -f "$T/a/f.bin" ] && [ -f "$T/b/f.bin" ] || fail "a and b did not finish"

# The newcomer knows only peer a.
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$A --workdir "$T/c" --listen-host 127.0.0.1 --json \
  --max-download-rate 1M >"$T/c.json" 2>"$T/c.err" || fail "newcomer failed: $(tail -n1 "$T/c.err")"
cmp "$T/f.bin" "$T/c/f.bin" || fail "newcomer's file differs"
# Both ends dial: the newcomer dials what gossip told it, and the others dial it as soon as
# gossip tells them of it (their connections leave from their listen ports).
for p in $SEED $B; do
  grep -Eq "\"127.0.0.1:$p \((outgoing|incoming)[,)]" "$T/c.json" || fail "newcomer never connected with 127.0.0.1:$p (learned by gossip)"
done
pass "a peer told about one member connected to the seeder and the other peer too"

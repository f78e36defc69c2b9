#!/usr/bin/env bash
# LAN discovery, end to end: a seeder and a downloader in two network namespaces on one
# bridge (one LAN), no tracker and no --peer. Asserts that (1) the downloader's first peer
# is connected within 2 s of its start (measured from just before it is spawned; printed;
# the seeder's own start announces are over by then, so what finds it is the seeder's
# answer to the downloader's announce), (2) its peer table (--http /api/status) shows that
# peer with origin "lan" at the seeder's address and port, and (3) the download completes
# with identical bytes. Then (4) a file shared later (p2p-seed --dir, the downloader
# already waiting) is announced when it is added: the waiting downloader connects within
# 2 s of the seeder's torrent_added event (its own announces repeat only every 45 s, so
# only the seeder's can explain that).
# Discovery is on only inside the namespaces this test creates (P2P_NO_DISCOVERY unset for
# those commands alone). Needs root for `ip netns`; skips with 77 where it cannot run.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-lan.XXXXXX")
source "$ROOT/tests/tools/lan_netns.sh"
lan_init

MAX_FIRST_PEER_MS=2000
nsh_node seed $((4 << 20))   # 8 MiB at 4 MiB/s: the download lasts ~2 s, long enough to read its peer table
nsh_node dl 0
head -c $((8 << 20)) /dev/urandom >"$T/f.bin"
"$BIN/p2p-create" -q "$T/f.bin"
M=$T/f.bin.p2pmeta

nsh_spawn seed "$T/seed.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --port 6881 --workdir "$T/seedwd" --json
SEED_PID=$NSH_PID
wait_for "$T/seed.log" '"LAN discovery on ' 10 "$SEED_PID" "p2p-seed"
sleep 1.5   # past the seeder's start and repeat announces: only its answer to ours can be fast now

t0=$EPOCHREALTIME
nsh_spawn dl "$T/dl.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-download" --meta "$M" --workdir "$T/dlwd" --json --http 127.0.0.1:0
DL_PID=$NSH_PID
for ((i = 0; i < 500; i++)); do
  grep -q '"event":"peer_connected"' "$T/dl.log" && break
  nsh_running "$DL_PID" || break
  sleep 0.01
done
t1=$EPOCHREALTIME
grep -q '"event":"peer_connected"' "$T/dl.log" || fail "the downloader connected to no peer within 5 s: $(tail -n 5 "$T/dl.log")"
ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "time from the downloader's start to its first connected peer: ${ms} ms (limit ${MAX_FIRST_PEER_MS} ms)"
[ "$ms" -le "$MAX_FIRST_PEER_MS" ] || fail "first peer after ${ms} ms, more than ${MAX_FIRST_PEER_MS} ms"
pass "first peer found on the LAN in ${ms} ms"

# The peer table, while the download runs: origin "lan", at the seeder's address and port.
http=$(grep -m1 '"event":"http"' "$T/dl.log" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p' || true)
[ -n "$http" ] || fail "p2p-download did not report its --http address: $(tail -n 3 "$T/dl.log")"
seen=""
# The --json events say how each connection was reached; a fast download may be over before
# the page is asked, so they count as well as the peer table.
grep -q "\"${NSH_ADDR[seed]}:6881 (outgoing, lan)" "$T/dl.log" && seen=1
grep -q "\"${NSH_ADDR[dl]}:[0-9]* (outgoing, lan)" "$T/seed.log" && seen=1
for ((i = 0; i < 100 && !seen; i++)); do
  status=$(nsh_exec dl curl -s --max-time 2 "http://$http/api/status" || true)
  origin=$(python3 -c 'import json, sys
try: files = json.loads(sys.stdin.read())["files"]
except ValueError: files = []
print(" ".join(p["origin"] for f in files for p in f.get("peer_list", []) if p["address"] == sys.argv[1]))' \
    "${NSH_ADDR[seed]}:6881" <<<"$status")
  if [ "$origin" = lan ]; then seen=1; break; fi
  # Both ends dial: the seeder may have heard the downloader's announce and dialled it first.
  if [ "$origin" = incoming ] && grep -q "\"${NSH_ADDR[dl]}:[0-9]* (outgoing, lan)" "$T/seed.log"; then seen=1; break; fi
  nsh_running "$DL_PID" || break
  sleep 0.05
done
[ -n "$seen" ] || fail "the peer table never showed ${NSH_ADDR[seed]}:6881 with origin lan, nor did the seeder dial us from a LAN announce (last: ${status:0:400})"
pass "peer table: ${NSH_ADDR[seed]}:6881 origin lan"

for ((i = 0; i < 60 * 20; i++)); do nsh_running "$DL_PID" || break; sleep 0.05; done
nsh_running "$DL_PID" && fail "the download did not finish within 60 s: $(tail -n 3 "$T/dl.log")"
rc=0; wait "$DL_PID" || rc=$?
[ "$rc" = 0 ] || fail "p2p-download exited with $rc: $(tail -n 3 "$T/dl.log")"
cmp "$T/f.bin" "$T/dlwd/f.bin" || fail "the downloaded file differs"
pass "download over LAN discovery complete, bytes identical"
nsh_stop 5 "$SEED_PID"

# (4) A downloader waits (its start announces unanswered); then the file appears in the
# folder a p2p-seed --dir shares.
mkdir -p "$T/share"
nsh_spawn seed "$T/dirseed.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-seed" --dir "$T/share" --port 6881 \
  --workdir "$T/dirseedwd" --json
DIRSEED_PID=$NSH_PID
wait_for "$T/dirseed.log" '"LAN discovery on ' 10 "$DIRSEED_PID" "p2p-seed --dir"
nsh_spawn dl "$T/dl2.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-download" --meta "$M" --workdir "$T/dlwd2" --json
DL2_PID=$NSH_PID
wait_for "$T/dl2.log" '"LAN discovery on ' 10 "$DL2_PID" "p2p-download (waiting)"
sleep 2   # past the downloader's start and repeat announces: from now on it only listens
cp "$M" "$T/share/f.bin.p2pmeta"   # the meta beside the file: the same swarm
cp "$T/f.bin" "$T/share/f.bin"
wait_for "$T/dirseed.log" '"event":"torrent_added"' 30 "$DIRSEED_PID" "p2p-seed --dir"
t0=$EPOCHREALTIME
for ((i = 0; i < 500; i++)); do
  grep -q '"event":"peer_connected"' "$T/dl2.log" && break
  sleep 0.01
done
t1=$EPOCHREALTIME
grep -q '"event":"peer_connected"' "$T/dl2.log" || fail "the waiting downloader found no peer within 5 s of the file being shared"
ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "time from the seeder's torrent_added to the waiting downloader's first peer: ${ms} ms (limit ${MAX_FIRST_PEER_MS} ms)"
[ "$ms" -le "$MAX_FIRST_PEER_MS" ] || fail "a file added to p2p-seed --dir was found after ${ms} ms"
for ((i = 0; i < 60 * 20; i++)); do nsh_running "$DL2_PID" || break; sleep 0.05; done
rc=0; wait "$DL2_PID" || rc=$?
[ "$rc" = 0 ] || fail "the second p2p-download exited with $rc: $(tail -n 3 "$T/dl2.log")"
cmp "$T/f.bin" "$T/dlwd2/f.bin" || fail "the second downloaded file differs"
pass "a file added to p2p-seed --dir is announced at once (${ms} ms to the waiting downloader's first peer)"
nsh_stop 5 "$DIRSEED_PID"

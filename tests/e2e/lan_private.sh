#!/usr/bin/env bash
# LAN discovery of a private swarm (p2p-create --private): a seeder, a downloader and an
# observer in three network namespaces on one LAN. The observer joins the announce group
# (tests/tools/lan_listen.py) and records every datagram. Asserts that (1) the download
# completes without --peer or tracker (found on the LAN, over TLS), (2) both nodes
# announced the id derived from the swarm key (HKDF, "p2p-share v1 tracker swarm id" ‖
# info hash, computed here independently), and (3) no datagram contains the info hash, in
# hex or raw. Needs root for `ip netns`; skips with 77 where it cannot run.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-lan.XXXXXX")
source "$ROOT/tests/tools/lan_netns.sh"
lan_init

nsh_node obs 0
nsh_node seed $((8 << 20))
nsh_node dl 0
head -c $((2 << 20)) /dev/urandom >"$T/p.bin"
"$BIN/p2p-create" -q --private "$T/p.bin"
M=$T/p.bin.p2pmeta

lan_listener obs "$T/capture.jsonl"
nsh_spawn seed "$T/seed.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-seed" --meta "$M" --source "$T/p.bin" --port 6881 \
  --workdir "$T/seedwd" --json
SEED_PID=$NSH_PID
wait_for "$T/seed.log" '"LAN discovery on ' 10 "$SEED_PID" "p2p-seed"
nsh_spawn dl "$T/dl.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-download" --meta "$M" --workdir "$T/dlwd" --json
DL_PID=$NSH_PID
for ((i = 0; i < 30 * 20; i++)); do nsh_running "$DL_PID" || break; sleep 0.05; done
nsh_running "$DL_PID" && fail "the private download did not finish within 30 s: $(tail -n 3 "$T/dl.log")"
rc=0; wait "$DL_PID" || rc=$?
[ "$rc" = 0 ] || fail "p2p-download exited with $rc: $(tail -n 3 "$T/dl.log")"
cmp "$T/p.bin" "$T/dlwd/p.bin" || fail "the downloaded file differs"
pass "private download found its seeder on the LAN, bytes identical"
sleep 1.2   # the seeder's repeat announce (1 s after start) is in the capture too
nsh_stop 5 "$SEED_PID" "$LISTENER_PID"

python3 - "$M" "$T/capture.jsonl" "${NSH_ADDR[seed]}" "${NSH_ADDR[dl]}" <<'PY' || fail "the capture check failed (above)"
import hashlib, hmac, json, sys
meta_path, capture, seed_ip, dl_ip = sys.argv[1:]
meta = json.load(open(meta_path))
info_hash, key = bytes.fromhex(meta["info_hash"]), bytes.fromhex(meta["swarm_key"])
prk = hmac.new(b"\0" * 32, key, hashlib.sha256).digest()  # HKDF-SHA256 (RFC 5869), empty salt
derived = hmac.new(prk, b"p2p-share v1 tracker swarm id" + info_hash + b"\x01", hashlib.sha256).hexdigest()
rows = [json.loads(l) for l in open(capture) if l.strip()]
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond
check(len(rows) >= 2, f"{len(rows)} datagrams captured")
for r in rows:
    raw = r["data"].encode("utf-8", "surrogateescape")
    check(info_hash.hex() not in r["data"].lower() and info_hash not in raw,
          f"datagram from {r['src']} ({r['len']} bytes) holds no info hash")
    check(r["len"] <= 1200, f"datagram from {r['src']} is {r['len']} <= 1200 bytes")
for ip, who in ((seed_ip, "seeder"), (dl_ip, "downloader")):
    ids = [s for r in rows if r["src"] == ip for s in json.loads(r["data"]).get("swarms", [])]
    check(derived in ids, f"the {who} ({ip}) announced the key-derived id {derived[:16]}…")
sys.exit(0 if ok else 1)
PY
pass "LAN announces of a private swarm carry the key-derived id, never the info hash"

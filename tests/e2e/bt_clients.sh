#!/usr/bin/env bash
# Real BitTorrent clients through p2p-tracker alone (DHT, LPD, PEX off): an aria2c
# seeder, then an aria2c and a libtorrent downloader, over HTTP and over UDP (BEP 15).
# Skipped (77) without aria2c; the libtorrent legs are skipped without python3-libtorrent.
source "$(dirname "$0")/lib.sh"
export P2P_NO_DISCOVERY=1
command -v aria2c >/dev/null || { echo "skip: aria2c is not installed"; exit 77; }
command -v mktorrent >/dev/null || { echo "skip: mktorrent is not installed"; exit 77; }
HAVE_LT=0
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null && HAVE_LT=1

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --bittorrent --interval 5
TP=$PORT
mkdir -p "$T/seed"
random_file "$T/seed/payload.bin" $((3 * 1024 * 1024 + 12345))

# Peers only through the tracker; no encryption requirement; loopback only.
ARIA_BASE=(aria2c --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false
      --bt-tracker-interval=5 --bt-stop-timeout=90 --summary-interval=0 --console-log-level=warn
      --file-allocation=none --check-certificate=false --disable-ipv6=true)

# free_ports N: N distinct ports free for TCP and UDP on every address now (all held
# until printed, so no two are the same). Fixed ports would collide with another run.
# They are drawn from below the kernel's ephemeral range: a port from inside it (bind to
# port 0) could be handed to another test's outgoing connection before aria2c binds it,
# as happened once with tests running four at once.
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
held, out = [], []
while len(out) < int(sys.argv[1]):
    p = random.randrange(max(1024, low - 12000), low)
    t = socket.socket(); u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        t.bind(("0.0.0.0", p)); u.bind(("0.0.0.0", p))
    except OSError:
        t.close(); u.close(); continue
    held += [t, u]; out.append(p)
print(" ".join(map(str, out)))
PY
}

# leg NAME ANNOUNCE_URL: an aria2c seeder, then aria2c and libtorrent downloaders.
# Each leg has its own info hash (mktorrent -s), so a peer left over from an earlier
# leg (aria2c ends on SIGTERM without a "stopped" announce) is not taken for this
# leg's seeder, and its own ports.
leg() {
  local name=$1 url=$2 seed_port aria_port lt_port seed_dht aria_dht
  read -r seed_port aria_port lt_port seed_dht aria_dht <<<"$(free_ports 5)"
  mktorrent -a "$url" -s "p2p-e2e-$name" -l 16 -o "$T/$name.torrent" "$T/seed/payload.bin" >/dev/null || fail "$name: mktorrent failed"
  LEG_HASH=$(aria2c -S "$T/$name.torrent" | sed -n 's/^Info Hash: *\([0-9a-f]\{40\}\)$/\1/p')
  [ ${#LEG_HASH} = 40 ] || fail "$name: no info hash from aria2c -S"
  ARIA=("${ARIA_BASE[@]}")
  SEED_ARIA=("${ARIA_BASE[@]}")
  # aria2 sends UDP announces only through its DHT socket: DHT on, but with a fresh
  # routing table and no entry point it knows no node, so peers still come only from
  # the tracker. Each aria2c gets a DHT port of its own: aria2 binds it with
  # SO_REUSEADDR, so two aria2c given one range can both bind the same port, and then
  # the kernel hands the tracker's answers to one of them only (the other never
  # connects: this test's earlier failures).
  if [ "$name" = udp ]; then
    ARIA+=(--enable-dht=true --dht-listen-port="$aria_dht")
    SEED_ARIA+=(--enable-dht=true --dht-listen-port="$seed_dht")
  fi
  start_aria_seed "$name" "$seed_port"
  mkdir -p "$T/$name-aria"
  timeout 120 "${ARIA[@]}" --listen-port="$aria_port" --seed-time=0 --dht-file-path="$T/$name-aria-dht.dat" -d "$T/$name-aria" "$T/$name.torrent" \
    >"$T/$name-aria.log" 2>&1 || fail "$name: aria2c download failed (see $name-aria.log)"
  cmp "$T/seed/payload.bin" "$T/$name-aria/payload.bin" || fail "$name: aria2c's copy differs"
  pass "$name: aria2c -> aria2c through the tracker"
  if [ $HAVE_LT = 1 ]; then
    mkdir -p "$T/$name-lt"
    timeout 120 /usr/bin/python3 - "$T/$name.torrent" "$T/$name-lt" "$lt_port" >"$T/$name-lt.log" 2>&1 <<'PY' ||
import sys, time, libtorrent as lt
torrent, save, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = lt.session({'listen_interfaces': f'127.0.0.1:{port}', 'enable_dht': False, 'enable_lsd': False,
                'enable_upnp': False, 'enable_natpmp': False, 'allow_multiple_connections_per_ip': True,
                'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.tracker_notification})
h = s.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save, 'flags': lt.torrent_flags.disable_pex})
deadline = time.time() + 100
while time.time() < deadline:
    st = h.status()
    if st.is_seeding:
        print("done", st.total_wanted); sys.exit(0)
    for a in s.pop_alerts():
        print(a.message())
    time.sleep(0.2)
print("timed out", h.status().progress); sys.exit(1)
PY
      fail "$name: libtorrent download failed (see $name-lt.log)"
    cmp "$T/seed/payload.bin" "$T/$name-lt/payload.bin" || fail "$name: libtorrent's copy differs"
    pass "$name: aria2c -> libtorrent through the tracker"
  else
    echo "skip: $name libtorrent leg (no python3-libtorrent)"
  fi
  stop "$SEED_PID"
}

# has_seeder: the tracker counts a seeder in this leg's swarm (GET /bittorrent).
has_seeder() {
  curl -s "http://127.0.0.1:$TP/bittorrent" |
    python3 -c 'import json, sys; sys.exit(0 if any(s["info_hash"] == sys.argv[1] and s["seeders"] >= 1 for s in json.load(sys.stdin)["swarms"]) else 1)' "$LEG_HASH"
}

# start_aria_seed NAME PORT: aria2c checks the payload (-V) and seeds it until stopped.
start_aria_seed() {
  local name=$1 port=$2
  "${SEED_ARIA[@]}" -V --seed-ratio=0.0 --listen-port="$port" --dht-file-path="$T/$name-seed-dht.dat" -d "$T/seed" "$T/$name.torrent" >"$T/$name-seed.log" 2>&1 &
  SEED_PID=$!
  PIDS+=("$SEED_PID")
  # Seeding once the tracker counts it as a seeder of this leg's swarm.
  wait_for 30 "$name seeder in the swarm" has_seeder
}

leg http "http://127.0.0.1:$TP/announce"
leg udp "udp://127.0.0.1:$TP/announce"

curl -s "http://127.0.0.1:$TP/metrics" >"$T/metrics.txt"
grep -q 'endpoint="bt_announce",status="200"' "$T/metrics.txt" || fail "no BitTorrent HTTP announces in /metrics"
grep -q 'endpoint="udp_announce",status="200"' "$T/metrics.txt" || fail "no UDP announces in /metrics"
pass "metrics count both dialects"

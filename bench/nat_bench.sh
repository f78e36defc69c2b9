#!/usr/bin/env bash
# Across NATs, measured (README "Across networks"): time to the first connected peer, to
# the first verified piece, and throughput, for LAN discovery (no tracker), a NATed seeder
# and a public downloader, a public seeder and a NATed downloader, two port-preserving
# NATs (punched) and two symmetric NATs (through the tracker's relay, whose throughput is
# compared with its configured cap). Every program with its default flags except the
# relay's cap, which is the figure compared against. Runs tests/e2e/netns_nat.sh (the
# namespaces, gateways and checks are the test's) with a bigger file, as root.
#   bash bench/nat_bench.sh   # 64 MiB; every link 16 MiB/s (tbf); relay cap 8 MiB/s (p2p-tracker's default)
#   NAT_BENCH_BYTES=... NAT_BENCH_LINK_RATE=... NAT_BENCH_RELAY_RATE=... bash bench/nat_bench.sh
set -euo pipefail
export P2P_NO_DISCOVERY=1   # the test turns LAN discovery on for case L, inside its own namespaces only
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
build_binaries
BYTES=${NAT_BENCH_BYTES:-$((64 * 1024 * 1024))}
RATE=${NAT_BENCH_RELAY_RATE:-8M}
LINK=${NAT_BENCH_LINK_RATE:-$((16 * 1024 * 1024))}
RATE_BYTES=$(awk -v r="$RATE" 'BEGIN { m = 1; u = substr(r, length(r)); if (u == "M") m = 1048576; else if (u == "k" || u == "K") m = 1024; printf "%d", (m == 1 ? r : substr(r, 1, length(r) - 1)) * m }')
OUT=$ROOT/bench/results/nat_bench-latest.md
log "running tests/e2e/netns_nat.sh with ${BYTES} bytes, relay cap $RATE"
raw=$(NAT_TEST_BYTES=$BYTES NAT_RELAY_RATE=$RATE NAT_LINK_RATE=$LINK NAT_WAIT=180 bash "$ROOT/tests/e2e/netns_nat.sh" "$BIN" 2>&1) ||
  { echo "$raw" >&2; die "the NAT test failed"; }
echo "$raw" | grep -E '^(ok|figure):' >&2
{
  echo "# Across NATs ($(date -u +%Y-%m-%d), $(nproc) cores, file $((BYTES / 1048576)) MiB, links $((LINK / 1048576)) MiB/s, relay cap $RATE/s)"
  echo
  echo "Command: \`bash bench/nat_bench.sh\` (NAT_BENCH_BYTES=$BYTES NAT_BENCH_LINK_RATE=$LINK NAT_BENCH_RELAY_RATE=$RATE)."
  echo
  echo "| case | how they met | first peer (s) | first verified piece (s) | throughput (MiB/s) | vs cap (link, or relay) |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  echo "$raw" | awk -v cap="$RATE_BYTES" -v link="$LINK" '
    /^figure:/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      c = f["case"]
      name["L"] = "LAN, no tracker"; how["L"] = "LAN announce"
      name["A"] = "NATed seeder -> public downloader"; how["A"] = "seeder dials at the rendezvous"
      name["B"] = "public seeder -> NATed downloader"; how["B"] = "downloader dials"
      name["C"] = "NAT <-> NAT (port-preserving)"; how["C"] = "both dial: punched"
      name["D"] = "NAT <-> NAT (symmetric)"; how["D"] = "relay"
      name["E"] = "NAT <-> NAT (symmetric), private swarm"; how["E"] = "relay, TLS end to end"
      ratio = sprintf("%.2f", f["MiB_s"] * 1048576 / ((c == "D" || c == "E") ? cap : link))
      printf "| %s | %s | %s | %s | %s | %s |\n", name[c], how[c], f["first_peer_s"], f["first_piece_s"], f["MiB_s"], ratio
    }'
  echo
  echo "Links are veth pairs through Linux bridges with no added delay, every host's link and"
  echo "every home's uplink capped by tbf; direct rows are compared with that cap, relayed rows"
  echo "with the relay's (both directions of a pair count against it). First piece: from the"
  echo "downloader's start to its first progress line with a verified piece (lines come every"
  echo "second; an earlier end of the download counts as the time)."
} >"$OUT"
cat "$OUT"

#!/usr/bin/env bash
# The main job on samples/: build, create samples/demo.txt.p2pmeta, seed it on
# loopback, download it into downloads/, and check the copy is byte-identical.
set -euo pipefail
# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1
cd "$(dirname "$0")/.."
# Only what it runs: the tests are built by scripts/test.sh, their packages installed by it.
P2P_DEPS=build P2P_BUILD_TARGETS="p2p-create p2p-seed p2p-download" scripts/build.sh
BIN=build/bin
rm -rf downloads/demo.txt downloads/.p2p
"$BIN/p2p-create" samples/demo.txt
log=$(mktemp)
"$BIN/p2p-seed" --meta samples/demo.txt.p2pmeta --source samples/demo.txt --host 127.0.0.1 --port 0 --workdir data >"$log" 2>&1 &
seed=$!
trap 'kill $seed 2>/dev/null; wait $seed 2>/dev/null; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/^listening [^ ]*:\([0-9][0-9]*\)$/\1/p' "$log" | head -n1)
  [ -n "$port" ] && break
  kill -0 $seed 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { cat "$log"; echo "seeder did not start" >&2; exit 1; }
echo "seeding samples/demo.txt on 127.0.0.1:$port"
"$BIN/p2p-download" --meta samples/demo.txt.p2pmeta --host 127.0.0.1 --port "$port" --workdir downloads --parallel 4
if cmp -s samples/demo.txt downloads/demo.txt; then
  echo "OK: downloads/demo.txt is byte-identical to samples/demo.txt ($(stat -c %s downloads/demo.txt) bytes, sha256 $(sha256sum downloads/demo.txt | cut -c1-16)...)"
else
  echo "MISMATCH: downloads/demo.txt differs from samples/demo.txt" >&2
  exit 1
fi

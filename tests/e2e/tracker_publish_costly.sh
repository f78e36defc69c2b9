# Publishing costly metas (issue 22): the tracker checks a meta on its worker thread,
# never on the event loop, so announces are answered at once while clients publish
# 8 MiB metas in a loop; each address has a budget (429 past it); and a meta is kept
# and served as it was published, never larger than what p2p-download fetches, so
# --name works for a tree of 70,000 files (the re-indented copy was 9.3 MiB: exit 10).
source "$(dirname "$0")/lib.sh"
GEN=$(cd "$(dirname "$0")/../../bench" && pwd)/gen_tree.py
python3 "$GEN" meta "$T/wide-indented.p2pmeta" --entries 70000 --tiny --name wide >/dev/null
# Published compact (9.3 MB as p2p-create indents it): the tracker used to re-indent it.
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), separators=(",", ":"), ensure_ascii=False)' \
  "$T/wide-indented.p2pmeta" "$T/wide.p2pmeta"
size=$(stat -c %s "$T/wide.p2pmeta")
[ "$size" -gt $((7 << 20)) ] && [ "$size" -le $((8 << 20)) ] || fail "the 70,000-file meta is $size bytes, expected 7-8 MiB"
IH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["info_hash"])' "$T/wide.p2pmeta")
start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db"
TP=$PORT
URL=http://127.0.0.1:$TP

# 1. Kept and served as published; --name fetches it.
code=$(curl -s -o "$T/pub.json" -w '%{http_code}' --data-binary @"$T/wide.p2pmeta" "$URL/publish")
[ "$code" = 201 ] || fail "publish: $code $(cat "$T/pub.json")"
curl -s -o "$T/served.p2pmeta" "$URL/meta/$IH"
cmp "$T/wide.p2pmeta" "$T/served.p2pmeta" || fail "the served meta differs from the published bytes"
set +e
"$BIN/p2p-download" --name wide --tracker 127.0.0.1:$TP --give-up-after 1 --workdir "$T/dl" >"$T/name.out" 2>"$T/name.err"
rc=$?
set -e
grep -q "got the meta of wide" "$T/name.out" "$T/name.err" || fail "--name did not fetch the meta (exit $rc): $(tail -2 "$T/name.err")"
[ "$rc" -ne 10 ] || fail "--name: exit 10 (tracker)"
pass "a 70,000-file meta ($size bytes) is served byte for byte and fetched by --name"

# 2. Three addresses publish 8 MiB metas in a loop (different bytes each time: no cache
# helps); announces and /stats are answered meanwhile.
for k in 2 3 4; do
  for v in 1 2 3; do
    { cat "$T/wide.p2pmeta"; head -c $((k * 10 + v)) /dev/zero | tr '\0' ' '; } >"$T/pub$k-$v.p2pmeta"
  done
  (
    while :; do
      for v in 1 2 3; do
        curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.$k --data-binary @"$T/pub$k-$v.p2pmeta" "$URL/publish" \
          >>"$T/codes$k.txt" 2>/dev/null || true
      done
    done
  ) &
  PIDS+=("$!")
done
sleep 1
: >"$T/lat.txt"
for i in $(seq 1 60); do
  curl -s -o /dev/null -w '%{time_total}\n' \
    "$URL/announce?info_hash=$IH&peer_id=$(printf '%040d' "$i")&port=$((7000 + i))&left=0" >>"$T/lat.txt"
  sleep 0.05
done
curl -s -m 2 "$URL/stats" | grep -q '"files":1' || fail "/stats did not answer during the publish loops"
# An address is limited once its burst (4 metas of 8 MiB) is spent: seconds with a plain
# build, longer under the sanitizers (each check is slower there); wait for it up to 90 s.
for i in $(seq 1 900); do
  grep -qx 429 "$T"/codes*.txt && break
  sleep 0.1
done
read -r p50 p95 mx < <(sort -n "$T/lat.txt" | awk '{a[NR]=$1} END {print a[int(NR*0.5)], a[int(NR*0.95)], a[NR]}')
publishes=$(cat "$T"/codes*.txt | wc -l)
limited=$(cat "$T"/codes*.txt | grep -c '^429$' || true)
echo "announce latency during the publish loops: p50 ${p50}s p95 ${p95}s max ${mx}s; $publishes publishes answered, $limited with 429"
python3 -c "import sys; sys.exit(0 if float('$mx') < 1.0 else 1)" ||
  fail "an announce waited ${mx}s while metas were being published (validation on the event loop?)"
[ "$limited" -gt 0 ] || fail "no publish was limited (429) for its address"
pass "announces answered in at most ${mx}s (p50 ${p50}s) while 3 addresses published 8 MiB metas; $limited of $publishes got 429"

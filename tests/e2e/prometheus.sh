#!/usr/bin/env bash
# contrib/prometheus and contrib/grafana against a real Prometheus (Debian's package):
# the rules pass promtool's checks and unit tests; Prometheus scrapes a tracker and two
# nodes on loopback; every metric name the rules and the dashboard use is among the
# scraped names; every dashboard query and alert expression is valid PromQL that answers;
# the "download without peers" expression finds the one stalled download; a node that
# stops shows up == 0.
source "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null && command -v promtool >/dev/null || { echo "SKIP: prometheus missing"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }
CONTRIB=$(cd "$(dirname "$0")/../../contrib" && pwd)

promtool check rules "$CONTRIB/prometheus/p2p-share.rules.yml" >"$T/promtool.log" 2>&1 || { cat "$T/promtool.log"; fail "promtool check rules"; }
(cd "$CONTRIB/prometheus" && promtool test rules p2p-share.rules.test.yml) >"$T/promtool.log" 2>&1 ||
  { cat "$T/promtool.log"; fail "promtool test rules"; }
pass "the alerting rules are valid and their unit tests pass"

# A tracker (with its relay, so the relay's metrics exist), a seeder and a stalled downloader.
start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --relay --relay-port 0
TRACKER=127.0.0.1:$PORT
mkdir -p "$T/seed" "$T/dl"
random_file "$T/seed/film.bin" $((1024 * 1024))
random_file "$T/orphan.bin" $((1024 * 1024))
"$BIN/p2p-create" -q -o "$T/film.p2pmeta" "$T/seed/film.bin"
"$BIN/p2p-create" -q -o "$T/orphan.p2pmeta" "$T/orphan.bin"
ORPHAN_IH=$(json 'j["info_hash"]' <"$T/orphan.p2pmeta")
http_of() {  # LOG -> host:port of its "page http://H:P/#token=T" line
  local line
  wait_for 10 "the page line in $1" grep -q '^page http' "$1"
  line=$(grep -m1 '^page http' "$1")
  echo "$line" | sed 's|^page http://\([^/]*\)/.*|\1|'
}
start seed "$BIN/p2p-seed" --meta "$T/film.p2pmeta" --source "$T/seed/film.bin" --port 0 --host 127.0.0.1 \
  --workdir "$T/seed" --tracker "$TRACKER" --http 127.0.0.1:0
SEED_HTTP=$(http_of "$T/seed.log")
start dl "$BIN/p2p-download" --meta "$T/orphan.p2pmeta" --listen-host 127.0.0.1 --workdir "$T/dl" \
  --tracker "$TRACKER" --http 127.0.0.1:0
DL_PID=$LAST_PID
DL_HTTP=$(http_of "$T/dl.log")

PROM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $CONTRIB/prometheus/p2p-share.rules.yml
scrape_configs:
  - job_name: p2p-tracker
    static_configs:
      - targets: ["$TRACKER"]
  - job_name: p2p-node
    static_configs:
      - targets: ["$SEED_HTTP", "$DL_HTTP"]
YML
promtool check config --syntax-only "$T/prometheus.yml" >"$T/promtool.log" 2>&1 || { cat "$T/promtool.log"; fail "promtool check config"; }
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prometheus.log" 2>&1 &
PIDS+=("$!")
API=http://127.0.0.1:$PROM_PORT/api/v1

# query PROMQL -> the JSON "result" array (fails on an error answer)
query() {
  curl -s -G --data-urlencode "query=$1" "$API/query" | python3 -c '
import json, sys
j = json.load(sys.stdin)
if j.get("status") != "success": sys.exit("query failed: " + json.dumps(j))
print(json.dumps(j["data"]["result"]))'
}
count() { query "$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

all_up() { [ "$(count 'up{job=~"p2p-tracker|p2p-node"} == 1')" = 3 ]; }
wait_for 30 "Prometheus scraping all three processes" all_up
pass "Prometheus scrapes the tracker and both nodes"

# Every metric name used by the rules and the dashboard is scraped, and every expression
# is valid PromQL that Prometheus answers.
python3 - "$CONTRIB" "$API" <<'PY' || fail "contrib/ does not match what is scraped (above)"
import json, re, sys, urllib.parse, urllib.request
contrib, api = sys.argv[1:]
def get(path):
    with urllib.request.urlopen(api + path, timeout=10) as r:
        return json.load(r)
names = set(get("/label/__name__/values")["data"])
exprs = [t["expr"] for p in json.load(open(contrib + "/grafana/p2p-share.json"))["panels"] for t in p["targets"]]
exprs += re.findall(r"^\s*expr:\s*(.+)$", open(contrib + "/prometheus/p2p-share.rules.yml").read(), re.M)
used = set()
for e in exprs:
    used |= set(re.findall(r"\b(p2p_[a-z0-9_]+)", e))
missing = sorted(used - names)
if missing: sys.exit("names not scraped: " + ", ".join(missing))
if len(used) < 15 or len(exprs) < 18: sys.exit(f"only {len(used)} names in {len(exprs)} expressions: the parser is wrong")
for e in exprs:
    j = get("/query?" + urllib.parse.urlencode({"query": e}))
    if j.get("status") != "success": sys.exit(f"PromQL refused: {e}: {j}")
print(f"{len(used)} names in {len(exprs)} expressions, all scraped and answered")
PY
pass "every metric name in the rules and the dashboard is scraped; every expression is valid PromQL"

# The stalled download (no seeder anywhere) is what the alert's expression finds.
stalled() { query '(p2p_file_peers == 0) and on (instance, info_hash) (p2p_file_complete == 0)'; }
any_stalled() { [ "$(stalled | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge 1 ]; }
wait_for 10 "the stalled download in Prometheus" any_stalled
stalled | python3 -c '
import json, sys
r = json.load(sys.stdin)
hashes = {x["metric"]["info_hash"] for x in r}
assert hashes == {sys.argv[1]}, hashes
assert r[0]["metric"]["name"] == "orphan.bin", r[0]["metric"]
' "$ORPHAN_IH" || fail "the no-peers expression does not single out the orphan download"
pass "the download-without-peers expression finds exactly the stalled download"

stop "$DL_PID"
dl_down() { [ "$(count "up{instance=\"$DL_HTTP\"} == 0")" = 1 ]; }
wait_for 15 "up == 0 for the stopped node" dl_down
pass "a stopped node shows up == 0"

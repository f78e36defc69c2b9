#!/usr/bin/env bash
# Publishing and withdrawing through the command line: p2p-seed --publish keeps
# the owner token beside the meta (0600); `p2p-tracker files` lists the catalog;
# `p2p-tracker withdraw` without the right token is refused (403, exit 10) and
# changes nothing, with it the file is gone and its seeder stops serving it at
# its next announce. Another publisher cannot take an entry over. Two files
# with one name are both listed, and a lookup by that name lists their ids.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 1
TR=127.0.0.1:$PORT

mkdir -p "$T/a" "$T/b"
random_file "$T/a/report.pdf" 200000
random_file "$T/b/report.pdf" 150000
"$BIN/p2p-create" -q -o "$T/a/report.pdf.p2pmeta" "$T/a/report.pdf"
"$BIN/p2p-create" -q -o "$T/b/report.pdf.p2pmeta" "$T/b/report.pdf"
IH_A=$(json 'j["info_hash"]' <"$T/a/report.pdf.p2pmeta")
IH_B=$(json 'j["info_hash"]' <"$T/b/report.pdf.p2pmeta")

start seed "$BIN/p2p-seed" --meta "$T/a/report.pdf.p2pmeta" --source "$T/a/report.pdf" --port 0 --host 127.0.0.1 \
  --workdir "$T/a" --tracker "$TR" --publish
SEED_PID=$LAST_PID
TOKENS="$T/a/report.pdf.p2pmeta.owner-tokens.json"
wait_for 10 "the owner token file" test -s "$TOKENS"
[ "$(stat -c %a "$TOKENS")" = 600 ] || fail "owner token file is not mode 0600"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))[sys.argv[2]]; assert len(t)==64' "$TOKENS" "$TR" \
  || fail "no 64-hex token for $TR in $TOKENS"
pass "publish keeps the owner token beside the meta, mode 0600"

# Another publisher of the same meta gets no token: the entry keeps its owner.
ANSWER=$(curl -s -X POST --data-binary @"$T/a/report.pdf.p2pmeta" "http://$TR/publish")
[ "$(echo "$ANSWER" | json '"owner_token" in j')" = False ] || fail "a second publisher got a token: $ANSWER"
pass "a second publisher cannot take the entry over"

# Same name, different file: both listed; a lookup by name names both ids.
curl -s -X POST --data-binary @"$T/b/report.pdf.p2pmeta" "http://$TR/publish" >/dev/null
"$BIN/p2p-tracker" files --tracker "$TR" >"$T/files.txt"
grep -q "$IH_A" "$T/files.txt" && grep -q "$IH_B" "$T/files.txt" || { cat "$T/files.txt"; fail "both files not listed"; }
pass "p2p-tracker files lists both files named report.pdf"
CODE=$(curl -s -o "$T/lookup.json" -w '%{http_code}' "http://$TR/lookup?name=report.pdf")
[ "$CODE" = 409 ] || fail "lookup of an ambiguous name: want 409, got $CODE"
grep -q "$IH_A" "$T/lookup.json" && grep -q "$IH_B" "$T/lookup.json" || fail "ambiguous lookup does not list both ids: $(cat "$T/lookup.json")"
expect_exit 10 "$BIN/p2p-download" --name report.pdf --tracker "$TR" --workdir "$T/dl" --no-listen
grep -q "$IH_A" "$T/last.err" || fail "p2p-download --name does not show the ids: $(cat "$T/last.err")"
pass "a lookup by an ambiguous name lists the ids (409; p2p-download exits 10)"

# Withdraw: wrong token -> refused, nothing changes.
expect_exit 10 "$BIN/p2p-tracker" withdraw --tracker "$TR" --id "$IH_A" --token "$(printf 'a%.0s' $(seq 64))"
grep -q "403" "$T/last.err" || fail "wrong token: no 403 in $(cat "$T/last.err")"
"$BIN/p2p-tracker" files --tracker "$TR" --json | grep -q "$IH_A" || fail "a refused withdraw removed the file"
expect_exit 2 "$BIN/p2p-tracker" withdraw --tracker "$TR" --id "$IH_A"
pass "withdraw without the owner's token: refused (403, exit 10), file still listed"

"$BIN/p2p-tracker" withdraw --tracker "$TR" --id "$IH_A" --token-file "$TOKENS" >"$T/withdraw.out"
grep -q "withdrawn $IH_A" "$T/withdraw.out" || fail "withdraw did not say so"
"$BIN/p2p-tracker" files --tracker "$TR" --json | grep -q "$IH_A" && fail "withdrawn file still listed"
"$BIN/p2p-tracker" files --tracker "$TR" --json | grep -q "$IH_B" || fail "the other report.pdf went too"
pass "withdraw with the token file: gone from the catalog, the other file stays"

# The seeder learns it at its next announce (interval 1 s, at least 5 s between announces) and stops.
wait_for 20 "the seeder to stop serving the withdrawn file" grep -q "withdrew report.pdf" "$T/seed.log"
wait_for 10 "the seeder (its only file withdrawn) to exit" bash -c "! kill -0 $SEED_PID"
pass "the seeder stopped serving the withdrawn file"

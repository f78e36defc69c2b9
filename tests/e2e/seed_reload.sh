# SIGHUP (`systemctl reload`) makes p2p-seed --dir re-scan its folder at once
# and say so in one line, and the seeder keeps serving (SIGHUP does not end it).
source "$(dirname "$0")/lib.sh"
export P2P_NO_DISCOVERY=1
mkdir "$T/share"
random_file "$T/share/a.bin" 100000
start seed "$BIN/p2p-seed" --dir "$T/share" --workdir "$T/wd" --host 127.0.0.1 --port 0
SEED=$LAST_PID
for i in $(seq 1 200); do grep -q "sharing .*a.bin" "$T/seed.log" && break; sleep 0.05; done
grep -q "sharing .*a.bin" "$T/seed.log" || fail "a.bin was not shared"
kill -HUP $SEED
for i in $(seq 1 100); do grep -q "SIGHUP: re-scanned" "$T/seed.log" && break; sleep 0.05; done
grep -q "SIGHUP: re-scanned $T/share: 1 shared" "$T/seed.log" || fail "no re-scan line after SIGHUP"
kill -HUP $SEED
sleep 0.3
kill -0 $SEED || fail "SIGHUP ended the seeder"
[ "$(grep -c 'SIGHUP: re-scanned' "$T/seed.log")" -eq 2 ] || fail "the second SIGHUP was not handled"
# Still serving: a download of the shared file works.
"$BIN/p2p-create" -q "$T/share/a.bin" -o "$T/a.p2pmeta"
"$BIN/p2p-download" --meta "$T/a.p2pmeta" --peer "127.0.0.1:$PORT" --workdir "$T/dl" --no-listen -q ||
  fail "download after SIGHUP failed"
cmp "$T/share/a.bin" "$T/dl/a.bin" || fail "downloaded file differs"
stop $SEED
# Without --dir there is nothing to reload, and SIGHUP must not end the seeder either.
start plain "$BIN/p2p-seed" --meta "$T/a.p2pmeta" --source "$T/share/a.bin" --workdir "$T/wd2" --host 127.0.0.1 --port 0
kill -HUP $LAST_PID
for i in $(seq 1 100); do grep -q "SIGHUP: nothing to reload" "$T/plain.log" && break; sleep 0.05; done
grep -q "SIGHUP: nothing to reload without --dir" "$T/plain.log" || fail "no line after SIGHUP without --dir"
kill -0 $LAST_PID || fail "SIGHUP ended a seeder without --dir"
stop $LAST_PID
pass "SIGHUP re-scanned the folder, said so, and the seeder kept serving"

# SIGHUP (`systemctl reload`) makes p2p-tracker re-read its --config file:
# the relay's caps change at once, other changes are named as needing a
# restart, a broken file changes nothing and says why, all in one line each;
# the tracker keeps answering and still stops cleanly on SIGTERM.
source "$(dirname "$0")/lib.sh"
export P2P_NO_DISCOVERY=1
cat >"$T/t.conf" <<CONF
host = "127.0.0.1"
port = 0
db = "$T/tracker.db"
relay = true
relay-port = 0
relay-rate = "1M"
CONF
start tracker "$BIN/p2p-tracker" --config "$T/t.conf"
TR=$LAST_PID
wait_line() {  # wait_line N: until the log has N SIGHUP lines
  local i
  for i in $(seq 1 100); do [ "$(grep -c '^SIGHUP: ' "$T/tracker.log")" -ge "$1" ] && return 0; sleep 0.05; done
  fail "no SIGHUP line number $1"
}
sed -i -e 's/^relay-rate = .*/relay-rate = "2M"/' -e '$a interval = 120' "$T/t.conf"
kill -HUP $TR
wait_line 1
grep -q "^SIGHUP: reloaded: relay caps 2097152 B/s total.*applied only on restart: interval$" "$T/tracker.log" ||
  fail "reload line: $(grep '^SIGHUP' "$T/tracker.log")"
echo 'no-such-option = 1' >>"$T/t.conf"
kill -HUP $TR
wait_line 2
grep -q "^SIGHUP: not reloaded, still running as before: .*no-such-option" "$T/tracker.log" ||
  fail "a broken config was not refused: $(grep '^SIGHUP' "$T/tracker.log" | tail -1)"
curl -fsS "http://127.0.0.1:$PORT/stats" >/dev/null || fail "the tracker stopped answering after SIGHUP"
kill -TERM $TR
for i in $(seq 1 200); do kill -0 $TR 2>/dev/null || break; sleep 0.05; done
wait $TR || fail "the tracker exited with $? after SIGTERM"
pass "SIGHUP re-read the config (relay caps applied, restart-only changes named, broken file refused); SIGTERM still clean"

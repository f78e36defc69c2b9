#!/usr/bin/env bash
# p2p-tracker's command line: the listening line, exit codes for usage errors,
# a busy port and an unusable database, and SIGINT as a clean stop.
source "$(dirname "$0")/lib.sh"

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db"
grep -qx "listening 127.0.0.1:$PORT" "$T/tracker.log" || fail "listening line: $(cat "$T/tracker.log")"
pass "--port 0 prints one 'listening HOST:PORT' line"

expect_exit 6 "$BIN/p2p-tracker" --host 127.0.0.1 --port "$PORT" --db "$T/other.db"
grep -q "cannot listen on 127.0.0.1:$PORT: Address already in use" "$T/last.err" || fail "busy port message: $(cat "$T/last.err")"
pass "busy port: exit 6 with a clear message"

kill -INT "$LAST_PID"
set +e; wait "$LAST_PID"; RC=$?; set -e
[ "$RC" = 0 ] || fail "SIGINT: want exit 0, got $RC"
pass "SIGINT stops cleanly with exit 0"

echo x >"$T/plainfile"
expect_exit 8 "$BIN/p2p-tracker" --port 0 --db "$T/plainfile/tracker.db"
grep -q "plainfile" "$T/last.err" || fail "db folder message: $(cat "$T/last.err")"
head -c 8192 /dev/urandom >"$T/garbage.db"
expect_exit 8 "$BIN/p2p-tracker" --port 0 --db "$T/garbage.db"
grep -q "garbage.db" "$T/last.err" || fail "bad db message: $(cat "$T/last.err")"
pass "unusable database: exit 8 naming the file"

expect_exit 2 "$BIN/p2p-tracker" --port notaport
expect_exit 2 "$BIN/p2p-tracker" --interval 0
expect_exit 2 "$BIN/p2p-tracker" --bogus
expect_exit 0 "$BIN/p2p-tracker" --help
pass "usage errors: exit 2"

for bad in bogus redis:// redis://h:99999 'redis://h:1/x' 'redis://user:pw@h:1'; do
  expect_exit 2 "$BIN/p2p-tracker" --port 0 --store "$bad"
  grep -qF -- "--store \"$bad\"" "$T/last.err" || fail "--store $bad: the message does not name it: $(cat "$T/last.err")"
done
expect_exit 2 "$BIN/p2p-tracker" --port 0 --store redis://127.0.0.1:1 --db "$T/x.db"
grep -q -- "--db" "$T/last.err" || fail "--db with a Redis store: $(cat "$T/last.err")"
pass "a malformed --store (or --db with Redis): exit 2 naming it"

# Logs as a service writes them: off a terminal every stderr line of p2p-seed
# and p2p-download starts with its level ("info: ", or "<6>" when stderr is the
# systemd journal's stream), no progress redraws (no \r), and --log-level
# drops the lines below it.
source "$(dirname "$0")/lib.sh"
export P2P_NO_DISCOVERY=1
random_file "$T/f.bin" 300000
"$BIN/p2p-create" -q "$T/f.bin"
start seed "$BIN/p2p-seed" --meta "$T/f.bin.p2pmeta" --source "$T/f.bin" --host 127.0.0.1 --port 0 --workdir "$T/sw"
download() {  # download WORKDIR LOG ARGS...
  local wd=$1 log=$2; shift 2
  "$BIN/p2p-download" --meta "$T/f.bin.p2pmeta" --peer "127.0.0.1:$PORT" --workdir "$wd" --no-listen "$@" 2>"$log" ||
    fail "download into $wd failed"
}
download "$T/d1" "$T/plain.err"
grep -q "^info: \[download\] complete: " "$T/plain.err" || fail "no leveled completion line"
! grep -qv '^\(error\|warning\|info\|debug\): ' "$T/plain.err" || fail "a line without its level: $(grep -v '^[a-z]*: ' "$T/plain.err" | head -1)"
! grep -q $'\r' "$T/plain.err" || fail "progress redrawn off a terminal"
download "$T/d2" "$T/warning.err" --log-level warning
! grep -q '^info: ' "$T/warning.err" || fail "--log-level warning printed info lines"
cmp "$T/f.bin" "$T/d2/f.bin" || fail "download with --log-level warning differs"
# The journal: JOURNAL_STREAM names the stream systemd connected stderr to.
: >"$T/journal.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal.err") download "$T/d3" "$T/journal.err"
grep -q "^<6>\[download\] complete: " "$T/journal.err" || fail "no <6> prefix for the journal: $(head -1 "$T/journal.err")"
expect_exit 2 "$BIN/p2p-download" --meta "$T/f.bin.p2pmeta" --peer "127.0.0.1:$PORT" --workdir "$T/d4" --log-level loud
# An error line under the journal carries the error priority.
: >"$T/journal2.err"
set +e
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal2.err") "$BIN/p2p-download" --meta "$T/missing.p2pmeta" 2>"$T/journal2.err"
set -e
grep -q "^<3>p2p-download: error: " "$T/journal2.err" || fail "the error line has no <3>: $(head -1 "$T/journal2.err")"
stop $LAST_PID
grep -q "^info: \[f.bin\] verifying: " "$T/seed.log" || fail "seeder lines carry no level"
pass "leveled plain lines off a terminal, <N> for the journal, --log-level filters"

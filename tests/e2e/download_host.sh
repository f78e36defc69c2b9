# p2p-download --host takes a host alone, IPv6 too ("::1", "[::1]", "fe80::1%lo"), with
# --port beside it; --peer takes HOST:PORT and keeps requiring [brackets] for IPv6;
# a host with a port in --host is refused saying where that goes.
source "$(dirname "$0")/lib.sh"
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/' || { echo "skip: no IPv6 loopback"; exit 77; }
random_file "$T/f.bin" $((1024 * 1024 + 5))
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host ::1 --port 0
SEED=$PORT

"$BIN/p2p-download" --meta "$M" --host ::1 --port $SEED --workdir "$T/d1" --no-listen -q ||
  fail "--host ::1 --port $SEED failed"
cmp "$T/f.bin" "$T/d1/f.bin" || fail "--host ::1: file differs"
"$BIN/p2p-download" --meta "$M" --host "[::1]" --port $SEED --workdir "$T/d2" --no-listen -q ||
  fail "--host [::1] --port $SEED failed"
cmp "$T/f.bin" "$T/d2/f.bin" || fail "--host [::1]: file differs"
"$BIN/p2p-download" --meta "$M" --peer "[::1]:$SEED" --workdir "$T/d3" --no-listen -q ||
  fail "--peer [::1]:$SEED failed"
cmp "$T/f.bin" "$T/d3/f.bin" || fail "--peer [::1]: file differs"
pass "--host ::1, --host [::1] and --peer [::1]:P all download the file"

expect_exit 2 "$BIN/p2p-download" --meta "$M" --peer "::1:$SEED" --workdir "$T/d4" --no-listen
grep -q "brackets" "$T/last.err" || fail "--peer ::1:P: the message does not ask for brackets: $(cat "$T/last.err")"
expect_exit 2 "$BIN/p2p-download" --meta "$M" --host "127.0.0.1:$SEED" --port $SEED --workdir "$T/d4" --no-listen
grep -q -- "--peer" "$T/last.err" || fail "--host H:P: the message does not point at --peer: $(cat "$T/last.err")"
expect_exit 2 "$BIN/p2p-download" --meta "$M" --host "::1::2" --port $SEED --workdir "$T/d4" --no-listen
[ ! -e "$T/d4/f.bin" ] || fail "a refused command wrote the file"
pass "--peer ::1:P (no brackets), --host with a port and a malformed address are refused (exit 2) saying why"

# A zone is part of a host: accepted (exit 7: nobody listens there), not refused as usage.
expect_exit 7 "$BIN/p2p-download" --meta "$M" --host "fe80::1%lo" --port 9 --workdir "$T/d5" --no-listen --give-up-after 1
pass "--host fe80::1%lo is taken as a host"

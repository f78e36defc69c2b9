# Reputation cannot be turned against an honest peer: a hostile process on the
# honest seeder's IP connects to a downloader claiming the seeder's listen port
# and breaks the protocol. It is banned under its own identity (IP + peer id),
# the seeder is not: the download from it completes, and a rerun still uses it.
# --list-bans shows the ban with its reason, --forget-bans lifts it.
source "$(dirname "$0")/lib.sh"
SIZE=$((4 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 1M
SEED=$PORT
start dl "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/dl" --listen-host 127.0.0.1 --json
DL_PID=$LAST_PID
DL_PORT=$PORT
# Impersonation: same IP, the seeder's port claimed, garbage after the handshake.
"$BIN/hostile_client" --meta "$M" --port "$DL_PORT" --attack garbage --claim-port "$SEED" >"$T/attack.out" 2>&1 ||
  fail "the downloader kept talking to the attacker"
for i in $(seq 1 200); do kill -0 $DL_PID 2>/dev/null || break; sleep 0.1; done
set +e
wait $DL_PID
rc=$?
set -e
[ $rc -eq 0 ] || fail "download exited $rc"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "file differs"
grep -q '"event":"banned".*127.0.0.1#eeee' "$T/dl.log" || fail "the attacker was not banned under its own identity"
! grep -q "\"event\":\"banned\",\"text\":\"127.0.0.1:$SEED" "$T/dl.log" || fail "the honest seeder was banned"
"$BIN/p2p-download" --workdir "$T/dl" --list-bans >"$T/bans.txt"
grep -q '127.0.0.1#eeee' "$T/bans.txt" || fail "--list-bans does not show the attacker"
! grep -q "127.0.0.1:$SEED" "$T/bans.txt" || fail "--list-bans shows the honest seeder"
# A rerun (same workdir, same reputation database) still downloads from the seeder.
rm "$T/dl/f.bin"
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/dl" --no-listen -q || fail "rerun refused the seeder"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "rerun: file differs"
"$BIN/p2p-download" --workdir "$T/dl" --forget-bans -q
"$BIN/p2p-download" --workdir "$T/dl" --list-bans | grep -q "no banned peers" || fail "--forget-bans left a ban"
pass "impersonator banned under its own identity; honest seeder kept; bans listed and lifted"

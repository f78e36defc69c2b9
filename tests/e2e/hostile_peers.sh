# Hostile clients against a seeder: each attack gets its connection closed, the
# seeder's memory stays flat, and a real downloader still finishes normally, also
# while 1,000 idle connections sit on the seeder.
source "$(dirname "$0")/lib.sh"
SIZE=$((16 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 0.0.0.0 --port 0 --workdir "$T/seedwork"
SEED_PID=$LAST_PID
rss() { awk '/VmRSS/{print $2}' /proc/$SEED_PID/status; }
rss0=$(rss)
# Each attack from its own loopback address (127.0.0.0/8 is all loopback on Linux),
# so that banning one attacker does not hide what the seeder does with the next.
n=10
for attack in huge-prefix garbage bad-index past-end flood bad-have bad-bitfield; do
  n=$((n + 1))
  "$BIN/hostile_client" --meta "$M" --port "$PORT" --attack $attack --from 127.0.0.$n >"$T/attack.out" 2>&1 \
    || fail "$attack: $(cat "$T/attack.out")"
done
pass "every attack closed by the seeder"
# Attackers that got past the handshake are scored and banned: -25 per protocol violation.
grep -q "banned: 127.0.0.12" "$T/seed.log" || fail "the garbage sender was not banned: $(grep banned "$T/seed.log")"
"$BIN/hostile_client" --meta "$M" --port "$PORT" --attack bad-have --from 127.0.0.12 >/dev/null 2>&1 \
  || fail "a banned attacker was not turned away"
pass "violators banned and refused on return"

# Memory stays flat under a storm of 4 GiB length prefixes.
"$BIN/hostile_client" --meta "$M" --port "$PORT" --attack huge-prefix --from 127.0.1.1 --repeat 200 >"$T/storm.out" 2>&1 \
  || fail "the storm: $(cat "$T/storm.out")"
cat "$T/storm.out"
rss1=$(rss)
echo "seeder RSS: ${rss0} kB before, ${rss1} kB after 207 attacks"
# Honouring even one 4 GiB prefix would add gigabytes; 100 MB of slack covers what a
# sanitizer build keeps in its free-memory quarantine (~20 MB here under ASan).
[ "$rss1" -lt $((rss0 + 100000)) ] || fail "seeder memory grew from $rss0 kB to $rss1 kB"
kill -0 $SEED_PID || fail "seeder died"

# 1,000 idle connections from another loopback address, held while a real download runs.
"$BIN/hostile_client" --meta "$M" --port "$PORT" --attack idle --count 1000 --from 127.0.0.2 --hold 30 >"$T/idle.out" 2>&1 &
IDLE=$!
PIDS+=("$IDLE")
sleep 1
t0=$(date +%s)
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/dl" --quiet --no-listen \
  || fail "download failed while idle connections were open"
t1=$(date +%s)
cmp "$T/f.bin" "$T/dl/f.bin" || fail "file differs"
echo "download with idle connections open took $((t1 - t0)) s; $(cat "$T/idle.out")"
kill $IDLE 2>/dev/null || true
# The offenders that did speak were scored in the seeder's reputation store.
pass "real download unaffected by hostile and idle clients"

# p2p-seed --dir shares every complete file of a folder: a file added while it
# runs is picked up (its meta created under WORKDIR/metas) and can be fetched;
# a file removed is withdrawn (a download of it is then refused).
source "$(dirname "$0")/lib.sh"
mkdir -p "$T/share"
random_file "$T/share/first.bin" $((300 * 1024))
start seed "$BIN/p2p-seed" --dir "$T/share" --workdir "$T/wd" --host 127.0.0.1 --port 0 --json
SEED_PID=$LAST_PID
SEED=$PORT
wait_event() {  # wait_event PATTERN WHAT
  local i
  for i in $(seq 1 200); do
    grep -q "$1" "$T/seed.log" && return 0
    sleep 0.05
  done
  fail "seeder never reported $2"
}
wait_event '"event":"torrent_added".*first.bin' "first.bin shared"
[ -f "$T/wd/.p2p/metas/first.bin.p2pmeta" ] || fail "no meta created for first.bin"
# Files being downloaded or ours are never shared.
random_file "$T/share/later.bin.partial" 1000
random_file "$T/share/.hidden" 1000
# A file added while running.
random_file "$T/share/later.bin" $((2 * 1024 * 1024 + 17))
wait_event '"event":"torrent_added".*later.bin' "later.bin shared"
"$BIN/p2p-download" --meta "$T/wd/.p2p/metas/later.bin.p2pmeta" --peer 127.0.0.1:$SEED --workdir "$T/dl" --no-listen -q ||
  fail "download of later.bin failed"
cmp "$T/share/later.bin" "$T/dl/later.bin" || fail "later.bin differs"
! grep -q 'later.bin.partial\|\.hidden' "$T/seed.log" || fail "shared a .partial or hidden file"
# Removed: withdrawn, and a downloader is refused (unknown info hash) rather than served.
rm "$T/share/first.bin"
wait_event '"event":"torrent_removed".*first.bin' "first.bin withdrawn"
expect_exit 7 "$BIN/p2p-download" --meta "$T/wd/.p2p/metas/first.bin.p2pmeta" --peer 127.0.0.1:$SEED --workdir "$T/dl2" --no-listen
grep -q 'unknown_info_hash' "$T/last.err" || { cat "$T/last.err"; fail "refusal did not say unknown_info_hash"; }
stop $SEED_PID
pass "--dir picked up an added file, withdrew a removed one"

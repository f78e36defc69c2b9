# p2p-seed --dir shares each top-level sub-folder as a tree (its meta created in
# WORKDIR/.p2p/metas/), beside files; a folder whose content changes is withdrawn
# and shared again with a new meta once stable.
source "$(dirname "$0")/lib.sh"
mkdir -p "$T/share/album/2024" "$T/share/album/empty"
random_file "$T/share/album/2024/a.jpg" 200000
random_file "$T/share/album/b.txt" 3000
random_file "$T/share/lone.bin" 5000
start seed "$BIN/p2p-seed" --dir "$T/share" --workdir "$T/wd" --host 127.0.0.1 --port 0 --json
SEED=$PORT
wait_event() {  # wait_event PATTERN WHAT
  local i
  for i in $(seq 1 300); do
    grep -q "$1" "$T/seed.log" && return 0
    sleep 0.05
  done
  fail "seeder never reported $2"
}
wait_event '"event":"torrent_added".*album' "album shared"
wait_event '"event":"torrent_added".*lone.bin' "lone.bin shared"
M=$T/wd/.p2p/metas/album.p2pmeta
[ -f "$M" ] || fail "no meta created for the folder"
grep -q '"version": 3' "$M" || fail "the folder's meta is not a tree"
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/dl" --no-listen -q || fail "download of the folder failed"
diff -r "$T/share/album" "$T/dl/album" || fail "downloaded folder differs"
pass "--dir shares a sub-folder as a tree"

random_file "$T/share/album/c.bin" 1000
wait_event '"event":"torrent_removed".*album' "changed album withdrawn"
for i in $(seq 1 300); do
  [ "$(grep -c '"event":"torrent_added".*album' "$T/seed.log")" -ge 2 ] && break
  sleep 0.05
done
[ "$(grep -c '"event":"torrent_added".*album' "$T/seed.log")" -ge 2 ] || fail "changed album not shared again"
grep -q '"c.bin"' "$M" || fail "the new meta does not list the added file"
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/dl2" --no-listen -q || fail "download of the changed folder failed"
diff -r "$T/share/album" "$T/dl2/album" || fail "changed folder differs"
pass "a changed folder is re-shared with a new meta"

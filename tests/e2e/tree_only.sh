# p2p-download --only GLOB fetches part of a tree: each selected file is at its final
# path WORKDIR/<name>/<path> (verified), the others are absent and named as missing,
# and the folder stays unfinished (its state in WORKDIR/.p2p/; p2p-seed --dir does
# not share it). A later run with a wider --only, then a run without --only, fetch
# exactly the bytes of the files not there yet. A file of the user's in the way of
# a file to fetch is never replaced.
source "$(dirname "$0")/lib.sh"
S=$T/src/set
mkdir -p "$S/photos/2024" "$S/photos/2023" "$S/notes"
for i in 1 2 3; do random_file "$S/photos/2024/p$i.jpg" $((200000 + i)); done
for i in 1 2; do random_file "$S/photos/2023/q$i.jpg" $((150000 + i)); done
random_file "$S/notes/a.txt" 5000
random_file "$S/top.txt" 7000
random_file "$S/data.bin" 900000
"$BIN/p2p-create" -q --piece-size 65536 "$S" || fail "p2p-create"
IH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["info_hash"])' "$S.p2pmeta")
start seed "$BIN/p2p-seed" --meta "$S.p2pmeta" --source "$S" --host 127.0.0.1 --port 0 --workdir "$T/seedwd"
DL=(--meta "$S.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl" --json)
D=$T/dl/set
received() { grep "\"event\":\"$2\"" "$1" | sed -n 's/.*"downloaded_bytes":\([0-9]*\).*/\1/p'; }

# No match: usage error, nothing created.
expect_exit 2 "$BIN/p2p-download" "${DL[@]}" --only 'nothing/*'
grep -q "matches none" "$T/last.err" || fail "unclear --only refusal: $(cat "$T/last.err")"
[ ! -e "$D" ] || fail "--only with no match created the tree"

"$BIN/p2p-download" "${DL[@]}" --only 'photos/2024/*' --only '*.txt' >"$T/one.json" 2>"$T/one.log" ||
  fail "--only run failed: $(tail -3 "$T/one.log")"
for f in photos/2024/p1.jpg photos/2024/p2.jpg photos/2024/p3.jpg notes/a.txt top.txt; do
  cmp "$S/$f" "$D/$f" || fail "$f is not at its final path $D/$f, or differs"
done
for f in photos/2023/q1.jpg photos/2023/q2.jpg data.bin; do
  [ ! -e "$D/$f" ] || fail "$f was fetched although not selected"
done
[ ! -e "$T/dl/set.partial" ] || fail "a set.partial folder was made"
[ -f "$T/dl/.p2p/$IH.state.json" ] || fail "no state file: the unfinished tree looks finished"
grep -q '"event":"selection_complete"' "$T/one.json" || fail "no selection_complete event"
grep -q "5 of 8 files" "$T/one.json" || fail "no 'N of M files' message"
grep '"event":"selection_complete"' "$T/one.json" | grep -q '"missing":\["data.bin","photos/2023/q1.jpg","photos/2023/q2.jpg"\]' ||
  fail "the missing files are not named: $(grep selection_complete "$T/one.json")"
got1=$(received "$T/one.json" selection_complete)
want1=$(( 200001 + 200002 + 200003 + 5000 + 7000 ))
[ "$got1" -eq "$want1" ] || fail "run 1 received $got1 bytes, the selected files hold $want1"
pass "--only put exactly the selected files at their final paths ($got1 bytes); the rest named as missing"

# Without --json the missing files are named on a line.
"$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl" --only '*.txt' \
  >"$T/plain.out" 2>"$T/plain.log" || fail "plain --only rerun failed: $(tail -3 "$T/plain.log")"
grep -q "3 of 8 files not there yet: data.bin, photos/2023/q1.jpg, photos/2023/q2.jpg" "$T/plain.log" ||
  fail "plain output does not name the missing files: $(cat "$T/plain.log")"

# p2p-seed --meta refuses the unfinished folder, saying so.
expect_exit 3 "$BIN/p2p-seed" --meta "$S.p2pmeta" --workdir "$T/dl" --host 127.0.0.1 --port 0
grep -q "not finished yet" "$T/last.err" || fail "p2p-seed on an unfinished tree: unclear refusal: $(cat "$T/last.err")"

# The unfinished folder is not shared by p2p-seed --dir as if it were finished; a finished file beside it is.
random_file "$T/dl/ctl.bin" 3000
start dirseed "$BIN/p2p-seed" --dir "$T/dl" --workdir "$T/dirwd" --host 127.0.0.1 --port 0 --json --no-lan
for i in $(seq 1 300); do grep -q '"event":"torrent_added".*ctl.bin' "$T/dirseed.log" && break; sleep 0.05; done
grep -q '"event":"torrent_added".*ctl.bin' "$T/dirseed.log" || fail "p2p-seed --dir shared nothing (control)"
sleep 3
! grep -q '"torrent":"set"\|created .*set.p2pmeta' "$T/dirseed.log" || fail "p2p-seed --dir shared the unfinished tree"
stop "$LAST_PID"
rm "$T/dl/ctl.bin"
pass "p2p-seed --dir does not share the unfinished tree"

# A wider --only fetches only what is not there yet.
"$BIN/p2p-download" "${DL[@]}" --only 'photos/*' >"$T/wider.json" 2>"$T/wider.log" ||
  fail "wider --only run failed: $(tail -3 "$T/wider.log")"
for f in photos/2023/q1.jpg photos/2023/q2.jpg photos/2024/p1.jpg; do cmp "$S/$f" "$D/$f" || fail "$f differs"; done
[ ! -e "$D/data.bin" ] || fail "data.bin fetched although not selected"
got=$(received "$T/wider.json" selection_complete)
[ "$got" -eq $(( 150001 + 150002 )) ] || fail "the wider run received $got bytes, the new files hold $(( 150001 + 150002 ))"
pass "a wider --only fetched only the files not there yet ($got bytes)"

# A file of the user's where data.bin goes: a full run refuses before fetching, and never replaces it.
echo "my own data.bin" >"$D/data.bin"
expect_exit 11 "$BIN/p2p-download" "${DL[@]}"
grep -q "$D/data.bin is in the way" "$T/last.err" || fail "unclear message for a file in the way: $(cat "$T/last.err")"
[ "$(cat "$D/data.bin")" = "my own data.bin" ] || fail "the user's file was touched"
# Not selected, it is left alone (and said so) while the rest is fetched.
"$BIN/p2p-download" "${DL[@]}" --only 'notes/*' >"$T/aside.json" 2>"$T/aside.log" || fail "--only beside a user's file failed"
grep -q "left alone" "$T/aside.json" || fail "the file in the way was not named"
[ "$(cat "$D/data.bin")" = "my own data.bin" ] || fail "the user's file was touched"
pass "a file of the user's in the way is never replaced"

mv "$D/data.bin" "$T/mine.bin"
"$BIN/p2p-download" "${DL[@]}" >"$T/two.json" 2>"$T/two.log" || fail "full run failed: $(tail -3 "$T/two.log")"
diff -r "$S" "$D" || fail "completed tree differs"
[ ! -f "$T/dl/.p2p/$IH.state.json" ] || fail "the state file is left after the tree is finished"
ls "$T/dl/.p2p" | grep -q '\.files$' && fail "the per-file data folder was left in .p2p"
got2=$(received "$T/two.json" complete)
[ "$got2" -eq 900000 ] || fail "run 3 received $got2 bytes; the file not fetched before holds 900000"
grep '"event":"complete"' "$T/two.json" | grep -q '"missing":\[\]' || fail "a finished tree still names missing files"
pass "a run without --only fetched only the rest ($got2 bytes) and finished the tree"

# --only on a single file's meta is a usage error.
random_file "$T/one.bin" 1000
"$BIN/p2p-create" -q "$T/one.bin"
expect_exit 2 "$BIN/p2p-download" --meta "$T/one.bin.p2pmeta" --peer 127.0.0.1:1 --workdir "$T/dl3" --only '*'

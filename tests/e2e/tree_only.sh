# p2p-download --only GLOB fetches part of a tree (verified, inside WORKDIR/<name>.partial/),
# exits 0 saying how many files; a run without --only completes the rest without
# refetching: the bytes it receives are exactly those of the files not fetched before.
source "$(dirname "$0")/lib.sh"
S=$T/src/set
mkdir -p "$S/photos/2024" "$S/photos/2023" "$S/notes"
for i in 1 2 3; do random_file "$S/photos/2024/p$i.jpg" $((200000 + i)); done
for i in 1 2; do random_file "$S/photos/2023/q$i.jpg" $((150000 + i)); done
random_file "$S/notes/a.txt" 5000
random_file "$S/top.txt" 7000
random_file "$S/data.bin" 900000
"$BIN/p2p-create" -q --piece-size 65536 "$S" || fail "p2p-create"
start seed "$BIN/p2p-seed" --meta "$S.p2pmeta" --source "$S" --host 127.0.0.1 --port 0 --workdir "$T/seedwd"
DL=(--meta "$S.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl" --json)

# No match: usage error, nothing created.
expect_exit 2 "$BIN/p2p-download" "${DL[@]}" --only 'nothing/*'
grep -q "matches none" "$T/last.err" || fail "unclear --only refusal: $(cat "$T/last.err")"
[ ! -e "$T/dl/set.partial" ] || fail "--only with no match created the tree"

"$BIN/p2p-download" "${DL[@]}" --only 'photos/2024/*' --only '*.txt' >"$T/one.json" 2>"$T/one.log" ||
  fail "--only run failed: $(tail -3 "$T/one.log")"
P=$T/dl/set.partial
[ ! -e "$T/dl/set" ] || fail "a partial selection was renamed to the final name"
for f in photos/2024/p1.jpg photos/2024/p2.jpg photos/2024/p3.jpg notes/a.txt top.txt; do
  cmp "$S/$f" "$P/$f" || fail "$f not fetched or differs"
done
for f in photos/2023/q1.jpg photos/2023/q2.jpg data.bin; do
  [ ! -e "$P/$f" ] || fail "$f was fetched although not selected"
done
grep -q '"event":"selection_complete"' "$T/one.json" || fail "no selection_complete event"
grep -q "5 of 8 files" "$T/one.json" || fail "no 'N of M files' message"
got1=$(grep '"event":"selection_complete"' "$T/one.json" | sed -n 's/.*"downloaded_bytes":\([0-9]*\).*/\1/p')
want1=$(( 200001 + 200002 + 200003 + 5000 + 7000 ))
[ "$got1" -eq "$want1" ] || fail "run 1 received $got1 bytes, the selected files hold $want1"
pass "--only fetched exactly the selected files ($got1 bytes)"

"$BIN/p2p-download" "${DL[@]}" >"$T/two.json" 2>"$T/two.log" || fail "full run failed: $(tail -3 "$T/two.log")"
diff -r "$S" "$T/dl/set" || fail "completed tree differs"
got2=$(grep '"event":"complete"' "$T/two.json" | sed -n 's/.*"downloaded_bytes":\([0-9]*\).*/\1/p')
want2=$(( 150001 + 150002 + 900000 ))
[ "$got2" -eq "$want2" ] || fail "run 2 received $got2 bytes; the files not fetched before hold $want2"
pass "a run without --only fetched only the rest ($got2 bytes)"

# --only on a single file's meta is a usage error.
random_file "$T/one.bin" 1000
"$BIN/p2p-create" -q "$T/one.bin"
expect_exit 2 "$BIN/p2p-download" --meta "$T/one.bin.p2pmeta" --peer 127.0.0.1:1 --workdir "$T/dl3" --only '*'

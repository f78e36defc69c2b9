# `cmake --install` of this build into a temporary prefix: the four executables
# answer --version, take --config (the command line wins), each man page lists
# every option its --help lists plus the exit-code table, each bash completion
# offers the options, and the systemd units pass `systemd-analyze verify`.
source "$(dirname "$0")/lib.sh"
export P2P_NO_DISCOVERY=1
BUILD=$(cd "$BIN/.." && pwd)
P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 || fail "cmake --install failed (see $T/install.log)"
APPS=(p2p-create p2p-seed p2p-download p2p-tracker)
for f in etc/p2p-share/tracker.conf etc/p2p-share/seed-srv-share.conf lib/systemd/system/p2p-tracker.service \
         lib/systemd/system/p2p-seed@.service; do
  [ -f "$P/$f" ] || fail "not installed: $f"
done
version=$(sed -n 's/^project(p2p_share VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
for a in "${APPS[@]}"; do
  [ -x "$P/bin/$a" ] || fail "not installed: bin/$a"
  "$P/bin/$a" --version | grep -q "^$a $version" || fail "$a --version does not say $version"
  man=$P/share/man/man1/$a.1.gz
  [ -f "$man" ] || fail "no man page for $a"
  # Rendered as a user reads it; the options come from CLI11's own --help, not from the man generator.
  MANWIDTH=200 man -l "$man" 2>/dev/null | col -b >"$T/$a.man"
  opts=$("$P/bin/$a" --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u)
  [ -n "$opts" ] || fail "$a --help lists no options"
  for o in $opts; do grep -q -- "$o" "$T/$a.man" || fail "man $a lacks $o"; done
  for code in 0 2 7 130; do grep -Eq "^ +$code +" "$T/$a.man" || fail "man $a lacks exit code $code"; done
  # The completion offers the options by prefix.
  comp=$P/share/bash-completion/completions/$a
  got=$(bash -c "source '$comp'; COMP_WORDS=($a --ver); COMP_CWORD=1; _${a//-/_}; echo \${COMPREPLY[*]}")
  [ "$got" = "--version" ] || fail "completion of '$a --ver' gave '$got'"
done
got=$(bash -c "source '$P/share/bash-completion/completions/p2p-tracker'; COMP_WORDS=(p2p-tracker withdraw --tok); COMP_CWORD=2; _p2p_tracker; echo \${COMPREPLY[*]}")
[ "$got" = "--token --token-file" ] || fail "completion of 'p2p-tracker withdraw --tok' gave '$got'"
pass "installed: executables, --version, man pages with every option and the exit codes, completions"

# --config: the example config is read, and the command line wins over it.
sed -e "s|^port = .*|port = 1|" -e "s|^db = .*|db = \"$T/tracker.db\"|" -e 's|^host = .*|host = "127.0.0.1"|' \
    "$P/etc/p2p-share/tracker.conf" >"$T/tracker.conf"
start tracker "$P/bin/p2p-tracker" --config "$T/tracker.conf" --port 0
[ "$PORT" != 1 ] || fail "the config's port won over --port"
grep -q "^listening 127.0.0.1:" "$T/tracker.log" || fail "the config's host was not used"
[ -f "$T/tracker.db" ] || fail "the config's db was not used"
stop $LAST_PID
# A misspelt key is an error, not ignored (the same config works without it).
{ cat "$T/tracker.conf"; echo 'no-such-option = 1'; } >"$T/bad.conf"
expect_exit 2 "$P/bin/p2p-tracker" --config "$T/bad.conf" --port 0
grep -q "no-such-option" "$T/last.err" || fail "the config error does not name the key: $(cat "$T/last.err")"
expect_exit 2 "$P/bin/p2p-download" --config "$T/missing.conf"
pass "--config read (host, db), command line won (port), bad or missing config: exit 2"

if ! command -v systemd-analyze >/dev/null; then echo "skip: systemd-analyze missing"; exit 77; fi
mkdir "$T/units"
for u in p2p-tracker.service p2p-seed@.service; do
  sed "s|/usr/bin/|$P/bin/|g" "$P/lib/systemd/system/$u" >"$T/units/$u"
done
ln -s p2p-seed@.service "$T/units/p2p-seed@srv-share.service"
(cd "$T/units" && systemd-analyze verify --man=no ./p2p-tracker.service ./p2p-seed@srv-share.service) \
  >"$T/verify.log" 2>&1 || { cat "$T/verify.log" >&2; fail "systemd-analyze verify"; }
[ ! -s "$T/verify.log" ] || { cat "$T/verify.log" >&2; fail "systemd-analyze verify warned"; }
pass "systemd units verified"

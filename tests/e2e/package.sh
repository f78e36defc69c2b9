# The Debian package end to end: cpack builds the .deb from this build, dpkg
# installs it on this machine, the INSTALLED executables move a file on
# 127.0.0.1 (create, seed, download, cmp), `man -w` finds the page, which lists
# every option; then dpkg --purge leaves no file, user or state behind.
# Skipped (77) unless root with dpkg and cpack, in a plain (unsanitized) build,
# and with no p2p-share package installed already.
source "$(dirname "$0")/lib.sh"
export P2P_NO_DISCOVERY=1
require_packaging
user_before=0; getent passwd p2p-share >/dev/null && user_before=1

installed=0
on_cleanup() { if [ $installed = 1 ]; then dpkg --purge p2p-share >/dev/null 2>&1 || true; fi; }

(cd "$BUILD" && cpack -G DEB -B "$T/pkg") >"$T/cpack.log" 2>&1 || fail "cpack failed (see $T/cpack.log)"
deb=$(ls "$T"/pkg/p2p-share_*.deb)
dpkg-deb -f "$deb" Depends | grep -q 'libssl3' || fail "Depends lacks the shared libraries: $(dpkg-deb -f "$deb" Depends)"
if command -v lintian >/dev/null; then
  lintian "$deb" >"$T/lintian.log" 2>&1 || true
  ! grep -q '^E:' "$T/lintian.log" || { cat "$T/lintian.log" >&2; fail "lintian errors"; }
fi
installed=1
dpkg -i "$deb" >"$T/dpkg.log" 2>&1 || fail "dpkg -i failed (see $T/dpkg.log)"
getent passwd p2p-share >/dev/null || fail "postinst created no p2p-share user"
pass "built and installed $(basename "$deb")"

# A transfer with the installed executables only.
random_file "$T/src.bin" $((3 * 1024 * 1024 + 17))
/usr/bin/p2p-create -q "$T/src.bin"
start seed /usr/bin/p2p-seed --meta "$T/src.bin.p2pmeta" --source "$T/src.bin" --host 127.0.0.1 --port 0 --workdir "$T/seedwd"
/usr/bin/p2p-download --meta "$T/src.bin.p2pmeta" --peer "127.0.0.1:$PORT" --workdir "$T/dl" --no-listen -q \
  >"$T/download.log" 2>&1 || fail "installed p2p-download failed"
cmp "$T/src.bin" "$T/dl/src.bin" || fail "downloaded file differs"
stop $LAST_PID
pass "installed executables: create, seed, download, identical"

page=$(man -w p2p-download) || fail "man -w p2p-download finds no page"
[ "$page" = /usr/share/man/man1/p2p-download.1.gz ] || fail "man -w p2p-download gave $page"
MANWIDTH=200 man p2p-download 2>/dev/null | col -b >"$T/man.txt"
for o in $(/usr/bin/p2p-download --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u); do
  grep -q -- "$o" "$T/man.txt" || fail "man p2p-download lacks $o"
done
pass "man p2p-download lists every option"

dpkg -r p2p-share >"$T/dpkg-r.log" 2>&1 || fail "dpkg -r failed"
[ -f /etc/p2p-share/tracker.conf ] || fail "dpkg -r removed a conffile (only --purge should)"
dpkg --purge p2p-share >"$T/dpkg-purge.log" 2>&1 || fail "dpkg --purge failed"
installed=0
for f in /usr/bin/p2p-seed /etc/p2p-share /lib/systemd/system/p2p-tracker.service /var/lib/p2p-share \
         /usr/share/man/man1/p2p-seed.1.gz /usr/share/doc/p2p-share; do
  [ ! -e "$f" ] || fail "left behind after purge: $f"
done
if [ $user_before = 0 ]; then
  ! getent passwd p2p-share >/dev/null || fail "purge left the p2p-share user"
  ! getent group p2p-share >/dev/null || fail "purge left the p2p-share group"
fi
pass "removed and purged: nothing left behind"

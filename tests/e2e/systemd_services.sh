# The services under a real systemd: the README's Install section, done as a
# user does it. systemd boots as PID 1 of its own PID, mount, network, UTS, IPC
# and cgroup namespaces, on an overlay of / whose upper layer is a tmpfs (so
# nothing it, dpkg or the services write reaches the host's files), with /sys
# and /proc/sys read-only (nothing acts on the host kernel) and a target of our
# own with the host's enabled services masked. Inside: dpkg -i of the .deb
# cpack builds, `systemctl enable --now p2p-tracker p2p-seed@srv-share`, both
# active as user p2p-share with state in /var/lib/p2p-share and the hardening
# systemd-analyze rates, the tracker (127.0.0.1:7000, its config) lists the
# seed's file, the seed's API (127.0.0.1:8081) lists it, the installed
# p2p-download fetches it identically, `systemctl reload` of each is handled
# and said in the journal in leveled lines, a killed seed is restarted, a
# misspelt config key fails its unit without a restart loop, `man p2p-seed`
# works, stop ends them, dpkg -r stops them and --purge leaves nothing. Then
# the host is checked untouched (a marker in /tmp, no package, no new user, no
# new cgroup, no mount) and everything made is removed.
# Skipped (77) unless root with dpkg and cpack, in a plain (unsanitized) build,
# with no p2p-share package installed, and on a host where systemd boots here
# (hybrid cgroups, overlayfs, namespaces) within 20 s.
source "$(dirname "$0")/lib.sh"
export P2P_NO_DISCOVERY=1
require_packaging
skip() { echo "skip: $*"; exit 77; }
for c in unshare nsenter pivot_root ip curl man; do command -v $c >/dev/null || skip "needs $c"; done
[ -x /lib/systemd/systemd ] || skip "systemd is not installed"
grep -qw overlay /proc/filesystems || skip "no overlayfs in this kernel"
[ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
  [ "$(stat -f -c %T /sys/fs/cgroup/systemd 2>/dev/null)" = cgroupfs ] ||
  skip "cgroups are not the hybrid layout this test isolates (name=systemd + unified)"

CGDIRS=()  # our cgroups, made below
marker=""
NS_PID=""  # the unshare process; its child is the namespace's PID 1 (systemd)
P1=""
# teardown_ns: SIGKILL the namespace's PID 1 (the kernel kills everything in it;
# its mounts go with the last process), then remove our cgroups depth-first.
teardown_ns() {
  local d i
  if [ -n "$P1" ] && kill -0 "$P1" 2>/dev/null; then
    in_ns timeout 10 journalctl --no-pager -o short-monotonic >"$T/journal.log" 2>&1 || true
    kill -9 "$P1" 2>/dev/null || true
  fi
  if [ -n "$NS_PID" ]; then  # unshare reaps PID 1 and exits
    for i in $(seq 1 100); do kill -0 "$NS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$NS_PID" 2>/dev/null || true
    wait "$NS_PID" 2>/dev/null || true
  fi
  P1=""; NS_PID=""
  for d in "${CGDIRS[@]}"; do
    [ -d "$d" ] || continue
    for i in $(seq 1 100); do  # the killed processes leave their cgroups when reaped
      [ -z "$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && break
      sleep 0.1
    done
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || echo "cleanup: could not remove cgroup $d" >&2
  done
  return 0
}
on_cleanup() {
  teardown_ns
  [ -z "$marker" ] || rm -f "$marker"
  # The scratch mounts lived in the namespace only; never rm -rf through one.
  if grep -q " $T" /proc/self/mountinfo; then echo "cleanup: a mount under $T is left on the host, not removing it" >&2; exit 1; fi
}

(cd "$BUILD" && cpack -G DEB -B "$T/pkg") >"$T/cpack.log" 2>&1 || fail "cpack failed (see $T/cpack.log)"
deb=$(ls "$T"/pkg/p2p-share_*.deb)

# What the host has before: checked again at the end.
marker=$(mktemp /tmp/p2p-systemd-marker.XXXXXX)
passwd_before=$(md5sum </etc/passwd)
cg_before=$(find /sys/fs/cgroup -mindepth 2 -type d | sort)

# cgroups of our own in the two hierarchies systemd uses (the other controllers
# are not mounted inside, so it makes nothing there); the namespace's processes
# start in them and `unshare --cgroup` makes them its root.
CG=p2ptest.$(basename "$T")
for h in systemd unified; do
  CGDIRS+=("/sys/fs/cgroup/$h/$CG")
  mkdir "/sys/fs/cgroup/$h/$CG"
done
into_cgroups() { local d; for d in "${CGDIRS[@]}"; do echo "$BASHPID" >"$d/cgroup.procs"; done; }

# Units that would act on the host's kernel or hardware, or just cost time,
# and the host's own services (postgresql, redis, prometheus, ...): masked.
MASK="systemd-modules-load.service systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
 systemd-udev-trigger.service systemd-udev-settle.service systemd-timesyncd.service systemd-sysctl.service
 systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount e2scrub_all.timer
 e2scrub_all.service e2scrub_reap.service sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount
 sys-fs-fuse-connections.mount dev-hugepages.mount systemd-remount-fs.service systemd-hwdb-update.service
 systemd-random-seed.service systemd-pstore.service systemd-firstboot.service systemd-machine-id-commit.service
 systemd-repart.service systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-boot-update.service
 kmod-static-nodes.service ldconfig.service systemd-journald-audit.socket apparmor.service auditd.service
 systemd-networkd.service systemd-networkd-wait-online.service systemd-resolved.service networking.service
 ifupdown-wait-online.service NetworkManager.service NetworkManager-wait-online.service
 postgresql.service postgresql@.service redis.service redis-server.service redis-server@.service
 prometheus.service prometheus-node-exporter.service opentracker.service cron.service"

# ns_init runs as PID 1 of the new namespaces: builds the overlay root, then
# becomes systemd there. Its output (and systemd's) goes to $T/systemd.log.
ns_init() {
  set -eu
  local S=$1 deb=$2 R=$1/root n
  mount -t tmpfs -o mode=0755,size=1g p2ptest "$S"
  mkdir "$S/upper" "$S/work" "$R"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$R"
  mount -t proc proc "$R/proc"
  for n in sys sysrq-trigger bus fs irq; do  # read-only, as systemd-nspawn does
    [ -e "$R/proc/$n" ] || continue
    mount --bind "$R/proc/$n" "$R/proc/$n"; mount -o remount,bind,ro "$R/proc/$n"
  done
  mount -t sysfs -o ro sysfs "$R/sys"  # this network namespace's sysfs, read-only
  mount -t tmpfs -o mode=0755 cgroup "$R/sys/fs/cgroup"
  mkdir "$R/sys/fs/cgroup/systemd" "$R/sys/fs/cgroup/unified"
  # Fresh mounts inside the cgroup namespace: their root is our cgroup, not the host's.
  mount -t cgroup -o none,name=systemd cgroup "$R/sys/fs/cgroup/systemd"
  mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup/unified"
  mount -o remount,ro "$R/sys/fs/cgroup"
  # A /dev of a few harmless nodes (no disks), its own ptys and shm.
  mount -t tmpfs -o mode=0755 dev "$R/dev"
  for n in null zero full random urandom tty; do touch "$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"; done
  touch "$R/dev/console"; mount --bind /dev/null "$R/dev/console"
  mkdir "$R/dev/pts" "$R/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
  ln -s pts/ptmx "$R/dev/ptmx"
  mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
  ln -s /proc/self/fd "$R/dev/fd"
  for n in stdin:0 stdout:1 stderr:2; do ln -s "/proc/self/fd/${n#*:}" "$R/dev/${n%:*}"; done
  mount -t tmpfs -o mode=0755 run "$R/run"
  mount -t tmpfs -o mode=1777 tmp "$R/tmp"
  # A journal of this boot only (the host's persistent one stays out of sight, and unwritten).
  mkdir -p "$R/var/log/journal"
  mount -t tmpfs -o mode=2755 journal "$R/var/log/journal"
  # A network like a server's, all inside: an interface with an address and a
  # default route (a veth pair with both ends here; what goes out is dropped).
  ip link set lo up
  ip link add p2pt0 type veth peer name p2pt1
  ip addr add 10.254.0.2/24 dev p2pt0
  ip link set p2pt0 up; ip link set p2pt1 up
  ip route add default via 10.254.0.1 dev p2pt0
  hostname p2ptest
  # Our target: basic.target and nothing of the host's multi-user.target.
  cat >"$R/etc/systemd/system/p2ptest.target" <<'EOF'
[Unit]
Description=p2p-share systemd test
Requires=basic.target
After=basic.target
AllowIsolate=yes
EOF
  # A probe, not a change: a line written without a "<N>" level prefix gets the
  # debug priority, so the test can tell it from the services' leveled lines.
  for n in p2p-tracker.service p2p-seed@.service; do
    mkdir -p "$R/run/systemd/system/$n.d"
    printf '[Service]\nSyslogLevel=debug\n' >"$R/run/systemd/system/$n.d/p2ptest-level-probe.conf"
  done
  # Masked: the list above, every unit the host enabled, every timer.
  for n in $MASK $(ls "$R"/etc/systemd/system/*.wants/ "$R"/lib/systemd/system/timers.target.wants/ 2>/dev/null | grep -v -e ':$' -e '^$'); do
    ln -sfn /dev/null "$R/etc/systemd/system/$n"
  done
  # A container image's "exit 101" policy-rc.d (no service actions from
  # maintainer scripts) is not on a real machine: prerm must stop the services.
  rm -f "$R/usr/sbin/policy-rc.d"
  mkdir -p "$R/var/cache/p2ptest"
  cp "$deb" "$R/var/cache/p2ptest/"
  cd "$R"
  mkdir -p .oldroot
  pivot_root . .oldroot
  umount -l /.oldroot
  rmdir /.oldroot
  exec env -i container=p2ptest PATH=/usr/sbin:/usr/bin:/sbin:/bin /lib/systemd/systemd --unit=p2ptest.target --log-target=console
}

mkdir "$T/ns"
# The script is put together here, not in the subshell: a command substitution there is a
# child of $NS_PID for a moment, which the wait below took for the namespace's PID 1 (seen
# once on a loaded host: "setting up the namespace failed", and the real one left running).
# --kill-child: if unshare is killed, so is the namespace (its PID 1, and with it the rest).
init_script="$(declare -f ns_init); ns_init '$T/ns' '$deb'"
(
  into_cgroups
  exec unshare --fork --kill-child --pid --mount --net --uts --ipc --cgroup --propagation private \
    env MASK="$MASK" bash -c "$init_script"
) >"$T/systemd.log" 2>&1 &
NS_PID=$!
for i in $(seq 1 100); do  # PID 1 is unshare's child (the subshell has none before it execs unshare)
  [ "$(cat "/proc/$NS_PID/comm" 2>/dev/null)" = unshare ] \
    && P1=$(cat "/proc/$NS_PID/task/$NS_PID/children" 2>/dev/null | awk '{print $1}')
  [ -n "$P1" ] && break
  sleep 0.05
done
[ -n "$P1" ] || fail "the namespace's PID 1 did not start (see $T/systemd.log)"
for i in $(seq 1 100); do
  [ "$(cat "/proc/$P1/comm" 2>/dev/null)" = systemd ] && break
  kill -0 "$P1" 2>/dev/null || fail "setting up the namespace failed (see $T/systemd.log)"
  sleep 0.05
done
[ "$(cat "/proc/$P1/comm" 2>/dev/null)" = systemd ] || fail "the namespace's PID 1 did not become systemd (see $T/systemd.log)"

# in_ns CMD...: runs CMD inside (all namespaces of PID 1, its root; in our cgroups).
in_ns() { (into_cgroups; exec nsenter -t "$P1" -m -u -i -n -p -C -r -w env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 P2P_NO_DISCOVERY=1 "$@"); }

state=""
deadline=$((SECONDS + 20))
while [ $SECONDS -lt $deadline ]; do
  state=$(in_ns timeout 2 systemctl is-system-running --wait 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.2
done
case "$state" in
  running) ;;
  degraded) in_ns systemctl --failed --no-legend >"$T/failed-units.log" 2>&1 || true ;;
  *) skip "systemd did not boot in its namespace within 20 s (state '${state:-none}'; see $T/systemd.log)" ;;
esac
pass "systemd booted as PID 1 of its namespaces ($state)"

# What a user does (README "Install"): install the package, make the folder, enable both.
pkg=/var/cache/p2ptest/$(basename "$deb")
in_ns dpkg -i "$pkg" >"$T/dpkg.log" 2>&1 || fail "dpkg -i inside failed (see $T/dpkg.log)"
uid=$(in_ns id -u p2p-share) || fail "postinst created no p2p-share user"
! dpkg-query -W p2p-share >/dev/null 2>&1 || fail "the package reached the host's dpkg database"
[ "$(md5sum </etc/passwd)" = "$passwd_before" ] || fail "a user was added on the host"
pass "dpkg -i installed $(basename "$deb") inside only"
R=/proc/$P1/root  # the namespace's root, seen from here
in_ns mkdir -p /srv/share
random_file "$T/a.bin" $((2 * 1024 * 1024 + 11))
cp "$T/a.bin" "$R/srv/share/a.bin"
in_ns systemctl enable --now p2p-tracker p2p-seed@srv-share >"$T/enable.log" 2>&1 ||
  fail "systemctl enable --now failed: $(cat "$T/enable.log")"
# within SECONDS DESCRIPTION CMD...: CMD succeeds within SECONDS of wall time
# (lib.sh's wait_for counts tries, and a try through nsenter is not 0.1 s here).
within() {
  local secs=$1 what=$2; local end=$((SECONDS + secs)); shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || fail "timed out after ${secs} s waiting for $what"
    sleep 0.2
  done
}
active() { [ "$(in_ns systemctl is-active "$1")" = active ]; }
for u in p2p-tracker p2p-seed@srv-share; do
  [ "$(in_ns systemctl is-enabled $u)" = enabled ] || fail "$u is not enabled"
  within 10 "$u to be active" active $u
done
# tracker_lists NAME / seed_lists NAME: the tracker's catalog and the seed's API name the file.
names() { python3 -c 'import json,sys; print("\n".join(f["name"] for f in json.load(sys.stdin)["files"]))'; }
tracker_lists() { in_ns curl -fsS --max-time 2 http://127.0.0.1:7000/files | names | grep -qx "$1"; }
seed_lists() { in_ns curl -fsS --max-time 2 http://127.0.0.1:8081/api/files | names | grep -qx "$1"; }
within 20 "the seed's API on 127.0.0.1:8081 to list a.bin" seed_lists a.bin
within 20 "the tracker on 127.0.0.1:7000 to list a.bin" tracker_lists a.bin
for u in p2p-tracker p2p-seed@srv-share; do
  active $u || fail "$u is not active: $(in_ns systemctl status --no-pager $u 2>&1 | tail -5)"
  pid=$(in_ns systemctl show -p MainPID --value $u)
  [ "${pid:-0}" -gt 0 ] || fail "$u has no main process"
  got=$(in_ns awk '/^Uid:/{print $2 " " $3}' "/proc/$pid/status")
  [ "$got" = "$uid $uid" ] || fail "$u runs as uid '$got', not p2p-share ($uid)"
done
[ -s "$R/var/lib/p2p-share/tracker/tracker.db" ] || fail "no tracker state in /var/lib/p2p-share/tracker"
[ "$(stat -c %u "$R/var/lib/p2p-share/seed-srv-share")" = "$uid" ] || fail "no seed state dir owned by p2p-share"
ls -A "$R/var/lib/p2p-share/seed-srv-share" | grep -q . || fail "the seed keeps nothing in /var/lib/p2p-share/seed-srv-share"
[ "$(ls -A "$R/srv/share")" = a.bin ] || fail "the seed wrote into the shared folder: $(ls -A "$R/srv/share")"
# The hardening (issue 24 item 3) as systemd itself rates it: exposure at most 2.0 ("OK" is below 5).
exposure=""
for u in p2p-tracker.service p2p-seed@srv-share.service; do
  e=$(in_ns systemd-analyze security --no-pager $u 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$e" ] || fail "systemd-analyze security gave no exposure for $u"
  awk -v e="$e" 'BEGIN { exit !(e <= 2.0) }' || fail "$u: exposure $e, above 2.0 (what weakened the hardening?)"
  exposure+="$u $e; "
done
pass "enable --now: both active as p2p-share, state in /var/lib/p2p-share, tracker :7000 and seed API :8081 list a.bin; exposure ${exposure%; }"

# The installed downloader, through the tracker, by name.
in_ns /usr/bin/p2p-download --tracker 127.0.0.1:7000 --name a.bin --workdir /root/dl -q \
  >"$T/download.log" 2>&1 || fail "the installed p2p-download failed (see $T/download.log)"
cmp "$T/a.bin" "$R/root/dl/a.bin" || fail "the downloaded a.bin differs"
pass "installed p2p-download fetched a.bin through the tracker, identical"

# journal PATTERN UNIT: the service's own lines (not systemd's about it) match PATTERN.
journal() { in_ns journalctl --no-pager -o cat "_SYSTEMD_UNIT=$2.service" | grep -q -- "$1"; }
random_file "$T/b.bin" 300001
cp "$T/b.bin" "$R/srv/share/b.bin"
in_ns systemctl reload p2p-seed@srv-share || fail "systemctl reload p2p-seed@srv-share failed"
# It saw both files (b.bin perhaps still "waiting": a file is shared once two scans find it unchanged).
within 10 "the seed's re-scan line in the journal" journal "SIGHUP: re-scanned /srv/share: " p2p-seed@srv-share
line=$(in_ns journalctl --no-pager -o cat "_SYSTEMD_UNIT=p2p-seed@srv-share.service" | grep "SIGHUP: re-scanned" | tail -1)
[[ "$line" =~ re-scanned\ /srv/share:\ ([0-9]+)\ shared,\ ([0-9]+)\ waiting ]] &&
  [ $((BASH_REMATCH[1] + BASH_REMATCH[2])) = 2 ] || fail "the re-scan did not see both files: $line"
within 20 "the seed to share b.bin" journal "sharing /srv/share/b.bin" p2p-seed@srv-share
within 20 "the tracker to list b.bin" tracker_lists b.bin
seed_lists b.bin || fail "the seed's API does not list b.bin after the reload"
active p2p-seed@srv-share || fail "the reload ended the seed"
in_ns systemctl reload p2p-tracker || fail "systemctl reload p2p-tracker failed"
within 10 "the tracker's reload line in the journal" journal "^SIGHUP: reloaded" p2p-tracker
active p2p-tracker || fail "the reload ended the tracker"
pass "systemctl reload: the seed re-scanned and shares b.bin, the tracker re-read its config; both said so in the journal"

# Issue 24 item 6: under systemd the seed's log lines carry their level as a
# journal priority (a "<N>" prefix journald parsed: none left in the text; the
# probe gives a line without one priority 7), no progress redraws (control
# characters). Only the documented stdout lines for scripts ("listening H:P",
# "page URL") come without a level.
check_journal() {  # check_journal UNIT strict|plain
  in_ns journalctl --no-pager -o json "_SYSTEMD_UNIT=$1.service" >"$T/journal-$1.json"
  python3 - "$T/journal-$1.json" "$1" "$2" <<'PY' || fail "journal lines of $1 are not leveled plain lines"
import json, re, sys
path, unit, mode = sys.argv[1:]
lines = [json.loads(l) for l in open(path) if l.strip()]
assert lines, f"{unit}: no lines"
for e in lines:
    m = e.get("MESSAGE")
    if not isinstance(m, str):  # journald keeps lines with control characters (\r, escapes) as bytes
        sys.exit(f"{unit}: a line with control characters: {bytes(m)[:80]!r}")
    if re.match(r"^(<\d>|(error|warning|info|debug): )", m):
        sys.exit(f"{unit}: the level is in the text, not the priority: {m[:80]}")
    stdout_line = re.fullmatch(r"(relay )?listening \S+|page http://\S+", m)
    if mode == "strict" and e.get("PRIORITY") == "7" and not stdout_line:
        sys.exit(f"{unit}: a line without its level: {m[:80]}")
prios = sorted({e.get("PRIORITY") for e in lines})
print(f"{unit} {len(lines)} lines, priorities {','.join(prios)}")
PY
}
check_journal p2p-seed@srv-share strict >"$T/levels.log"
check_journal p2p-tracker strict >>"$T/levels.log"
in_ns journalctl --no-pager -o cat -p info "_SYSTEMD_UNIT=p2p-tracker.service" | grep -q "^SIGHUP: reloaded" ||
  fail "the tracker's reload line is not at priority info"
in_ns journalctl --no-pager -o cat -p info "_SYSTEMD_UNIT=p2p-seed@srv-share.service" | grep -q "sharing /srv/share/a.bin" ||
  fail "the seed's 'sharing' line is not at priority info"
pass "journal: plain lines, the seed's with their priority ($(tr '\n' ';' <"$T/levels.log"))"

# Restart=on-failure: a seed killed by a signal comes back (RestartSec=5) and shares again.
old_pid=$(in_ns systemctl show -p MainPID --value p2p-seed@srv-share)
in_ns kill -9 "$old_pid"
restarted() { local p; p=$(in_ns systemctl show -p MainPID --value p2p-seed@srv-share); [ "${p:-0}" -gt 0 ] && [ "$p" != "$old_pid" ] && active p2p-seed@srv-share; }
within 15 "systemd to restart the killed seed" restarted
within 15 "the restarted seed's API to list b.bin" seed_lists b.bin
pass "the seed killed with SIGKILL was restarted by systemd and shares again"

# A broken config (a misspelt key) is not restarted in a loop: the unit fails at
# once (RestartPreventExitStatus=2) and the journal names the key, at priority err.
in_ns mkdir -p /srv/other
printf 'port = 6882\nhtpp = "127.0.0.1:8082"\n' >"$R/etc/p2p-share/seed-srv-other.conf"
in_ns systemctl start p2p-seed@srv-other 2>/dev/null || true
failed_now() { [ "$(in_ns systemctl is-active p2p-seed@srv-other)" = failed ]; }
within 10 "p2p-seed@srv-other with a misspelt key to fail" failed_now
sleep 6  # longer than RestartSec: no restart came
failed_now && [ "$(in_ns systemctl show -p NRestarts --value p2p-seed@srv-other)" = 0 ] ||
  fail "the broken config was restarted: $(in_ns systemctl show -p ActiveState,NRestarts p2p-seed@srv-other | tr '\n' ' ')"
in_ns journalctl --no-pager -o cat -p err "_SYSTEMD_UNIT=p2p-seed@srv-other.service" | grep -q 'error: .*seed-srv-other.conf.*htpp' ||
  fail "no error line naming the config and the misspelt key: $(in_ns journalctl --no-pager -o cat -u p2p-seed@srv-other | tail -3)"
in_ns systemctl reset-failed p2p-seed@srv-other
rm -f "$R/etc/p2p-share/seed-srv-other.conf"
pass "a misspelt config key: the unit failed once (no restart loop), the journal names the file and the key"

page=$(in_ns man -w p2p-seed) || fail "man -w p2p-seed finds no page inside"
[ "$page" = /usr/share/man/man1/p2p-seed.1.gz ] || fail "man -w p2p-seed gave $page"
in_ns env MANWIDTH=200 man p2p-seed 2>/dev/null | col -b >"$T/man.txt"
for o in --dir --workdir --config --tracker --publish; do grep -q -- "$o" "$T/man.txt" || fail "man p2p-seed lacks $o"; done
pass "man p2p-seed works inside"

# The host's services stay masked and out of the namespace.
! in_ns ps -eo comm= | grep -E 'postgres|redis|prometheus|opentracker' || fail "a host service runs in the namespace"
in_ns systemctl stop p2p-tracker p2p-seed@srv-share || fail "systemctl stop failed"
for u in p2p-tracker p2p-seed@srv-share; do
  got=$(in_ns systemctl is-active $u || true)
  [ "$got" = inactive ] || fail "$u is '$got' after stop, not inactive (a failed exit?)"
done
pass "systemctl stop: both inactive"

# apt remove / purge with both running: prerm stops them, purge leaves nothing behind.
in_ns systemctl start p2p-tracker p2p-seed@srv-share || fail "systemctl start failed"
for u in p2p-tracker p2p-seed@srv-share; do within 10 "$u to be active again" active $u; done
in_ns dpkg -r p2p-share >"$T/dpkg-r.log" 2>&1 || fail "dpkg -r inside failed (see $T/dpkg-r.log)"
! in_ns ps -eo comm= | grep -E '^p2p-' || fail "a service still runs after dpkg -r"
[ -f "$R/etc/p2p-share/tracker.conf" ] || fail "dpkg -r removed a conffile (only --purge should)"
in_ns dpkg --purge p2p-share >"$T/dpkg-purge.log" 2>&1 || fail "dpkg --purge inside failed (see $T/dpkg-purge.log)"
! in_ns getent passwd p2p-share >/dev/null || fail "purge left the p2p-share user"
for f in /etc/p2p-share /var/lib/p2p-share /lib/systemd/system/p2p-tracker.service /usr/bin/p2p-seed; do
  [ ! -e "$R$f" ] || fail "left behind after purge: $f"
done
left=$(cd "$R/etc/systemd/system" && find . -name 'p2p-*' | sort | tr '\n' ' ')
[ -z "$left" ] || fail "purge left the services enabled (dangling links): $left"
pass "dpkg -r stopped both, dpkg --purge left no file, user, state or enablement"

# The host is untouched: torn down, then checked.
teardown_ns
[ -f "$marker" ] || fail "the host's /tmp lost its marker"
! dpkg-query -W p2p-share >/dev/null 2>&1 || fail "p2p-share got installed on the host"
[ "$(md5sum </etc/passwd)" = "$passwd_before" ] || fail "/etc/passwd changed on the host"
[ "$(find /sys/fs/cgroup -mindepth 2 -type d | sort)" = "$cg_before" ] || fail "cgroups left on the host"
! grep -q " $T" /proc/self/mountinfo || fail "a mount left on the host"
pass "host untouched: /tmp marker kept, no package, no user, no cgroup, no mount"

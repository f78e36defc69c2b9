# Shared by tests/e2e/lan_*.sh (sourced, not run): scripts/netns/harness.sh plus what
# the LAN-discovery tests need. Every node is a namespace on one bridge: one LAN.
# The caller sets BIN, ROOT and T before sourcing. Nodes run with discovery on only
# inside these namespaces: `env -u P2P_NO_DISCOVERY` for one command at a time.
source "$ROOT/scripts/netns/harness.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

nsh_on_teardown() {
  if [ "$NSH_EXIT_RC" != 0 ] && [ "$NSH_EXIT_RC" != 77 ]; then
    rm -f "$T"/*.bin "$T"/*/*.bin   # keep the logs, not the data
    echo "--- test failed (rc=$NSH_EXIT_RC); logs in $T:" >&2
    for f in "$T"/*.log "$T"/*.jsonl; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 12 "$f" >&2; }; done
  else
    rm -rf "$T"
  fi
}

# lan_init: the namespaces' hub, with multicast snooping off on its bridge. With snooping
# on (the default) and no IGMP querier on the segment, a group reaches a port only once the
# bridge has seen that port's unsolicited membership report; lan_transfer.sh passes that way
# too (measured: every receiver's join is reported at once), but off, the bridge floods
# multicast to every port as an unmanaged switch does, and no test depends on a report
# having been seen in time.
lan_init() {
  local rc=0
  nsh_init || rc=$?
  [ "$rc" = 0 ] || { rm -rf "$T"; exit "$rc"; }   # (no teardown trap when nsh_init refused early)
  command -v python3 >/dev/null || { nsh_log "skipped: python3 is not installed"; exit 77; }
  ip -n "$NSH_HUB" link set br0 type bridge mcast_snooping 0 || fail "cannot switch off multicast snooping on the bridge"
  # nsh_init's probe node is deleted with its namespace, and the kernel removes its veth end
  # in the hub (v1) asynchronously: the first node would then fail with "File exists".
  local i
  for ((i = 0; i < 100; i++)); do ip -n "$NSH_HUB" link show v1 >/dev/null 2>&1 || break; sleep 0.05; done
}

# wait_for LOG PATTERN SECONDS PID WHAT: until grep -q PATTERN LOG; fails if PID exits or time runs out.
wait_for() {
  local log=$1 pattern=$2 secs=$3 pid=$4 what=$5 i
  for ((i = 0; i < secs * 50; i++)); do
    grep -q -- "$pattern" "$log" 2>/dev/null && return 0
    [ -n "$pid" ] && ! nsh_running "$pid" && fail "$what: exited early: $(tail -n 3 "$log")"
    sleep 0.02
  done
  fail "$what: no '$pattern' within ${secs}s: $(tail -n 3 "$log")"
}

# lan_listener NODE OUT: the group listener (tests/tools/lan_listen.py) in NODE, recording into OUT;
# sets LISTENER_PID once it has joined.
lan_listener() {
  local node=$1 out=$2
  : >"$out"
  nsh_spawn "$node" "$out.log" python3 "$ROOT/tests/tools/lan_listen.py" --iface-addr "${NSH_ADDR[$node]}" --out "$out"
  LISTENER_PID=$NSH_PID
  wait_for "$out.log" ready 10 "$LISTENER_PID" "group listener in $node"
}

# datagrams_from OUT ADDR: how many datagrams OUT recorded from source ADDR.
datagrams_from() { grep -c "\"src\": \"$2\"" "$1" || true; }

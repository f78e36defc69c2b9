# Network-namespace swarm harness (sourced, not run): every process gets a network
# namespace of its own, joined to one bridge by a veth pair, its upload capped by the
# kernel (tbf on its veth's egress) instead of by the programs' own limiters.
#
#   source scripts/netns/harness.sh
#   nsh_init || exit $?                 # 77 (with a message) where namespaces cannot be made
#   nsh_node seed $((8 << 20))          # namespace + veth + address + 8 MiB/s upload cap
#   nsh_node d1 $((2 << 20)); nsh_node tracker 0   # 0 = uncapped
#   nsh_spawn seed LOG CMD...           # CMD in the background inside that namespace; sets NSH_PID
#   nsh_exec d1 CMD...                  # CMD in the foreground inside that namespace
#   echo "${NSH_ADDR[seed]}"            # the node's address (10.77.x.y)
#   nsh_teardown                        # also run by the EXIT/INT/TERM trap nsh_init installs
#
# Isolation: the bridge lives in a namespace of its own (the hub), not in the root
# namespace, so a run adds no interface, address or route outside the namespaces it
# created, and parallel runs (each with its own hub) can all use 10.77.0.0/16.
# Names carry a per-run prefix "p2pns-<pid>-<random>-"; a run killed with SIGKILL
# leaves its namespaces behind, and the next nsh_init removes those whose creator
# pid is gone (nsh_sweep_stale). Teardown stops every process still inside our
# namespaces (by pid, from `ip netns pids`), then deletes the namespaces, which
# deletes their veth ends and the bridge with them.

NSH_PREFIX=""
NSH_HUB=""
NSH_NODES=()          # node names, in creation order
NSH_BG=()             # pids started by nsh_spawn and not yet reaped
NSH_NEXT_HOST=1
declare -gA NSH_ADDR=() NSH_NS=() NSH_RATE=()
: "${NSH_SUBNET:=10.77}"   # first two octets; nodes are NSH_SUBNET.x.y/16

nsh_log() { printf 'netns: %s\n' "$*" >&2; }

# nsh_sweep_stale: deletes namespaces named p2pns-<pid>-* whose creator pid no longer runs
# (left by a run that was SIGKILLed before its trap could clean up).
nsh_sweep_stale() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^p2pns-[0-9]*-' || true); do
    pid=${ns#p2pns-}; pid=${pid%%-*}
    [ -d "/proc/$pid" ] && continue
    nsh_kill_ns_pids "$ns" KILL
    ip netns del "$ns" 2>/dev/null && nsh_log "removed stale namespace $ns"
  done
}

# nsh_init: checks that namespaces, veth, bridges and tbf work here; creates the hub
# with its bridge and installs the cleanup trap. Returns 77 with a message otherwise.
nsh_init() {
  local tool
  for tool in ip tc; do
    command -v "$tool" >/dev/null || { nsh_log "skipped: '$tool' (iproute2) is not installed"; return 77; }
  done
  if [ "$(id -u)" != 0 ]; then nsh_log "skipped: network namespaces need root"; return 77; fi
  nsh_sweep_stale
  NSH_PREFIX="p2pns-$$-$(printf '%04x' $((RANDOM % 65536)))-"
  NSH_HUB=${NSH_PREFIX}hub
  trap 'nsh_teardown' EXIT
  trap 'exit 130' INT TERM
  if ! ip netns add "$NSH_HUB" 2>/dev/null; then
    NSH_HUB=""
    nsh_log "skipped: cannot create a network namespace here (ip netns add failed: no CAP_SYS_ADMIN, or no netns support)"
    return 77
  fi
  if ! { ip -n "$NSH_HUB" link set lo up && ip -n "$NSH_HUB" link add br0 type bridge &&
         ip -n "$NSH_HUB" link set br0 up; } 2>/dev/null; then
    nsh_log "skipped: cannot create a bridge inside a network namespace"
    return 77
  fi
  # Probe a capped node once, so that a kernel without veth or tbf is a skip, not a failure.
  if ! nsh_node probe $((1 << 20)) 2>/dev/null; then
    nsh_log "skipped: veth pairs or the tbf qdisc are not available in this kernel"
    return 77
  fi
  nsh_remove_node probe   # its host number is not reused (see nsh_remove_node)
  return 0
}

# nsh_node NAME RATE_BYTES_PER_S: a namespace with lo up and eth0 (a veth into the hub's
# bridge) at the next address; egress of eth0 shaped to RATE (0 = uncapped).
nsh_node() {
  local name=$1 rate=$2 ns host addr
  [ -n "$NSH_HUB" ] || { nsh_log "nsh_node before nsh_init"; return 1; }
  [ -z "${NSH_NS[$name]:-}" ] || { nsh_log "node $name exists"; return 1; }
  ns=${NSH_PREFIX}$name
  host=$NSH_NEXT_HOST
  addr="$NSH_SUBNET.$((host / 250)).$((host % 250 + 1))"
  ip netns add "$ns" || return 1
  NSH_NS[$name]=$ns
  NSH_NODES+=("$name")
  NSH_NEXT_HOST=$((host + 1))
  # Both ends are created directly inside their namespaces: nothing appears in the root one.
  ip -n "$NSH_HUB" link add "v$host" type veth peer name eth0 netns "$ns" || return 1
  ip -n "$NSH_HUB" link set "v$host" master br0 up || return 1
  ip -n "$ns" link set lo up || return 1
  ip -n "$ns" addr add "$addr/16" dev eth0 || return 1
  ip -n "$ns" link set eth0 up || return 1
  if [ "$rate" -gt 0 ]; then
    nsh_shape "$name" "$rate" || return 1
  fi
  NSH_ADDR[$name]=$addr
  NSH_RATE[$name]=$rate
}

# nsh_shape NAME RATE_BYTES_PER_S: (re)sets the upload cap of a node with tbf.
# burst: at least one 64 KiB GSO segment plus 10 ms at the rate, so that the bucket never
# splits or stalls segments; latency 100 ms bounds the queue (a home router's buffer).
nsh_shape() {
  local name=$1 rate=$2 burst
  burst=$((rate / 100 + 65536 + 1514))
  tc -n "${NSH_NS[$name]}" qdisc replace dev eth0 root tbf rate "$((rate * 8))bit" burst "$burst" latency 100ms
}

# nsh_spawn NAME LOG CMD...: runs CMD inside NAME's namespace in the background, output to
# LOG; sets NSH_PID (the program's own pid: ip netns exec execs it).
nsh_spawn() {
  local name=$1 log=$2; shift 2
  ip netns exec "${NSH_NS[$name]}" "$@" >"$log" 2>&1 &
  NSH_PID=$!
  NSH_BG+=("$NSH_PID")
}

# nsh_exec NAME CMD...: runs CMD inside NAME's namespace in the foreground.
nsh_exec() {
  local name=$1; shift
  ip netns exec "${NSH_NS[$name]}" "$@"
}

nsh_running() {  # nsh_running PID: alive and not a zombie
  local st
  st=$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# nsh_stop GRACE PID...: SIGTERM, up to GRACE seconds, then SIGKILL; reaps them.
nsh_stop() {
  local grace=$1 p i alive; shift
  [ $# -gt 0 ] || return 0
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < grace * 20; i++)); do
    alive=0
    for p in "$@"; do nsh_running "$p" && alive=1 && break; done
    [ "$alive" = 0 ] && break
    sleep 0.05
  done
  for p in "$@"; do nsh_running "$p" && kill -KILL "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
  local kept=() q
  for q in "${NSH_BG[@]}"; do
    for p in "$@"; do [ "$q" = "$p" ] && continue 2; done
    kept+=("$q")
  done
  NSH_BG=("${kept[@]}")
}

# nsh_kill_ns_pids NS SIGNAL: signals every process inside namespace NS, one pid at a time.
nsh_kill_ns_pids() {
  local p
  for p in $(ip netns pids "$1" 2>/dev/null); do kill -"$2" "$p" 2>/dev/null || true; done
}

# nsh_remove_node NAME: stops what runs in it and deletes it (its veth goes with it).
nsh_remove_node() {
  local name=$1 ns=${NSH_NS[$1]:-} i
  [ -n "$ns" ] || return 0
  nsh_kill_ns_pids "$ns" TERM
  for ((i = 0; i < 40; i++)); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.05; done
  nsh_kill_ns_pids "$ns" KILL
  # Deleting a namespace frees its interfaces later, in the kernel's cleanup work: the
  # hub-side veth end could still exist when the next node asks for its name ("File
  # exists"). Deleting the links first is synchronous; host numbers are never reused either.
  local link
  for link in $(ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
    [ "$link" = lo ] || ip -n "$ns" link del "$link" 2>/dev/null || true
  done
  ip netns del "$ns" 2>/dev/null || true
  unset "NSH_NS[$name]" "NSH_ADDR[$name]"
  local kept=() n
  for n in "${NSH_NODES[@]}"; do [ "$n" != "$name" ] && kept+=("$n"); done
  NSH_NODES=("${kept[@]}")
}

# nsh_teardown: every process we started, every namespace (and so every link) we made.
# Safe to call twice; keeps the exit status of the script.
nsh_teardown() {
  local rc=$? n
  [ ${#NSH_BG[@]} -gt 0 ] && nsh_stop 3 "${NSH_BG[@]}"
  for n in "${NSH_NODES[@]}"; do nsh_remove_node "$n"; done
  if [ -n "$NSH_HUB" ]; then
    ip netns del "$NSH_HUB" 2>/dev/null || true
    NSH_HUB=""
  fi
  # A script may define nsh_on_teardown (logs, scratch files); NSH_EXIT_RC is the exit status.
  NSH_EXIT_RC=$rc
  if declare -f nsh_on_teardown >/dev/null; then nsh_on_teardown || true; fi
  return $rc
}

# nsh_leftovers: prints this run's namespaces still present (for tests asserting cleanup).
nsh_leftovers() { ip netns list 2>/dev/null | awk '{print $1}' | grep -F -- "$1" || true; }

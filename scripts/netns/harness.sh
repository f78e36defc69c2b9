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
#
# Delay (round trips; this kernel has neither netem nor fq, so it comes from user space):
#   NSH_RELAY=build/bin/delay_relay     # tests/tools/delay_relay.cpp (default: $BIN/delay_relay)
#   nsh_delay seed d1 100               # every TCP connection between seed and d1: RTT 100 ms
#   nsh_delay seed d1 0                 # still through the relays, at no delay (RTT-0 baselines)
#   nsh_undelay seed d1                 # direct again
# MS is the round trip: each direction of the bytes is delayed MS/2. Transparent: programs
# (p2p-share, aria2c, libtorrent) dial the peer's real 10.77.x.y address. In A's namespace an
# nftables rule (table ip nsh_delay, nat output hook) sends every new TCP connection to B's
# address (`ip daddr B meta l4proto tcp meta mark != NSH_DELAY_MARK`) to 127.0.0.1:PORT of a
# delay_relay --transparent running in A's namespace (route_localnet=1 there), which looks up
# the original destination (SO_ORIGINAL_DST), dials it with SO_MARK NSH_DELAY_MARK (so its own
# connection skips the rule) and forwards each direction MS/2 late; the same in B's namespace
# for connections B makes to A. So each connection crosses exactly one relay, in the
# namespace of the side that dialled it, whichever side that is. UDP is not delayed.
# One relay process per ordered pair; nsh_delay again replaces them (open connections are
# reset). Each relay holds at most NSH_DELAY_BUFFER bytes per direction and connection
# (default 64 MiB): a ceiling of NSH_DELAY_BUFFER / (MS/2) on one direction's throughput.
# With NSH_DELAY_STATS=1 the relays print a JSON line per closed connection (bytes each way,
# when each MiB was delivered) to NSH_DELAY_LOG[A>B] (A's relay, connections A made to B).
# What this models: a long path's delay as the programs see it (request windows, handshakes,
# choking rounds). It does not model TCP itself over a long path: the relay terminates TCP on
# both sides, so each kernel connection has a sub-millisecond RTT (congestion control and
# loss recovery run at that RTT, socket buffers need not hold the bandwidth-delay product)
# and the in-flight bytes sit in the relay instead.
# Shallow queues: nsh_shape NAME RATE QUEUE_MS gives tbf a queue of QUEUE_MS (default 100)
# before it drops, e.g. 5 for a bottleneck that drops rather than buffers.

NSH_PREFIX=""
NSH_HUB=""
NSH_NODES=()          # node names, in creation order
NSH_BG=()             # pids started by nsh_spawn and not yet reaped
NSH_NEXT_HOST=1
declare -gA NSH_ADDR=() NSH_NS=() NSH_RATE=()
declare -gA NSH_DELAY_PID=() NSH_DELAY_LOG=() NSH_DELAY_RTT=()   # keyed "A>B"
NSH_DELAY_DIR=""      # relay logs (made by the first nsh_delay, removed by nsh_teardown)
: "${NSH_DELAY_MARK:=0x7d1}" "${NSH_DELAY_BUFFER:=$((64 << 20))}" "${NSH_DELAY_STATS:=0}"
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

# nsh_shape NAME RATE_BYTES_PER_S [QUEUE_MS]: (re)sets the upload cap of a node with tbf.
# burst: at least one 64 KiB GSO segment plus 10 ms at the rate, so that the bucket never
# splits or stalls segments; latency QUEUE_MS (default 100 ms, a home router's buffer) bounds
# the queue: packets that would wait longer are dropped (5 ms: a shallow, dropping bottleneck).
nsh_shape() {
  local name=$1 rate=$2 queue_ms=${3:-100} burst
  burst=$((rate / 100 + 65536 + 1514))
  tc -n "${NSH_NS[$name]}" qdisc replace dev eth0 root tbf rate "$((rate * 8))bit" burst "$burst" latency "${queue_ms}ms"
}

# nsh_delay A B RTT_MS: every TCP connection between nodes A and B (dialled by either) gets a
# round trip of RTT_MS (RTT_MS/2 each way) through delay relays (see the top of this file).
# Replaces an earlier nsh_delay of the pair. Returns 77 with a message where nft or the relay
# is missing, 1 on other failures.
nsh_delay() {
  local a=$1 b=$2 rtt=$3 half
  command -v nft >/dev/null || { nsh_log "skipped: 'nft' (nftables) is not installed"; return 77; }
  local relay=${NSH_RELAY:-${BIN:-}/delay_relay}
  [ -x "$relay" ] || { nsh_log "nsh_delay: no delay relay at '$relay' (set NSH_RELAY)"; return 77; }
  [ -n "${NSH_ADDR[$a]:-}" ] && [ -n "${NSH_ADDR[$b]:-}" ] || { nsh_log "nsh_delay: unknown node $a or $b"; return 1; }
  if [ -z "$NSH_DELAY_DIR" ]; then NSH_DELAY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/p2pns-delay.XXXXXX") || return 1; fi
  nsh_undelay "$a" "$b"
  half=$(awk -v r="$rtt" 'BEGIN { printf "%.3f", r / 2 }')
  nsh_delay_one "$a" "$b" "$half" "$relay" && nsh_delay_one "$b" "$a" "$half" "$relay" || return 1
  NSH_DELAY_RTT["$a>$b"]=$rtt
  NSH_DELAY_RTT["$b>$a"]=$rtt
}

# nsh_delay_one A B HALF_MS RELAY: a relay in A's namespace for the connections A dials to B.
nsh_delay_one() {
  local a=$1 b=$2 half=$3 relay=$4 ns=${NSH_NS[$1]} log port i pid stats=()
  log=$NSH_DELAY_DIR/$a-$b.log
  [ "$NSH_DELAY_STATS" = 1 ] && stats=(--stats)
  rm -f "$log"   # an earlier relay of this pair wrote its (now closed) port there
  ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.lo.route_localnet=1 || return 1
  ip netns exec "$ns" "$relay" --listen 127.0.0.1:0 --transparent --mark "$NSH_DELAY_MARK" --delay-ms "$half" \
    --buffer-bytes "$NSH_DELAY_BUFFER" "${stats[@]}" >"$log" 2>&1 &
  pid=$!
  NSH_BG+=("$pid")
  NSH_DELAY_PID["$a>$b"]=$pid
  NSH_DELAY_LOG["$a>$b"]=$log
  for ((i = 0; i < 200; i++)); do
    port=$(sed -n '1s/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log" 2>/dev/null || true)
    [ -n "$port" ] && break
    nsh_running "$pid" || { nsh_log "nsh_delay: relay $a>$b exited: $(head -c 300 "$log")"; return 1; }
    sleep 0.02
  done
  [ -n "$port" ] || { nsh_log "nsh_delay: relay $a>$b did not start"; return 1; }
  # One table per namespace; one rule per peer, found again by its comment.
  ip netns exec "$ns" nft -f - <<EOF || { nsh_log "nsh_delay: nft rules refused in $a"; return 1; }
table ip nsh_delay {
  chain out {
    type nat hook output priority -100; policy accept;
  }
}
add rule ip nsh_delay out ip daddr ${NSH_ADDR[$b]} meta l4proto tcp meta mark != $NSH_DELAY_MARK dnat to 127.0.0.1:$port comment "nsh-to-$b"
EOF
}

# nsh_undelay A B: removes the delay between A and B (rules and relays); a no-op if none.
nsh_undelay() {
  local a=$1 b=$2 x y h
  for x in "$a>$b" "$b>$a"; do
    [ -n "${NSH_DELAY_PID[$x]:-}" ] || continue
    y=${x#*>}
    h=$(ip netns exec "${NSH_NS[${x%%>*}]}" nft -a list chain ip nsh_delay out 2>/dev/null |
      sed -n "s/.*comment \"nsh-to-$y\" # handle \([0-9]*\).*/\1/p")
    for h in $h; do ip netns exec "${NSH_NS[${x%%>*}]}" nft delete rule ip nsh_delay out handle "$h" || true; done
    nsh_stop 3 "${NSH_DELAY_PID[$x]}"
    unset "NSH_DELAY_PID[$x]" "NSH_DELAY_RTT[$x]"
  done
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
  # Builtins only (no fork): benches call this for every process of a swarm each second,
  # and a sed per call cost 32-process runs ~5 % of the machine's CPU.
  local line st
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
  st=${line##*) }
  st=${st:0:1}
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
  NSH_DELAY_PID=()
  for n in "${NSH_NODES[@]}"; do nsh_remove_node "$n"; done
  if [ -n "$NSH_HUB" ]; then
    ip netns del "$NSH_HUB" 2>/dev/null || true
    NSH_HUB=""
  fi
  # A script may define nsh_on_teardown (logs, scratch files); NSH_EXIT_RC is the exit status.
  NSH_EXIT_RC=$rc
  if declare -f nsh_on_teardown >/dev/null; then nsh_on_teardown || true; fi
  if [ -n "$NSH_DELAY_DIR" ]; then rm -rf "$NSH_DELAY_DIR"; NSH_DELAY_DIR=""; fi
  return $rc
}

# nsh_leftovers: prints this run's namespaces still present (for tests asserting cleanup).
nsh_leftovers() { ip netns list 2>/dev/null | awk '{print $1}' | grep -F -- "$1" || true; }

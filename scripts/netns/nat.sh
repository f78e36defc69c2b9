# NAT topologies in network namespaces (sourced after scripts/netns/harness.sh, after
# nsh_init): a public network, home gateways that masquerade like Linux home routers, hosts
# behind them, and Debian's miniupnpd on a gateway for UPnP-IGD / NAT-PMP port mapping.
#
#   source scripts/netns/harness.sh; source scripts/netns/nat.sh
#   nsh_init || exit $?; nat_init || exit $?     # 77 (with a message) where nft is missing
#   nat_public tracker                  # a host on the public network 198.20.0.0/24
#   nat_gateway gw1 keep                # a home router: WAN 198.20.0.x, LAN 192.168.1.0/24
#   nat_host home1 gw1                  # 192.168.1.2, default route via gw1
#   nat_upnp gw1 both || exit $?        # miniupnpd on gw1's LAN: natpmp | upnp | both
#   nat_upnp gw1 upnp deny              # ... refusing every mapping (a router with UPnP locked)
#   nsh_spawn home1 LOG CMD...          # the harness's calls work on these nodes too
#   echo "${NSH_ADDR[gw1]} ${NAT_LAN_ADDR[gw1]}"   # 198.20.0.x (WAN), 192.168.1.1 (LAN)
#   nsh_shape home1 $((2 << 20))        # upload cap of a host (public or home: its link is eth0)
#   nat_shape_wan gw1 $((1 << 20))      # a home's uplink: cap on what leaves the gateway's WAN
#
# The public network is a second bridge (pub0) in the harness's hub namespace, so nothing is
# added outside the namespaces of this run. Its range, 198.20.0.0/24, looks public on
# purpose: miniupnpd refuses to map when its outside address is private or reserved
# (198.18.0.0/15 and the documentation ranges are), and it never leaves our namespaces.
#
# A gateway (MODE keep: nft `masquerade`, which keeps the source port when it is free, as
# Linux home routers do; MODE random: `masquerade random`, a symmetric NAT that picks a new
# port per mapping) DROPS unsolicited inbound packets like a real home router: packets that
# arrive on its WAN interface in conntrack state new or invalid are dropped in input and in
# forward, except what miniupnpd's chain accepts (a port it mapped). Everything lives in one
# nft table, `inet filter`, with the three chains miniupnpd fills (`miniupnpd` jumped to from
# forward, `prerouting_miniupnpd` from nat prerouting, `postrouting_miniupnpd` from nat
# postrouting), each jumped to before any drop. Debian's /etc/miniupnpd/nft_init.sh would
# create them but sources a file the package does not ship, hence the rules here.
#
# Cleanup is the harness's: every node made here is in NSH_NODES, so nsh_teardown stops
# what runs inside (miniupnpd too) and deletes the namespaces (their veths and bridges go
# with them). nat_init extends the harness's EXIT trap to remove NAT_DIR (miniupnpd's
# config, pid file and log) after that.

NAT_NEXT_PUB=1         # next 198.20.0.x
NAT_NEXT_LAN=1         # next home LAN number N (192.168.N.0/24)
NAT_DIR=""
declare -gA NAT_LAN_ADDR=() NAT_LAN_NET=() NAT_LAN_NEXT=() NAT_GW_OF=() NAT_UPNP_PID=()

# nat_init: checks for nft; makes the public bridge in the hub and a scratch folder.
nat_init() {
  [ -n "$NSH_HUB" ] || { nsh_log "nat_init before nsh_init"; return 1; }
  command -v nft >/dev/null || { nsh_log "skipped: 'nft' (nftables) is not installed"; return 77; }
  ip -n "$NSH_HUB" link add pub0 type bridge || return 1
  ip -n "$NSH_HUB" link set pub0 type bridge mcast_snooping 0 || return 1
  ip -n "$NSH_HUB" link set pub0 up || return 1
  NAT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/p2p-nat.XXXXXX")
  trap 'nsh_teardown; nat_teardown_files' EXIT
  return 0
}

nat_teardown_files() { [ -n "$NAT_DIR" ] && rm -rf "$NAT_DIR"; NAT_DIR=""; }

# nat__ns NAME: creates namespace NAME (registered with the harness) with lo up.
nat__ns() {
  local name=$1 ns
  [ -z "${NSH_NS[$name]:-}" ] || { nsh_log "node $name exists"; return 1; }
  ns=${NSH_PREFIX}$name
  ip netns add "$ns" || return 1
  NSH_NS[$name]=$ns
  NSH_NODES+=("$name")
  ip -n "$ns" link set lo up
}

# nat__pub_leg NAME IFNAME: a veth from NAME's namespace (named IFNAME there) into pub0 with
# the next 198.20.0.x; sets NSH_ADDR[NAME].
nat__pub_leg() {
  local name=$1 ifname=$2 ns=${NSH_NS[$1]} x
  x=$NAT_NEXT_PUB
  [ "$x" -le 250 ] || { nsh_log "public network full"; return 1; }
  NAT_NEXT_PUB=$((x + 1))
  ip -n "$NSH_HUB" link add "p$x" type veth peer name "$ifname" netns "$ns" || return 1
  ip -n "$NSH_HUB" link set "p$x" master pub0 up || return 1
  ip -n "$ns" addr add "198.20.0.$x/24" dev "$ifname" || return 1
  ip -n "$ns" link set "$ifname" up || return 1
  NSH_ADDR[$name]=198.20.0.$x
}

# nat_public NAME: a host on the public network (eth0, 198.20.0.x/24, no default route:
# the public network is all there is).
nat_public() {
  nat__ns "$1" || return 1
  nat__pub_leg "$1" eth0
}

# nat_gateway GW MODE: a home router. WAN leg "wan" on the public network; LAN bridge "lan0"
# (multicast snooping off, so SSDP's multicast reaches miniupnpd) with 192.168.N.1/24;
# forwarding on; masquerade out of wan (MODE keep or random); unsolicited inbound dropped.
nat_gateway() {
  local gw=$1 mode=$2 ns n masq
  case $mode in
    keep) masq="masquerade" ;;
    random) masq="masquerade random" ;;
    *) nsh_log "nat_gateway $gw: MODE must be keep or random, not '$mode'"; return 1 ;;
  esac
  nat__ns "$gw" || return 1
  ns=${NSH_NS[$gw]}
  nat__pub_leg "$gw" wan || return 1
  n=$NAT_NEXT_LAN; NAT_NEXT_LAN=$((n + 1))
  ip -n "$ns" link add lan0 type bridge || return 1
  ip -n "$ns" link set lan0 type bridge mcast_snooping 0 || return 1
  ip -n "$ns" addr add "192.168.$n.1/24" dev lan0 || return 1
  ip -n "$ns" link set lan0 up || return 1
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 || return 1
  NAT_LAN_ADDR[$gw]=192.168.$n.1
  NAT_LAN_NET[$gw]=192.168.$n
  NAT_LAN_NEXT[$gw]=2
  # The miniupnpd chains come first in their hooks; the drops come after them.
  ip netns exec "$ns" nft -f - <<EOF || { nsh_log "nat_gateway $gw: nft rules refused"; return 1; }
table inet filter {
  chain miniupnpd { }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    iifname "wan" ct state { new, invalid } counter drop
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    jump miniupnpd
    iifname "wan" ct state { new, invalid } counter drop
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    jump postrouting_miniupnpd
    oifname "wan" $masq
  }
}
EOF
}

# nat_host NAME GW: a host on GW's home LAN (eth0, 192.168.N.k/24, default route via GW).
nat_host() {
  local name=$1 gw=$2 ns gwns k addr
  [ -n "${NAT_LAN_NET[$gw]:-}" ] || { nsh_log "nat_host $name: no gateway $gw"; return 1; }
  nat__ns "$name" || return 1
  ns=${NSH_NS[$name]}; gwns=${NSH_NS[$gw]}
  k=${NAT_LAN_NEXT[$gw]}; NAT_LAN_NEXT[$gw]=$((k + 1))
  addr=${NAT_LAN_NET[$gw]}.$k
  ip -n "$gwns" link add "h$k" type veth peer name eth0 netns "$ns" || return 1
  ip -n "$gwns" link set "h$k" master lan0 up || return 1
  ip -n "$ns" addr add "$addr/24" dev eth0 || return 1
  ip -n "$ns" link set eth0 up || return 1
  ip -n "$ns" route add default via "${NAT_LAN_ADDR[$gw]}" || return 1
  NSH_ADDR[$name]=$addr
  NAT_GW_OF[$name]=$gw
}

# nat_shape_wan GW RATE_BYTES_PER_S: caps what leaves GW's WAN leg (the home's upload), with
# the same tbf parameters as the harness's nsh_shape.
nat_shape_wan() {
  local gw=$1 rate=$2 burst
  burst=$((rate / 100 + 65536 + 1514))
  tc -n "${NSH_NS[$gw]}" qdisc replace dev wan root tbf rate "$((rate * 8))bit" burst "$burst" latency 100ms
}

# nat_upnp GW PROTOCOLS [POLICY]: Debian's miniupnpd (nftables build) on GW's LAN, PROTOCOLS
# natpmp, upnp or both; outside address = GW's WAN address. POLICY allow (default: LAN hosts
# may map ports 1024-65535 to themselves) or deny (every request refused; UPnP answers with an
# error at once, but miniupnpd's NAT-PMP tries every other port before it answers — minutes,
# during which it serves nothing else — so use deny with upnp). Returns 77 when miniupnpd is
# not installed.
# Sets NAT_UPNP_PID[GW]. Waits until it listens (NAT-PMP: udp 5351; UPnP: its HTTP port).
nat_upnp() {
  local gw=$1 protos=$2 policy=${3:-allow} ns conf natpmp=no upnp=no i allow
  command -v miniupnpd >/dev/null ||
    { nsh_log "skipped: 'miniupnpd' (miniupnpd-nftables) is not installed"; return 77; }
  case $protos in
    natpmp) natpmp=yes ;; upnp) upnp=yes ;; both) natpmp=yes; upnp=yes ;;
    *) nsh_log "nat_upnp $gw: PROTOCOLS must be natpmp, upnp or both, not '$protos'"; return 1 ;;
  esac
  case $policy in
    allow) allow="allow 1024-65535 ${NAT_LAN_NET[$gw]}.0/24 1024-65535" ;;
    deny) allow="" ;;
    *) nsh_log "nat_upnp $gw: POLICY must be allow or deny, not '$policy'"; return 1 ;;
  esac
  ns=${NSH_NS[$gw]}
  # A gateway runs one miniupnpd: a new one replaces the old, and starts with no mappings
  # (as a router does after a restart; miniupnpd leaves its rules behind when it stops).
  [ -n "${NAT_UPNP_PID[$gw]:-}" ] && nsh_stop 3 "${NAT_UPNP_PID[$gw]}"
  unset "NAT_UPNP_PID[$gw]"
  ip netns exec "$ns" nft flush chain inet filter miniupnpd &&
    ip netns exec "$ns" nft flush chain inet filter prerouting_miniupnpd &&
    ip netns exec "$ns" nft flush chain inet filter postrouting_miniupnpd || return 1
  conf=$NAT_DIR/miniupnpd-$gw.conf
  # secure_mode: a LAN host may map only to itself. The uuid only has to be unique per run.
  cat >"$conf" <<EOF
ext_ifname=wan
ext_ip=${NSH_ADDR[$gw]}
listening_ip=lan0
http_port=0
enable_natpmp=$natpmp
enable_upnp=$upnp
secure_mode=yes
system_uptime=yes
notify_interval=60
clean_ruleset_interval=600
uuid=3b4e7a6c-0000-4000-8000-$(printf '%012x' $(( $$ * 1000 + NAT_NEXT_LAN )))
upnp_table_name=filter
upnp_nat_table_name=filter
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
$allow
deny 0-65535 0.0.0.0/0 0-65535
EOF
  # -d: foreground, log to stderr; -P: a pid file of our own, so parallel runs never share one.
  nsh_spawn "$gw" "$NAT_DIR/miniupnpd-$gw.log" miniupnpd -d -f "$conf" -P "$NAT_DIR/miniupnpd-$gw.pid"
  NAT_UPNP_PID[$gw]=$NSH_PID
  for ((i = 0; i < 100; i++)); do
    nsh_running "$NSH_PID" || break
    if [ "$natpmp" = yes ]; then
      ip netns exec "$ns" ss -Hlun 'sport = :5351' | grep -q . && return 0
    elif ip netns exec "$ns" ss -Hltnp | grep -q miniupnpd; then
      return 0
    fi
    sleep 0.05
  done
  nsh_log "nat_upnp $gw: miniupnpd did not start: $(tail -n 3 "$NAT_DIR/miniupnpd-$gw.log" 2>/dev/null | tr '\n' ' ')"
  return 1
}

# nat_upnp_stop GW: stops GW's miniupnpd (its mappings stay in nft until the next nat_upnp).
nat_upnp_stop() {
  [ -n "${NAT_UPNP_PID[$1]:-}" ] && nsh_stop 3 "${NAT_UPNP_PID[$1]}"
  unset "NAT_UPNP_PID[$1]"
}

# nat_upnp_log GW: miniupnpd's log on GW (for a failing test's output).
nat_upnp_log() { cat "$NAT_DIR/miniupnpd-$1.log" 2>/dev/null; }

# nat_mappings GW: the port mappings miniupnpd holds now, one nft rule per line
# (from its forward chain: one accept rule per mapped port).
nat_mappings() {
  ip netns exec "${NSH_NS[$1]}" nft list chain inet filter miniupnpd 2>/dev/null | grep -E 'dport [0-9]+' || true
}

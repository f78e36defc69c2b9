// LAN discovery: the sockets. One receiving socket per family (bound to the group's
// port, joined on every multicast-capable non-loopback interface) and one sending
// socket per family (the outgoing interface set before each send, TTL / hops 1).
#include "swarm/lan_discovery.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/multicast.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/core.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>

#include "net/use_tuple.hpp"

#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29  // linux/in6.h (4.20+); glibc's netinet/in.h lacks it
#endif

namespace p2p {

using asio::ip::udp;
using Clock = std::chrono::steady_clock;

namespace {
// Interfaces we join and send on; a host with more (containers, VPNs) uses the first ones.
constexpr std::size_t kMaxInterfaces = 32;
// After a receive error (e.g. ENOBUFS), pause this long: never spin on a failing socket.
constexpr auto kReceiveErrorPause = std::chrono::milliseconds(100);

const asio::ip::address_v4 kGroup4 = asio::ip::make_address_v4(lan::kGroupV4);
const asio::ip::address_v6 kGroup6 = asio::ip::make_address_v6(lan::kGroupV6);

lan::NodeId random_node_id() {
  std::random_device rd;
  lan::NodeId id{};
  for (auto& b : id) b = static_cast<std::uint8_t>(rd());
  return id;
}
}  // namespace

LanScope LanScope::for_listen_host(const std::string& host) {
  LanScope s;
  std::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return s;
  if (addr.is_v6()) {
    // "::" accepts IPv4 too (dual stack); a specific IPv6 address only IPv6.
    s.v6 = true;
    s.v4 = addr.is_unspecified();
  } else if (!addr.is_unspecified()) {
    s.only_v4 = addr.to_v4();
  }
  return s;
}

LanDiscovery::LanDiscovery(asio::io_context& io, std::uint16_t tcp_port, LanScope scope, LanHooks hooks)
    : io_(io), tcp_port_(tcp_port), scope_(scope), hooks_(std::move(hooks)), node_(random_node_id()), timer_(io),
      intake_(Clock::now()), answers_(Clock::now()) {}

LanDiscovery::~LanDiscovery() { stop(); }

std::vector<LanDiscovery::Iface> LanDiscovery::scan_interfaces() const {
  std::vector<Iface> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  std::map<std::string, Iface> by_name;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || !a->ifa_name) continue;
    unsigned flags = a->ifa_flags;
    if (!(flags & IFF_UP) || !(flags & IFF_MULTICAST) || (flags & IFF_LOOPBACK)) continue;
    auto& iface = by_name[a->ifa_name];
    iface.name = a->ifa_name;
    iface.index = ::if_nametoindex(a->ifa_name);
    if (a->ifa_addr->sa_family == AF_INET && !iface.v4) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      asio::ip::address_v4 v4(ntohl(sin->sin_addr.s_addr));
      if (!scope_.only_v4 || *scope_.only_v4 == v4) iface.v4 = v4;
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      iface.v6 = true;
    }
  }
  ::freeifaddrs(list);
  for (auto& [name, iface] : by_name) {
    if (out.size() >= kMaxInterfaces) break;
    if (iface.index != 0 && (iface.v4 || iface.v6)) out.push_back(std::move(iface));
  }
  return out;
}

// Joins the groups on interfaces that appeared since the last scan (a cable plugged in,
// a VPN up); an interface that went away took its memberships with it.
void LanDiscovery::refresh_interfaces() {
  ifaces_ = scan_interfaces();
  for (const auto& i : ifaces_) {
    std::error_code ec;
    if (rx4_ && i.v4 && !joined4_.contains(i.name)) {
      rx4_->set_option(asio::ip::multicast::join_group(kGroup4, *i.v4), ec);
      if (!ec || ec == std::errc::address_in_use) joined4_.insert(i.name);
    }
    if (rx6_ && i.v6 && !joined6_.contains(i.name)) {
      rx6_->set_option(asio::ip::multicast::join_group(kGroup6, i.index), ec);
      if (!ec || ec == std::errc::address_in_use) joined6_.insert(i.name);
    }
  }
}

bool LanDiscovery::start() {
  std::error_code ec;
  std::string problems;
  auto note = [&](const char* what) {
    problems += fmt::format("{}{}: {}", problems.empty() ? "" : "; ", what, ec.message());
    ec.clear();
  };
  // Receiving IPv4: bound to the group address, so only datagrams sent to our group arrive
  // (a socket bound to 0.0.0.0:port also gets other groups joined by anyone on the host).
  // SO_REUSEADDR: several nodes on one host each get a copy.
  rx4_.emplace(io_);
  rx4_->open(udp::v4(), ec);
  if (!ec) rx4_->set_option(udp::socket::reuse_address(true), ec);
  if (!ec) rx4_->bind(udp::endpoint(kGroup4, lan::kPort), ec);
  if (ec) rx4_.reset(), note("IPv4 receive socket");
  // Receiving IPv6: a link-local group cannot be bound without a scope, so bind :: and
  // switch off IPV6_MULTICAST_ALL (only groups this socket joined are delivered).
  rx6_.emplace(io_);
  rx6_->open(udp::v6(), ec);
  if (!ec) rx6_->set_option(asio::ip::v6_only(true), ec);
  if (!ec) rx6_->set_option(udp::socket::reuse_address(true), ec);
  if (!ec) {
    int off = 0;
    ::setsockopt(rx6_->native_handle(), IPPROTO_IPV6, IPV6_MULTICAST_ALL, &off, sizeof off);  // older kernels: all groups
    rx6_->bind(udp::endpoint(udp::v6(), lan::kPort), ec);
  }
  if (ec) rx6_.reset(), note("IPv6 receive socket");
  // Sending: never past the first router (TTL / hops 1); looped back so that two nodes on
  // one host hear each other (each ignores its own by node id). Non-blocking: a full
  // send buffer drops a datagram instead of stalling the io thread.
  if (scope_.v4) {
    tx4_.emplace(io_);
    tx4_->open(udp::v4(), ec);
    if (!ec) tx4_->bind(udp::endpoint(udp::v4(), 0), ec);  // its port now: our looped-back datagrams are known by it
    if (!ec) tx4_->set_option(asio::ip::multicast::hops(1), ec);
    if (!ec) tx4_->non_blocking(true, ec);
    if (ec) tx4_.reset(), note("IPv4 send socket");
  }
  if (scope_.v6) {
    tx6_.emplace(io_);
    tx6_->open(udp::v6(), ec);
    if (!ec) tx6_->set_option(asio::ip::v6_only(true), ec);
    if (!ec) tx6_->bind(udp::endpoint(udp::v6(), 0), ec);
    if (!ec) tx6_->set_option(asio::ip::multicast::hops(1), ec);
    if (!ec) tx6_->non_blocking(true, ec);
    if (ec) tx6_.reset(), note("IPv6 send socket");
  }
  refresh_interfaces();
  if ((!rx4_ && !rx6_) || (!tx4_ && !tx6_)) {
    hooks_.notice(fmt::format("LAN discovery off: {}", problems.empty() ? "no usable socket" : problems));
    stop();
    return false;
  }
  std::string names;
  for (const auto& i : ifaces_) names += (names.empty() ? "" : ", ") + i.name;
  hooks_.notice(fmt::format("LAN discovery on {}:{}{} via {}", lan::kGroupV4, lan::kPort,
                            tx6_ ? fmt::format(" and [{}]:{}", lan::kGroupV6, lan::kPort) : std::string(),
                            names.empty() ? "no interface yet" : names));
  counters_.on = true;
  if (rx4_) asio::co_spawn(io_, receive_loop(*rx4_), asio::detached);
  if (rx6_) asio::co_spawn(io_, receive_loop(*rx6_), asio::detached);
  plan_.start(Clock::now());
  asio::co_spawn(io_, announce_loop(), asio::detached);
  return true;
}

void LanDiscovery::stop() {
  if (stopped_) return;
  stopped_ = true;
  counters_.on = false;
  std::error_code ec;
  for (auto* s : {&rx4_, &rx6_, &tx4_, &tx6_})
    if (*s) (*s)->close(ec);  // pending receives complete with operation_aborted; leaving closes memberships
  timer_.cancel();
}

void LanDiscovery::swarm_added(const Digest& id) {
  if (stopped_) return;
  plan_.added(id, Clock::now());
  timer_.cancel();  // the announce loop recomputes when it is due
}

asio::awaitable<void> LanDiscovery::receive_loop(udp::socket& socket) {
  // One byte more than the largest valid datagram: a longer one arrives truncated at this
  // size and is refused as too large, never parsed.
  std::array<char, lan::kMaxDatagramBytes + 1> buf{};
  while (!stopped_) {
    udp::endpoint from;
    auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buf), from, kUseTuple);
    if (stopped_ || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      asio::steady_timer pause(io_, kReceiveErrorPause);
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    handle(std::string_view(buf.data(), n), from);
  }
}

asio::awaitable<void> LanDiscovery::announce_loop() {
  while (!stopped_) {
    timer_.expires_at(plan_.next_due());
    co_await timer_.async_wait(kUseTuple);  // cancelled by swarm_added() or stop()
    if (stopped_) co_return;
    auto now = Clock::now();
    if (plan_.next_due() > now) continue;
    auto ids = plan_.take_due(now, hooks_.our_swarms());
    if (ids.empty()) continue;
    refresh_interfaces();
    send(lan::Kind::announce, ids);
  }
}

// Our own datagram, looped back (loopback stays on so two nodes on one host hear each
// other): from our sending socket's port at one of our addresses. Known before the intake,
// so our own rounds never spend the limits of our address. (Spoofing this only hides a
// datagram from us; the node id check below catches the rest.)
bool LanDiscovery::from_us(const udp::endpoint& from) const {
  // IPv4 only: our interfaces' IPv6 addresses are not listed (the group is joined by index);
  // a looped-back IPv6 datagram is recognised by its node id instead, after the intake.
  if (!from.address().is_v4() || !tx4_) return false;
  std::error_code ec;
  if (tx4_->local_endpoint(ec).port() != from.port() || ec) return false;
  return std::any_of(ifaces_.begin(), ifaces_.end(), [&](const Iface& i) { return i.v4 && *i.v4 == from.address().to_v4(); });
}

void LanDiscovery::handle(std::string_view datagram, const udp::endpoint& from_endpoint) {
  ++counters_.datagrams_received;
  if (from_us(from_endpoint)) {
    ++counters_.own;
    return;
  }
  const auto from = from_endpoint.address();
  auto now = Clock::now();
  // The only address we ever dial is where the datagram came from: the payload names a
  // port, never a host, so a forged datagram can point us only at its (claimed) sender.
  // (The IPv6 socket is v6-only: no v4-mapped sources. A link-local source keeps its scope.)
  std::string ip = from.to_string();
  if (!intake_.admit(ip, now)) {
    counters_.dropped_per_source = intake_.counters().dropped_per_source;
    counters_.dropped_total = intake_.counters().dropped_total;
    return;
  }
  lan::Refusal why{};
  std::string detail;
  auto a = lan::decode(datagram, why, detail);
  if (!a) {
    ++counters_.refused;
    return;
  }
  if (a->node == node_) {
    ++counters_.own;
    return;
  }
  std::vector<Digest> ours;
  for (const auto& id : a->swarms)
    if (hooks_.in_swarm(id)) ours.push_back(id);
  if (ours.empty()) return;
  // Only announces naming our swarms claim a port: others cannot fill a source's slots.
  if (!claims_.claim(ip, a->port)) {
    counters_.ports_refused = claims_.refused();
    return;
  }
  for (const auto& id : ours) {
    ++counters_.hints;
    hooks_.learned(id, ip, a->port);
    if (stopped_) return;  // the hint ended the session (cannot today; cheap to be sure)
  }
  // Answer an announce (never an answer) naming swarms we are in, so a newcomer finds us
  // at once; paced per swarm and in all (lan_pacing), so forged announces cannot make us
  // send more than lan_limits::kMaxAnsweredSwarmsPerSecond ids a second.
  if (a->kind != lan::Kind::announce) return;
  auto answer = answers_.take(ours, now);
  counters_.answers_suppressed = answers_.suppressed();
  if (answer.empty()) return;
  ++counters_.answers_sent;
  send(lan::Kind::answer, answer);
}

void LanDiscovery::send(lan::Kind kind, const std::vector<Digest>& ids) {
  auto datagrams = lan::encode_all(kind, node_, tcp_port_, ids, lan_limits::kMaxDatagramsPerRound);
  auto send_all = [&](udp::socket& socket, const udp::endpoint& to, std::error_code ec) {
    for (const auto& d : datagrams) {
      if (!ec) socket.send_to(asio::buffer(d), to, 0, ec);
      if (ec) ++counters_.send_errors;
      else ++counters_.datagrams_sent;
    }
  };
  for (const auto& i : ifaces_) {
    std::error_code ec;
    if (tx4_ && i.v4) {
      tx4_->set_option(asio::ip::multicast::outbound_interface(*i.v4), ec);
      send_all(*tx4_, udp::endpoint(kGroup4, lan::kPort), ec);
    }
    if (tx6_ && i.v6) {
      tx6_->set_option(asio::ip::multicast::outbound_interface(i.index), ec);
      auto group = kGroup6;
      group.scope_id(i.index);  // a link-local group: the destination names the link too
      send_all(*tx6_, udp::endpoint(group, lan::kPort), ec);
    }
  }
}

}  // namespace p2p

// LAN discovery (docs/PROTOCOL.md, "LAN announces"): announces the swarms a session is
// in by UDP multicast on every multicast-capable interface, listens for others' and
// hands each heard (swarm, source IP, claimed port) to the session. Runs on the
// session's io_context; pacing is swarm/policy/lan_pacing, the format format/lan_announce.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/sha256.hpp"
#include "format/lan_announce.hpp"
#include "swarm/policy/lan_pacing.hpp"
#include "swarm/session_snapshot.hpp"  // LanCounters

namespace p2p {

// What LAN discovery asks of its owner (the session), and nothing more.
struct LanHooks {
  std::function<std::vector<Digest>()> our_swarms;  // public ids of the swarms we accept peers for
  std::function<bool(const Digest&)> in_swarm;      // whether we are in this one (and accept peers)
  // A node at `ip` (the datagram's source, never an address from the payload) says it
  // serves swarm `id` on TCP `port`: a hint to dial, the handshake decides.
  std::function<void(const Digest& id, const std::string& ip, std::uint16_t port)> learned;
  std::function<void(const std::string&)> notice;   // one line: what happened and where
};

// Which families to announce on, from the TCP listen address: a peer dials the source
// address of our datagrams, so we announce only where our listener can be reached.
struct LanScope {
  bool v4 = true, v6 = false;
  std::optional<asio::ip::address_v4> only_v4;  // listening on one IPv4 address: its interface only
  static LanScope for_listen_host(const std::string& host);
};

class LanDiscovery {
 public:
  LanDiscovery(asio::io_context& io, std::uint16_t tcp_port, LanScope scope, LanHooks hooks);
  ~LanDiscovery();
  LanDiscovery(const LanDiscovery&) = delete;
  LanDiscovery& operator=(const LanDiscovery&) = delete;

  // Opens the sockets and joins the groups; false (and a notice saying why) if no family
  // could be used. Announces at once, then as lan_pacing says.
  bool start();
  void stop();
  // A torrent was added (or resumed) while running: its swarm goes out within
  // lan_limits::kAddedDelay, coalesced with others (lan_pacing).
  void swarm_added(const Digest& id);
  const LanCounters& counters() const { return counters_; }
  const lan::NodeId& node_id() const { return node_; }

 private:
  struct Iface {
    std::string name;
    unsigned index = 0;
    std::optional<asio::ip::address_v4> v4;  // the address IPv4 datagrams leave from
    bool v6 = false;                         // has an IPv6 address: the v6 group is joined by index
  };
  std::vector<Iface> scan_interfaces() const;
  void refresh_interfaces();
  asio::awaitable<void> receive_loop(asio::ip::udp::socket& socket);
  asio::awaitable<void> announce_loop();
  bool from_us(const asio::ip::udp::endpoint& from) const;
  void handle(std::string_view datagram, const asio::ip::udp::endpoint& from);
  void send(lan::Kind kind, const std::vector<Digest>& ids);

  asio::io_context& io_;
  std::uint16_t tcp_port_;
  LanScope scope_;
  LanHooks hooks_;
  lan::NodeId node_{};
  std::optional<asio::ip::udp::socket> rx4_, rx6_, tx4_, tx6_;
  asio::steady_timer timer_;
  std::vector<Iface> ifaces_;
  std::set<std::string> joined4_, joined6_;  // interface names whose group membership is ours
  LanIntake intake_;
  LanClaims claims_;
  LanAnswers answers_;
  LanAnnouncePlan plan_;
  LanCounters counters_;
  bool stopped_ = false;
};

}  // namespace p2p

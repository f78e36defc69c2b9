// The relay (p2p-tracker --relay): forwards a TCP connection between two swarm
// members that cannot reach each other, admitted by a ticket the tracker's API
// issued (relay_tickets.hpp), under the caps of relay_quota.hpp. It never parses
// what it forwards: a private swarm's TLS runs end to end through it.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tracker/relay_counters.hpp"
#include "tracker/relay_quota.hpp"
#include "tracker/relay_tickets.hpp"
#include "tracker/tracker_limits.hpp"

namespace asio {
class io_context;
}

namespace p2p::tracker {

struct RelayOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = limits::kDefaultRelayPort;  // 0 = any free port
  RelayCaps caps;
  // The documented times (tracker_limits.hpp); tests shorten the partner wait.
  std::chrono::milliseconds hello_timeout = limits::kRelayHelloTimeout;
  std::chrono::milliseconds partner_timeout = limits::kRelayPartnerTimeout;
  std::chrono::milliseconds idle_timeout = limits::kRelayIdleTimeout;
  // Open connections at most; 0: kMaxRelayConnections + 2 per pair of the pair cap.
  std::size_t max_connections = 0;
};

class RelayServer {
 public:
  // Binds and listens at once; throws Error(bind_failed) "cannot listen for the relay on H:P: why".
  // `tickets` is shared with the API that issues them; both live on `io`'s one thread.
  RelayServer(asio::io_context& io, RelayTickets& tickets, RelayOptions options);
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  std::string local_address() const;  // "HOST:PORT" as bound
  std::uint16_t port() const;         // the bound port (the one the kernel chose for port 0)
  void start();                       // begins accepting on the io_context
  // Stops accepting and closes every connection: waiting members, relayed pairs.
  // Their coroutines finish on the io_context soon after (io.run() then returns).
  void stop();

  const RelayCounters& counters() const;
  const RelayCaps& caps() const;
  // The tracker's SIGHUP: new caps from now on (RelayQuota::set_caps). On the io thread.
  void set_caps(const RelayCaps& caps);

  struct Impl;  // opaque: keeps Asio out of this header

 private:
  std::unique_ptr<Impl> impl_;
};

// What the tracker's HTTP API needs of the relay to hand out tickets: made by
// run_tracker when --relay is on, to be passed to Api (which then issues
// tickets, names the relay's port, and prints the counters in /metrics, /stats).
struct RelayService {
  RelayTickets& tickets;         // issue(swarm_id_hex, Clock::now()) -> ticket for both members
  std::uint16_t port;            // where members dial the relay (the tracker's host)
  const RelayCaps& caps;
  const RelayCounters& counters; // render_relay_metrics(counters), relay_stats_json(counters, port)
};

}  // namespace p2p::tracker

// Port mapping, the edge: maps the session's TCP listen port on the home gateway
// (NAT-PMP, then UPnP-IGD, through libnatpmp and miniupnpc), renews it, and removes
// it at the end. The libraries block, so every call runs on a thread the mapper owns
// (with an io_context of its own for its schedule); results are posted to the
// session's io_context, which therefore never locks or waits, but in finish().
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "net/port_mapping_state.hpp"

namespace asio {
class io_context;
}

namespace p2p {

// What is asked of the gateway. The defaults are what a node uses; the renewal test asks
// for seconds, so that renewals happen while it watches (tests/tools/port_mapper_probe).
struct PortMappingLifetimes {
  std::chrono::seconds natpmp = kNatPmpLifetime;
  std::chrono::seconds upnp_lease = kUpnpLease;
};

class PortMapper {
 public:
  // Called on the session's io thread after every round of attempts (first mapping,
  // each renewal, each retry), with what the mapping is now.
  using OnStatus = std::function<void(const PortMappingStatus&)>;
  using Lifetimes = PortMappingLifetimes;

  PortMapper(asio::io_context& session_io, std::uint16_t listen_port, OnStatus on_status, Lifetimes asked = {});
  ~PortMapper();  // finish()
  PortMapper(const PortMapper&) = delete;
  PortMapper& operator=(const PortMapper&) = delete;

  void start();
  // Any thread: stop renewing and remove the mapping. Does not wait.
  void request_stop();
  // Waits for the removal and the thread's end. Bounded by the library calls' own
  // timeouts: a round in progress ends its current step (NAT-PMP <= 2 s, UPnP discovery
  // 2 s, an IGD's SOAP call <= its 3 s socket timeouts), then removal (NAT-PMP <= 1 s, or
  // one SOAP call). The session's io_context must outlive this call: the thread posts to it.
  void finish();

  struct Worker;  // the thread's state (port_mapping.cpp)

 private:
  std::shared_ptr<Worker> worker_;
  std::thread thread_;
};

}  // namespace p2p

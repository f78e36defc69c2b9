// The session's side of port mapping: whether to map at all, and what a new status
// means for the node (one notice line, the announced port, a prompt re-announce).
// The mapper's thread (net/port_mapping) posts here, so this runs on the io thread.
#include <fmt/core.h>

#include "base/discovery_switch.hpp"
#include "swarm/session_impl.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

void Session::Impl::start_port_mapping() {
  mapping = PortMappingStatus{};
  if (!opt.port_mapping)
    mapping.why_not = "--no-port-mapping";
  else if (!acceptor)
    mapping.why_not = "not listening";
  else if (discovery_disabled_by_env())
    mapping.why_not = "P2P_NO_DISCOVERY is set";
  else if (!discovery_allowed(opt.listen_host))
    mapping.why_not = fmt::format("listening on {} only", opt.listen_host);
  if (!mapping.why_not.empty()) return;  // off: said in the snapshot, not on the console
  mapping.state = PortMappingStatus::State::trying;
  mapper = std::make_unique<PortMapper>(io, listen_port, [this](const PortMappingStatus& s) { on_mapping(s); });
  mapper->start();
}

void Session::Impl::on_mapping(const PortMappingStatus& status) {
  if (stopping) return;
  auto before = mapping;
  std::uint16_t port_before = announced_port();
  mapping = status;
  // Incoming peers from outside these came through the gateway (PeerOrigin::mapped).
  if (status.mapped()) own_subnets = local_subnets();
  // One line for the first answer and for every change, not for each renewal.
  if (before.state == PortMappingStatus::State::trying || describe_mapping(before) != describe_mapping(status))
    observer.on_event("", EventKind::notice, "port mapping: " + describe_mapping(status));
  // Trackers record the port we announce: tell them the outside one as soon as we have it
  // (also when it equals ours: an announce made before the mapping existed was unreachable).
  if (announced_port() != port_before || (status.mapped() && !before.mapped()))
    for (auto& t : torrents) t->announce_now();
}

}  // namespace p2p

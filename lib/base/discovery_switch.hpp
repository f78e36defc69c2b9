// Whether a process may reach beyond its own host to find peers and gateways:
// port mapping (UPnP / NAT-PMP requests to the default gateway) and LAN
// announces (multicast). The environment switch exists so that tests, CI,
// benchmarks and the demo never send such a packet onto a real network.
#pragma once
#include <string_view>

namespace p2p {

// True when P2P_NO_DISCOVERY is set to anything but "" or "0".
bool discovery_disabled_by_env();

// False when discovery is disabled by the environment, or when the process listens
// on a loopback address only (nothing outside the host could reach it anyway).
bool discovery_allowed(std::string_view listen_host);

}  // namespace p2p

// The subnets of this host's own interfaces, and whether an address is on one of them:
// a connection from outside them, accepted while a port mapping is active, came in
// through the gateway's mapping (PeerOrigin::mapped) rather than from our own network.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace p2p {

struct Subnet {
  bool v6 = false;
  std::array<std::uint8_t, 16> address{};  // v4 in the first 4 bytes
  int prefix = 0;                          // bits
};

// Every address of every interface that is up (getifaddrs), with its netmask.
std::vector<Subnet> local_subnets();

// `text` is a numeric address ("192.168.1.5", "fe80::1", "::ffff:192.168.1.5"); false
// for anything else. A v4-mapped v6 address is compared as v4.
bool in_subnets(std::string_view text, const std::vector<Subnet>& subnets);

// "192.168.1.0/24" -> Subnet (for tests and configuration); nullopt-like: prefix -1 when invalid.
Subnet parse_subnet(std::string_view text);

}  // namespace p2p

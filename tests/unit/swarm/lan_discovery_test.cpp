// LanScope: which families a node announces on follows what its TCP listener accepts
// (a peer dials the datagram's source address). No sockets: discovery itself is tested in
// network namespaces (tests/e2e/lan_*.sh), never on the host's real LAN.
#include <catch2/catch.hpp>

#include "swarm/lan_discovery.hpp"

using namespace p2p;

TEST_CASE("LAN scope follows the listen address", "[lan]") {
  auto any4 = LanScope::for_listen_host("0.0.0.0");
  CHECK(any4.v4);
  CHECK_FALSE(any4.v6);  // an IPv4 listener: a peer dialling our IPv6 source would be refused
  CHECK_FALSE(any4.only_v4);

  auto any6 = LanScope::for_listen_host("::");
  CHECK(any6.v4);  // dual stack
  CHECK(any6.v6);

  auto one4 = LanScope::for_listen_host("10.0.0.5");
  CHECK(one4.v4);
  CHECK_FALSE(one4.v6);
  REQUIRE(one4.only_v4);
  CHECK(one4.only_v4->to_string() == "10.0.0.5");  // only that address's interface

  auto one6 = LanScope::for_listen_host("2001:db8::1");
  CHECK_FALSE(one6.v4);
  CHECK(one6.v6);
}

// Which addresses are on our own networks (an incoming peer from elsewhere came through the mapping).
#include <catch2/catch.hpp>

#include "net/local_subnets.hpp"

using namespace p2p;

TEST_CASE("local subnets: prefix membership for v4, v4-mapped v6 and v6", "[port_mapping]") {
  std::vector<Subnet> nets{parse_subnet("192.168.1.7/24"), parse_subnet("10.0.0.0/8"), parse_subnet("fd00:1::5/64"),
                           parse_subnet("172.16.5.1/23")};
  for (auto& n : nets) REQUIRE(n.prefix >= 0);
  CHECK(in_subnets("192.168.1.200", nets));
  CHECK_FALSE(in_subnets("192.168.2.1", nets));
  CHECK(in_subnets("::ffff:192.168.1.9", nets));  // what a dual-stack acceptor reports
  CHECK(in_subnets("10.255.0.1", nets));
  CHECK(in_subnets("172.16.4.9", nets));          // /23: 172.16.4.0-172.16.5.255
  CHECK_FALSE(in_subnets("172.16.6.1", nets));
  CHECK(in_subnets("fd00:1::ffff", nets));
  CHECK_FALSE(in_subnets("fd00:2::1", nets));
  CHECK_FALSE(in_subnets("198.20.0.2", nets));
  CHECK_FALSE(in_subnets("not an address", nets));
  CHECK_FALSE(in_subnets("192.168.1.1", {}));
  CHECK(in_subnets("8.8.8.8", {parse_subnet("0.0.0.0/0")}));
}

TEST_CASE("local subnets: malformed prefixes are refused; the host's own list includes loopback", "[port_mapping]") {
  for (const char* bad : {"192.168.1.0", "192.168.1.0/33", "fd00::/129", "x/8", "10.0.0.0/", "10.0.0.0/8a", "10.0.0.0/0008"})
    CHECK(parse_subnet(bad).prefix == -1);
  auto mine = local_subnets();
  CHECK(in_subnets("127.0.0.1", mine));  // lo is up in every namespace the tests use
}

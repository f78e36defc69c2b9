#include <catch2/catch.hpp>

#include "base/address.hpp"

using namespace p2p;

TEST_CASE("host:port parsing accepts names, IPv4 and [IPv6]; refuses the rest with a reason", "[address]") {
  std::string why;
  auto a = parse_host_port("10.0.0.1:6881", why);
  REQUIRE(a);
  CHECK(a->host == "10.0.0.1");
  CHECK(a->port == 6881);
  a = parse_host_port("[::1]:7000", why);
  REQUIRE(a);
  CHECK(a->host == "::1");
  CHECK(format_host_port(a->host, a->port) == "[::1]:7000");
  CHECK(format_host_port("tracker.lan", 80) == "tracker.lan:80");
  for (const char* bad : {"", "host", ":80", "host:", "host:0", "host:65536", "host:8x", "::1:80", "[]:80"}) {
    INFO(bad);
    why.clear();
    CHECK_FALSE(parse_host_port(bad, why));
    CHECK_FALSE(why.empty());
  }
}

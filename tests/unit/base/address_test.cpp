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

TEST_CASE("a host alone (--host): names, IPv4, IPv6 bare or in brackets with a zone; never a port", "[address]") {
  std::string why;
  for (auto [in, out] : {std::pair{"::1", "::1"}, {"[::1]", "::1"}, {"fe80::1%eth0", "fe80::1%eth0"},
                         {"[fe80::1%2]", "fe80::1%2"}, {"10.0.0.1", "10.0.0.1"}, {"seed.lan", "seed.lan"},
                         {"2001:db8::7", "2001:db8::7"}}) {
    INFO(in);
    auto h = parse_host(in, why);
    REQUIRE(h);
    CHECK(*h == out);
    // What --host and --port become is what --peer would parse back to the same host.
    auto back = parse_host_port(format_host_port(*h, 6881), why);
    REQUIRE(back);
    CHECK(back->host == out);
    CHECK(back->port == 6881);
  }
  for (const char* bad : {"", "[]", "1.2.3.4:5000", "seed.lan:80", "::1::2", "[::1]:80", "fe80::1%", "fe80::1%a/b",
                          "gggg::1", "a b", "[10.0.0.1]"}) {
    INFO(bad);
    why.clear();
    CHECK_FALSE(parse_host(bad, why));
    CHECK_FALSE(why.empty());
  }
}

#include "base/utf8.hpp"

TEST_CASE("strict UTF-8", "[utf8]") {
  CHECK(is_valid_utf8("plain.txt"));
  CHECK(is_valid_utf8("r\xc3\xa9sum\xc3\xa9.pdf"));       // é
  CHECK(is_valid_utf8("\xe6\x97\xa5\xe6\x9c\xac.txt"));  // 日本
  CHECK(is_valid_utf8("\xf0\x9f\x93\x81"));              // U+1F4C1
  CHECK_FALSE(is_valid_utf8("\xff.bin"));
  CHECK_FALSE(is_valid_utf8("\xc3"));              // truncated
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

// Bencode codec: canonical round trips and every class of malformed input refused.
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "format/bencode.hpp"

using namespace p2p;
using namespace p2p::bencode;

TEST_CASE("bencode decodes and re-encodes canonical values", "[bencode]") {
  for (std::string text : {"i0e", "i-42e", "i9223372036854775807e", "i-9223372036854775808e", "0:", "4:spam",
                           "le", "de", "l4:spami42ee", "d3:cow3:moo4:spam4:eggse", "d1:ad1:bli1ei2eeee"}) {
    INFO(text);
    CHECK(encode(decode(text)) == text);
  }
  const char text[] = "d8:completei3e5:peers6:\x7f\x00\x00\x01\x1a\xe1" "e";
  Value v = decode(std::string_view(text, sizeof text - 1));
  REQUIRE(v.find("complete"));
  CHECK(v.find("complete")->as_int() == 3);
  CHECK(v.find("peers")->as_str().size() == 6);
  CHECK(v.find("missing") == nullptr);
}

TEST_CASE("bencode refuses non-canonical and truncated input, naming the offset", "[bencode]") {
  for (std::string text : {"", "i", "ie", "i-0e", "i03e", "i+3e", "i1", "i99999999999999999999e", "5:abc", "-1:a",
                           "01:a", "l", "d", "d1:a", "di1ei2ee", "d1:bi1e1:ai2ee", "d1:ai1e1:ai2ee", "x", "i1ei2e",
                           "4:spamextra"}) {
    INFO(text);
    CHECK_THROWS_AS(decode(text), Error);
  }
  CHECK_THROWS_WITH(decode("5:abc"), Catch::Contains("offset 2") && Catch::Contains("5 bytes of string, 3 left"));
}

TEST_CASE("bencode refuses nesting deeper than kMaxDepth without exhausting the stack", "[bencode]") {
  std::string deep(kMaxDepth + 1, 'l');
  deep += std::string(kMaxDepth + 1, 'e');
  CHECK_NOTHROW(decode(deep));
  std::string deeper(100'000, 'l');
  deeper += std::string(100'000, 'e');
  CHECK_THROWS_WITH(decode(deeper), Catch::Contains("nesting deeper than"));
}

TEST_CASE("bencode writers produce what the decoder reads", "[bencode]") {
  std::string out = "d";
  put_str(out, "a");
  put_int(out, -7);
  put_str(out, "b");
  put_str(out, std::string("\0\xff", 2));
  out += 'e';
  Value v = decode(out);
  CHECK(v.find("a")->as_int() == -7);
  CHECK(v.find("b")->as_str() == std::string("\0\xff", 2));
}

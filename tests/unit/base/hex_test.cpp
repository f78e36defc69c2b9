// base/hex: the one hex encoder and decoder (digests, tokens, bitfields in JSON, escapes).
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/hex.hpp"

using namespace p2p;

TEST_CASE("to_hex and write_hex write lowercase pairs; from_hex reads either case, exactly", "[hex]") {
  const std::vector<std::uint8_t> bytes{0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  CHECK(to_hex(bytes) == "00017f80abff");
  CHECK(to_hex(std::vector<std::uint8_t>{}).empty());
  char buf[14] = "xxxxxxxxxxxxx";
  write_hex(bytes, buf + 1);
  CHECK(std::string(buf, 14) == std::string("x00017f80abff") + '\0');  // exactly 12 chars written, nothing past them

  std::array<std::uint8_t, 6> back{};
  REQUIRE(from_hex("00017F80abFF", back));
  CHECK(std::vector<std::uint8_t>(back.begin(), back.end()) == bytes);
  CHECK_FALSE(from_hex("00017f80abf", back));    // one digit short
  CHECK_FALSE(from_hex("00017f80abfff0", back)); // one byte long
  CHECK_FALSE(from_hex("00017f80abfg", back));   // not a digit
  CHECK_FALSE(from_hex("00017f80ab f", back));
  for (int b = 0; b < 256; ++b) {  // every byte survives the round trip
    std::array<std::uint8_t, 1> one{static_cast<std::uint8_t>(b)}, again{};
    REQUIRE(from_hex(to_hex(one), again));
    CHECK(again[0] == b);
  }
}

TEST_CASE("is_hex checks the length and, if asked, lowercase", "[hex]") {
  CHECK(is_hex("0123456789abcdef", 16));
  CHECK(is_hex("ABCDEF", 6));
  CHECK_FALSE(is_hex("ABCDEF", 6, /*lowercase_only=*/true));
  CHECK(is_hex("abcdef", 6, /*lowercase_only=*/true));
  CHECK_FALSE(is_hex("abcdef", 7));
  CHECK_FALSE(is_hex("abcdeg", 6));
  CHECK(is_hex("", 0));
}

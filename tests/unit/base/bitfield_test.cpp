// Bitfield: bit order on the wire and the strict length/spare-bit check.
#include <catch2/catch.hpp>

#include "base/bitfield.hpp"

using p2p::Bitfield;

TEST_CASE("bits are most significant first and counted", "[bitfield]") {
  Bitfield b(10);
  b.set(0);
  b.set(9);
  b.set(9);
  CHECK(b.count() == 2);
  CHECK(b.bytes()[0] == 0x80);
  CHECK(b.bytes()[1] == 0x40);
  b.reset(0);
  CHECK(b.count() == 1);
  CHECK_FALSE(b.test(0));
  Bitfield full(10, true);
  CHECK(full.all());
  CHECK(full.bytes()[1] == 0xc0);
}

TEST_CASE("from_bytes rejects wrong lengths and spare bits", "[bitfield]") {
  Bitfield out;
  std::vector<std::uint8_t> ok{0xff, 0xc0};
  CHECK(Bitfield::from_bytes(ok, 10, out));
  CHECK(out.count() == 10);
  std::vector<std::uint8_t> spare{0xff, 0xe0};
  CHECK_FALSE(Bitfield::from_bytes(spare, 10, out));
  std::vector<std::uint8_t> longer{0xff, 0xc0, 0};
  CHECK_FALSE(Bitfield::from_bytes(longer, 10, out));
  CHECK(Bitfield::from_bytes({}, 0, out));
}

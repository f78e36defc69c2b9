// UnsentLimit: TCP_NOTSENT_LOWAT follows the send rate between its bounds, and is set again
// only when it halves or doubles.
#include <catch2/catch.hpp>

#include "swarm/policy/unsent_limit.hpp"

using namespace p2p;
using U = UnsentLimit;

TEST_CASE("the unsent limit is a share of the send rate, within its bounds", "[unsent_limit]") {
  CHECK(U::next(0, 0) == U::kMin);                    // first call, nothing sent: the floor
  CHECK(U::next(256 * 1024, 0) == U::kMin);           // a slow uplink's connection: the floor
  CHECK(U::next(800e6, 0) == U::kMax);                // loopback: the ceiling
  CHECK(U::next(40.0 * 1024 * 1024, 0) == static_cast<int>(40.0 * 1024 * 1024 * U::kSeconds));
}

TEST_CASE("the unsent limit changes only when it halves or doubles", "[unsent_limit]") {
  int now = static_cast<int>(10e6 * U::kSeconds);     // 200,000 bytes
  CHECK_FALSE(U::next(15e6, now));                    // 1.5x: kept
  CHECK_FALSE(U::next(6e6, now));                     // 0.6x: kept
  CHECK(U::next(20e6, now) == static_cast<int>(20e6 * U::kSeconds));
  CHECK(U::next(5e6, now) == static_cast<int>(5e6 * U::kSeconds));
  CHECK_FALSE(U::next(800e6, U::kMax));               // at the ceiling already
  CHECK(U::next(0, U::kMax) == U::kMin);              // gone idle: back to the floor
}

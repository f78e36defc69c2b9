// RateMeter: a rise is followed at once, a fall over about a second.
#include <catch2/catch.hpp>

#include "swarm/policy/rate_meter.hpp"

using namespace p2p;
using std::chrono::milliseconds;

TEST_CASE("a rate meter follows a rise at once and a fall slowly", "[rate_meter]") {
  RateMeter m;
  auto t = RateMeter::Clock::now();
  m.sample(0, t);
  CHECK(m.rate() == 0);
  m.sample(1000, t + milliseconds(250));
  CHECK(m.rate() == Approx(4000));
  m.sample(1000, t + milliseconds(500));  // nothing in this tick: a quarter of the way down
  CHECK(m.rate() == Approx(3000));
  m.sample(1000, t + milliseconds(500));  // no time passed: ignored
  CHECK(m.rate() == Approx(3000));
  m.sample(11000, t + milliseconds(750));  // 40,000 B/s: at once
  CHECK(m.rate() == Approx(40000));
}

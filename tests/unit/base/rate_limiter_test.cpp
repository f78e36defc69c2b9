// RateLimiter: the long-run rate matches the cap; parse_rate understands units.
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "base/rate_limiter.hpp"

using namespace p2p;

TEST_CASE("unlimited never waits", "[rate]") {
  RateLimiter r(0);
  CHECK(r.reserve(1 << 30, RateLimiter::Clock::now()).count() == 0);
}

TEST_CASE("a sender that obeys the delays averages the cap within 10 % over 10 s", "[rate]") {
  const std::uint64_t rate = 8 << 20;
  RateLimiter r(rate);
  auto t = RateLimiter::Clock::now();
  auto start = t;
  std::uint64_t sent = 0;
  while (t - start < std::chrono::seconds(10)) {
    t += r.reserve(256 * 1024, t);  // wait as told, then send the block
    sent += 256 * 1024;
  }
  double secs = std::chrono::duration<double>(t - start).count();
  double achieved = static_cast<double>(sent) / secs;
  CHECK(achieved <= rate * 1.10);
  CHECK(achieved >= rate * 0.90);
}

TEST_CASE("after idling only a 100 ms burst is free", "[rate]") {
  RateLimiter r(1000000);
  auto t = RateLimiter::Clock::now();
  r.reserve(1, t);
  t += std::chrono::seconds(60);
  CHECK(r.reserve(100000, t).count() == 0);        // the burst
  CHECK(r.reserve(100000, t).count() >= 99'000'000);  // then ~100 ms per 100 kB
}

TEST_CASE("parse_rate", "[rate]") {
  CHECK(parse_rate("0") == 0);
  CHECK(parse_rate("1000") == 1000);
  CHECK(parse_rate("500k") == 500 * 1024);
  CHECK(parse_rate("20M") == 20ull << 20);
  CHECK(parse_rate("1.5G") == 3ull << 29);
  for (auto bad : {"", "fast", "-1M", "12Q", "1e40"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_rate(bad), Error);
  }
}

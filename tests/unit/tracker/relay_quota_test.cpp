// Relay caps on a fake clock: pairs in total and per address, bytes per second
// in total and per swarm (a sender that obeys the delays gets the cap).
#include <catch2/catch.hpp>

#include "tracker/relay_quota.hpp"

using namespace p2p;
using namespace p2p::tracker;
using namespace std::chrono_literals;

namespace {
const std::string kA(64, 'a'), kB(64, 'b');

// Bytes/s a sender gets when it obeys every delay while sending `chunk`-byte
// chunks of each swarm in `swarms` in turn for `seconds` of fake time.
std::vector<double> obeyed_rates(RelayQuota& q, const std::vector<std::string>& swarms, double seconds,
                                 std::uint64_t chunk = 64 * 1024) {
  auto start = RelayQuota::Clock::now();
  std::vector<RelayQuota::Clock::time_point> clock(swarms.size(), start);
  std::vector<std::uint64_t> sent(swarms.size(), 0);
  auto end = start + std::chrono::duration_cast<RelayQuota::Clock::duration>(std::chrono::duration<double>(seconds));
  // Each swarm is its own sender with its own clock; always advance the one that is furthest behind.
  for (;;) {
    std::size_t i = 0;
    for (std::size_t k = 1; k < clock.size(); ++k)
      if (clock[k] < clock[i]) i = k;
    if (clock[i] >= end) break;
    clock[i] += q.reserve_bytes(swarms[i], chunk, clock[i]);
    sent[i] += chunk;
  }
  std::vector<double> rates;
  for (std::size_t i = 0; i < swarms.size(); ++i) rates.push_back(static_cast<double>(sent[i]) / seconds);
  return rates;
}
}  // namespace

TEST_CASE("the pair cap counts every open pair", "[relay]") {
  RelayQuota q(RelayCaps{0, 0, 2, 10});
  CHECK(q.open_pair(kA, "10.0.0.1") == RelayLimit::none);
  CHECK(q.open_pair(kB, "10.0.0.2") == RelayLimit::none);
  CHECK(q.open_pair(kA, "10.0.0.3") == RelayLimit::pairs);
  CHECK(q.pairs() == 2);
  q.close_pair(kA, "10.0.0.1");
  CHECK(q.open_pair(kA, "10.0.0.3") == RelayLimit::none);
}

TEST_CASE("an address takes part in at most max_pairs_per_address pairs, either side", "[relay]") {
  RelayQuota q(RelayCaps{0, 0, 100, 2});
  CHECK(q.open_pair(kA, "10.0.0.1") == RelayLimit::none);
  // The partner from the same address: the pair counts once for it.
  CHECK(q.join_pair("10.0.0.1", "10.0.0.1") == RelayLimit::none);
  CHECK(q.pairs_of("10.0.0.1") == 1);
  // 10.0.0.1 joins a pair opened elsewhere: its second.
  CHECK(q.open_pair(kA, "10.0.0.2") == RelayLimit::none);
  CHECK(q.join_pair("10.0.0.1", "10.0.0.2") == RelayLimit::none);
  CHECK(q.pairs_of("10.0.0.1") == 2);
  // A third, as opener or as partner, is refused; other addresses are not affected.
  CHECK(q.open_pair(kB, "10.0.0.1") == RelayLimit::pairs_per_address);
  CHECK(q.open_pair(kB, "10.0.0.3") == RelayLimit::none);
  CHECK(q.join_pair("10.0.0.1", "10.0.0.3") == RelayLimit::pairs_per_address);
  // Leaving gives the slot back.
  q.leave_pair("10.0.0.1", "10.0.0.2");
  CHECK(q.pairs_of("10.0.0.1") == 1);
  CHECK(q.join_pair("10.0.0.1", "10.0.0.3") == RelayLimit::none);
  q.close_pair(kA, "10.0.0.1");
  q.leave_pair("10.0.0.1", "10.0.0.1");  // same address: nothing more to give back
  CHECK(q.pairs_of("10.0.0.1") == 1);
}

TEST_CASE("a swarm's bucket lives while it has a pair", "[relay]") {
  RelayQuota q(RelayCaps{0, 1 << 20, 10, 10});
  q.open_pair(kA, "10.0.0.1");
  q.open_pair(kA, "10.0.0.2");
  CHECK(q.swarms() == 1);
  q.close_pair(kA, "10.0.0.1");
  CHECK(q.swarms() == 1);
  q.close_pair(kA, "10.0.0.2");
  CHECK(q.swarms() == 0);
  CHECK(q.pairs() == 0);
}

TEST_CASE("the per-swarm cap holds each swarm to its rate", "[relay]") {
  const std::uint64_t swarm_rate = 4 << 20;
  RelayQuota q(RelayCaps{0, swarm_rate, 10, 10});
  q.open_pair(kA, "10.0.0.1");
  q.open_pair(kB, "10.0.0.2");
  auto rates = obeyed_rates(q, {kA, kB}, 10);
  for (double r : rates) {
    CHECK(r >= swarm_rate * 0.95);
    CHECK(r <= swarm_rate * 1.05);
  }
}

TEST_CASE("the total cap is shared by every swarm", "[relay]") {
  const std::uint64_t total = 6 << 20;
  RelayQuota q(RelayCaps{total, 4 << 20, 10, 10});
  q.open_pair(kA, "10.0.0.1");
  q.open_pair(kB, "10.0.0.2");
  auto rates = obeyed_rates(q, {kA, kB}, 10);
  double sum = rates[0] + rates[1];
  CHECK(sum >= total * 0.95);
  CHECK(sum <= total * 1.05);
  CHECK(rates[0] <= (4 << 20) * 1.05);  // neither swarm above its own cap
  CHECK(rates[1] <= (4 << 20) * 1.05);
}

TEST_CASE("both directions of a pair draw on the same buckets", "[relay]") {
  const std::uint64_t swarm_rate = 2 << 20;
  RelayQuota q(RelayCaps{0, swarm_rate, 10, 10});
  q.open_pair(kA, "10.0.0.1");
  auto rates = obeyed_rates(q, {kA, kA}, 10);  // two senders (the directions) in one swarm
  double sum = rates[0] + rates[1];
  CHECK(sum >= swarm_rate * 0.95);
  CHECK(sum <= swarm_rate * 1.05);
}

TEST_CASE("no caps: no waiting", "[relay]") {
  RelayQuota q(RelayCaps{0, 0, 10, 10});
  q.open_pair(kA, "10.0.0.1");
  CHECK(q.reserve_bytes(kA, 1 << 30, RelayQuota::Clock::now()).count() == 0);
}

TEST_CASE("new caps (the tracker's SIGHUP) hold open swarms and new pairs", "[relay]") {
  RelayQuota q(RelayCaps{0, 4 << 20, 1, 10});
  q.open_pair(kA, "10.0.0.1");
  CHECK(q.open_pair(kB, "10.0.0.2") == RelayLimit::pairs);
  const std::uint64_t slower = 1 << 20;
  q.set_caps(RelayCaps{0, slower, 2, 10});
  CHECK(q.caps().swarm_bytes_per_second == slower);
  auto rates = obeyed_rates(q, {kA}, 10);  // the swarm open before the change
  CHECK(rates[0] >= slower * 0.95);
  CHECK(rates[0] <= slower * 1.05);
  CHECK(q.open_pair(kB, "10.0.0.2") == RelayLimit::none);  // the larger pair cap admits it
}

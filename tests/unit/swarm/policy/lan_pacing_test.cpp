// LAN pacing: intake limits per source and in all, answers once per swarm per second,
// announce rounds (start, repeat, period, added swarms, rotation).
#include <catch2/catch.hpp>

#include "swarm/policy/lan_pacing.hpp"

using namespace p2p;
using namespace p2p::lan_limits;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {
Digest id_of(int n) {
  Digest d{};
  d[0] = static_cast<std::uint8_t>(n);
  d[1] = static_cast<std::uint8_t>(n >> 8);
  return d;
}
std::vector<Digest> ids(int n) {
  std::vector<Digest> out;
  for (int i = 0; i < n; ++i) out.push_back(id_of(i));
  return out;
}
}  // namespace

TEST_CASE("intake: one source gets its burst, then its rate", "[lan_pacing]") {
  auto t0 = Clock::now();
  LanIntake in(t0);
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += in.admit("10.0.0.9", t0);
  CHECK(admitted == static_cast<int>(kPerSourceBurst));
  CHECK(in.counters().dropped_per_source == 1000 - kPerSourceBurst);
  admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += in.admit("10.0.0.9", t0 + 1s);
  CHECK(admitted == static_cast<int>(kPerSourceRate));
  CHECK(in.admit("10.0.0.10", t0 + 1s));  // another source is not held by the first
}

TEST_CASE("intake: many sources are held by the total limit", "[lan_pacing]") {
  auto t0 = Clock::now();
  LanIntake in(t0);
  int admitted = 0;
  for (int i = 0; i < 5000; ++i) admitted += in.admit("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250), t0);
  CHECK(admitted == static_cast<int>(kTotalBurst));
  CHECK(in.tracked_sources() <= kMaxTrackedSources);
  CHECK(in.counters().dropped_total + in.counters().dropped_per_source == 5000 - kTotalBurst);
  // Ten seconds later the table is purged of quiet sources and new ones are admitted.
  CHECK(in.admit("10.200.0.1", t0 + 10s));
  CHECK(in.tracked_sources() <= kMaxTrackedSources);
}

TEST_CASE("answers: once per swarm per second, and bounded in all", "[lan_pacing]") {
  auto t0 = Clock::now();
  LanAnswers a(t0);
  CHECK(a.take(ids(2), t0).size() == 2);
  CHECK(a.take(ids(2), t0 + 500ms).empty());
  CHECK(a.suppressed() == 2);
  CHECK(a.take(ids(2), t0 + 1s).size() == 2);
  // A forged announce naming 200 of our swarms is answered for at most 64 of them a second.
  LanAnswers b(t0);
  CHECK(b.take(ids(200), t0).size() == kMaxAnsweredSwarmsPerSecond);
  std::size_t over_ten_s = 0;
  for (int s = 1; s <= 10; ++s) over_ten_s += b.take(ids(200), t0 + std::chrono::seconds(s)).size();
  CHECK(over_ten_s <= 10 * kMaxAnsweredSwarmsPerSecond);
}

TEST_CASE("announce rounds: start, a repeat after 1 s, then the period", "[lan_pacing]") {
  auto t0 = Clock::now();
  LanAnnouncePlan p;
  CHECK(p.next_due() == Clock::time_point::max());
  p.start(t0);
  CHECK(p.next_due() == t0);
  CHECK(p.take_due(t0, ids(3)) == ids(3));
  CHECK(p.next_due() == t0 + kRepeatAfterStart);
  CHECK(p.take_due(t0 + 500ms, ids(3)).empty());
  CHECK(p.take_due(t0 + kRepeatAfterStart, ids(3)) == ids(3));
  CHECK(p.next_due() == t0 + kAnnounceInterval);
  CHECK(p.take_due(t0 + kAnnounceInterval, ids(3)) == ids(3));
  CHECK(p.next_due() == t0 + 2 * kAnnounceInterval);
}

TEST_CASE("announce rounds: an added swarm goes out soon, alone, coalesced", "[lan_pacing]") {
  auto t0 = Clock::now();
  LanAnnouncePlan p;
  p.start(t0);
  p.take_due(t0, ids(1));
  p.take_due(t0 + 1s, ids(1));
  auto t = t0 + 10s;
  p.added(id_of(7), t);
  p.added(id_of(8), t + 50ms);
  CHECK(p.next_due() == t + kAddedDelay);
  auto ours = ids(1);
  ours.push_back(id_of(7));
  ours.push_back(id_of(8));
  CHECK(p.take_due(t + kAddedDelay, ours) == std::vector<Digest>{id_of(7), id_of(8)});
  // Another addition right after waits for kMinRoundGap since the last round.
  p.added(id_of(9), t + kAddedDelay + 10ms);
  CHECK(p.next_due() == t + kAddedDelay + kMinRoundGap);
  // A swarm removed before its round is not announced.
  CHECK(p.take_due(t + kAddedDelay + kMinRoundGap, ours).empty());
  CHECK(p.next_due() == t0 + kAnnounceInterval);
}

TEST_CASE("announce rounds: more swarms than a round carries rotate", "[lan_pacing]") {
  auto t0 = Clock::now();
  LanAnnouncePlan p;
  p.start(t0);
  auto ours = ids(300);
  std::set<Digest> seen;
  auto first = p.take_due(t0, ours);
  CHECK(first.size() == kMaxSwarmsPerRound);
  seen.insert(first.begin(), first.end());
  auto second = p.take_due(t0 + 1s, ours);
  CHECK(second.size() == kMaxSwarmsPerRound);
  seen.insert(second.begin(), second.end());
  auto third = p.take_due(t0 + kAnnounceInterval, ours);
  seen.insert(third.begin(), third.end());
  CHECK(seen.size() == 300);  // everyone announced within three rounds
}

TEST_CASE("claims: a source may name a few ports, not every port", "[lan_pacing]") {
  LanClaims c;
  for (std::uint16_t p = 7000; p < 7000 + kMaxPortsPerSource; ++p) CHECK(c.claim("10.0.0.5", p));
  CHECK(c.claim("10.0.0.5", 7000));  // the same port again is no new claim
  CHECK_FALSE(c.claim("10.0.0.5", 8000));
  CHECK(c.refused() == 1);
  CHECK(c.claim("10.0.0.6", 8000));  // another source has its own
}

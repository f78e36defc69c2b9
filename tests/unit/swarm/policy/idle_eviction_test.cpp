// IdleEviction: which connection a newcomer displaces at the cap.
#include <catch2/catch.hpp>

#include "swarm/policy/idle_eviction.hpp"

using namespace p2p;
using namespace std::chrono_literals;
using Clock = IdleEviction::Clock;
using Cand = IdleEviction::Candidate;

TEST_CASE("the connection that moved no payload longest goes first", "[idle_eviction]") {
  Clock::time_point t0{};  // the test's clock
  auto now = t0 + 100s;
  std::vector<Cand> cs{{1, t0 + 50s, false}, {2, t0 + 10s, false}, {3, t0 + 90s, false}};
  CHECK(IdleEviction::pick(cs, now) == 2u);
  // Handshaken or not makes no difference: only payload counts. A newcomer (youngest) goes last.
  cs.push_back({4, now, false});
  CHECK(IdleEviction::pick(cs, now) == 2u);
}

TEST_CASE("peers moving payload are never displaced; ones idle past the protection after the silent", "[idle_eviction]") {
  Clock::time_point t0{};
  auto now = t0 + 1000s;
  std::vector<Cand> busy{{1, now - 1s, true}, {2, now - 59s, true}};
  CHECK_FALSE(IdleEviction::pick(busy, now));  // all protected: the newcomer is refused
  auto cs = busy;
  cs.push_back({3, now - 500s, true});  // moved a block 500 s ago: displaceable
  CHECK(IdleEviction::pick(cs, now) == 3u);
  cs.push_back({4, now - 1s, false});  // never moved any: goes before it, however young
  CHECK(IdleEviction::pick(cs, now) == 4u);
}

TEST_CASE("the address holding the most connections gives way first", "[idle_eviction]") {
  Clock::time_point t0{};
  auto now = t0 + 100s;
  // A lone peer idle since t0 stays; one of the 6 from a busy address goes, its oldest.
  std::vector<Cand> cs{{1, t0, false, 1}, {2, t0 + 50s, false, 6}, {3, t0 + 40s, false, 6}, {4, t0 + 10s, false, 2}};
  CHECK(IdleEviction::pick(cs, now) == 3u);
  // Payload protection comes before address: the busy address's only unprotected one is older.
  std::vector<Cand> ps{{1, t0, true, 1}, {2, now - 1s, true, 6}};
  CHECK(IdleEviction::pick(ps, now) == 1u);
}

TEST_CASE("600 silent connections and one real peer: the flood churns through itself", "[idle_eviction]") {
  // A cap of 175 full of silent connections; a real peer arrives and starts moving payload;
  // 600 more silent newcomers each displace one: the real peer is never picked.
  Clock::time_point now{};
  std::vector<Cand> cs;
  std::uint64_t next = 1;
  for (; next <= 175; ++next, now += 1ms) cs.push_back({next, now, false});
  auto displace = [&](Cand newcomer) {
    auto v = IdleEviction::pick(cs, now);
    REQUIRE(v);
    std::erase_if(cs, [&](const Cand& c) { return c.id == *v; });
    cs.push_back(newcomer);
    return *v;
  };
  const std::uint64_t real = 10'000;
  displace({real, now, false});
  now += 5ms;
  for (auto& c : cs)
    if (c.id == real) c = {real, now, true};  // its first block
  for (int i = 0; i < 600; ++i, now += 1ms) CHECK(displace({next++, now, false}) != real);
}

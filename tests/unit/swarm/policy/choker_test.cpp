// Choker: least-complete-first slots while downloading, round-robin while seeding, one optimistic slot.
#include <catch2/catch.hpp>

#include "swarm/policy/choker.hpp"

using namespace p2p;
using Clock = Choker::Clock;

namespace {
std::vector<Choker::Peer> peers(int n, bool interested = true) {
  std::vector<Choker::Peer> v;
  for (int i = 0; i < n; ++i) v.push_back({"p" + std::to_string(i), interested, static_cast<double>(i * 100)});
  return v;
}
}  // namespace

TEST_CASE("downloading: among equally complete peers, those that give the most get the regular slots, plus one optimistic", "[choker]") {
  Choker c(1);
  auto t = Clock::now();
  auto chosen = c.rechoke(peers(10), false, t);
  CHECK(chosen.size() == Choker::kRegularSlots + 1);
  for (auto k : {"p9", "p8", "p7", "p6"}) CHECK(chosen.count(k));
  CHECK_FALSE(c.optimistic().empty());
  CHECK(chosen.count(c.optimistic()));
}

TEST_CASE("downloading: the peers furthest behind get the regular slots, whatever they give back", "[choker]") {
  Choker c(1);
  auto v = peers(10);
  // p0..p3 give least but have least; p9 gives most and is nearly done.
  for (int i = 0; i < 10; ++i) v[i].have_fraction = 0.1 * i;
  auto chosen = c.rechoke(v, false, Clock::now());
  for (auto k : {"p0", "p1", "p2", "p3"}) CHECK(chosen.count(k));
  CHECK(chosen.size() == Choker::kRegularSlots + 1);
}

TEST_CASE("uninterested peers get no slot", "[choker]") {
  Choker c(1);
  auto chosen = c.rechoke(peers(3, false), false, Clock::now());
  CHECK(chosen.empty());
}

TEST_CASE("the optimistic slot is kept for its interval, then rotates", "[choker]") {
  Choker c(7);
  auto t = Clock::now();
  c.rechoke(peers(10), false, t);
  auto first = c.optimistic();
  c.rechoke(peers(10), false, t + std::chrono::seconds(10));
  CHECK(c.optimistic() == first);
  c.rechoke(peers(10), false, t + std::chrono::seconds(31));
  CHECK(c.optimistic() != first);
}

TEST_CASE("seeding: slots go round so every interested peer gets a turn", "[choker]") {
  Choker c(3);
  auto t = Clock::now();
  std::set<std::string> served;
  for (int round = 0; round < 3; ++round) {
    auto chosen = c.rechoke(peers(12), true, t + std::chrono::seconds(10 * round));
    served.insert(chosen.begin(), chosen.end());
  }
  CHECK(served.size() == 12);
}

TEST_CASE("rechoke is due every 10 seconds", "[choker]") {
  Choker c(1);
  auto t = Clock::now();
  CHECK(c.due(t));
  c.rechoke({}, false, t);
  CHECK_FALSE(c.due(t + std::chrono::seconds(9)));
  CHECK(c.due(t + std::chrono::seconds(10)));
}

TEST_CASE("an initial seeder may give every interested peer a regular slot", "[choker]") {
  Choker c(3);
  auto chosen = c.rechoke(peers(12), true, Clock::now(), SIZE_MAX);
  CHECK(chosen.size() == 12);
  auto few = c.rechoke(peers(12), true, Clock::now() + std::chrono::seconds(10));
  CHECK(few.size() == Choker::kRegularSlots + 1);
}

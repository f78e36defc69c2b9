// PeerExchange: only changes are sent, at most 50 each way, not too often.
#include <catch2/catch.hpp>

#include "swarm/policy/peer_exchange.hpp"

using namespace p2p;
using Clock = PeerExchange::Clock;

namespace {
std::set<wire::PeerAddress> many(int n, int offset = 0) {
  std::set<wire::PeerAddress> s;
  for (int i = 0; i < n; ++i) s.insert({"10.1." + std::to_string((i + offset) / 200) + "." + std::to_string((i + offset) % 200), 6000});
  return s;
}
}  // namespace

TEST_CASE("first message lists known peers, later ones only changes", "[pex]") {
  PeerExchange x;
  auto t = Clock::now();
  auto m1 = x.next(many(3), t);
  REQUIRE(m1);
  CHECK(m1->added.size() == 3);
  CHECK_FALSE(x.next(many(3), t + std::chrono::seconds(10)));  // nothing new
  auto next_set = many(2);
  next_set.insert({"10.9.9.9", 1});
  auto m2 = x.next(next_set, t + std::chrono::seconds(20));
  REQUIRE(m2);
  CHECK(m2->added == std::vector<wire::PeerAddress>{{"10.9.9.9", 1}});
  CHECK(m2->dropped.size() == 1);
}

TEST_CASE("lists are bounded and messages rate-limited", "[pex]") {
  PeerExchange x;
  auto t = Clock::now();
  auto m1 = x.next(many(120), t);
  REQUIRE(m1);
  CHECK(m1->added.size() == 50);
  CHECK_FALSE(x.next(many(120), t + std::chrono::seconds(1)));  // too soon
  auto m2 = x.next(many(120), t + std::chrono::seconds(6));
  REQUIRE(m2);
  CHECK(m2->added.size() == 50);
}

TEST_CASE("incoming gossip faster than allowed is ignored", "[pex]") {
  PeerExchange x;
  auto t = Clock::now();
  CHECK(x.accept_incoming(t));
  CHECK_FALSE(x.accept_incoming(t + std::chrono::milliseconds(500)));
  CHECK(x.accept_incoming(t + std::chrono::seconds(3)));
}

// Reputation: the scoring rule, the ban threshold and its expiry, persistence across restarts.
#include <catch2/catch.hpp>

#include "swarm/reputation.hpp"
#include "test_support.hpp"

using namespace p2p;
using R = Reputation;

TEST_CASE("good deliveries raise the score up to the cap", "[reputation]") {
  R r;
  auto now = R::SysClock::now();
  for (int i = 0; i < 80; ++i) r.record("a:1", R::Event::delivered, "", now);
  CHECK(r.score("a:1") == R::kMaxScore);
  CHECK(r.find("a:1")->delivered == 80);
}

TEST_CASE("violations and timeouts lead to a ban that expires", "[reputation]") {
  R r;
  auto now = R::SysClock::now();
  CHECK_FALSE(r.record("b:1", R::Event::timeout, "stalled", now));
  CHECK_FALSE(r.banned("b:1", now));
  CHECK(r.record("b:1", R::Event::violation, "protocol violation: garbage", now));  // -28 <= -20
  CHECK(r.banned("b:1", now));
  CHECK(r.find("b:1")->reason.find("garbage") != std::string::npos);
  CHECK(r.banned("b:1", now + R::kBanDuration - std::chrono::seconds(1)));
  CHECK_FALSE(r.banned("b:1", now + R::kBanDuration + std::chrono::seconds(1)));
  CHECK_FALSE(r.banned("unknown:1", now));
}

TEST_CASE("a good history absorbs an occasional timeout", "[reputation]") {
  R r;
  auto now = R::SysClock::now();
  for (int i = 0; i < 20; ++i) r.record("c:1", R::Event::delivered, "", now);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(r.record("c:1", R::Event::timeout, "stalled", now));
  CHECK_FALSE(r.banned("c:1", now));
}

TEST_CASE("bans and scores survive a restart", "[reputation]") {
  test::TempDir dir;
  auto db = dir / "reputation.db";
  auto now = R::SysClock::now();
  {
    R r(db);
    r.ban("liar:9", "sent corrupt data for piece 3", now);
    r.record("good:1", R::Event::delivered, "", now);
    r.flush();
  }
  R again(db);
  CHECK(again.banned("liar:9", now));
  CHECK(again.find("liar:9")->reason == "sent corrupt data for piece 3");
  CHECK(again.score("good:1") == 1);
}

TEST_CASE("a reputation key is the IP and the first 16 hex digits of the peer id", "[reputation]") {
  const std::string id = "0123456789abcdef0123456789abcdef01234567";
  CHECK(reputation_key("203.0.113.5", id) == "203.0.113.5#0123456789abcdef");
  CHECK(reputation_key("2001:db8::1", id) == "2001:db8::1#0123456789abcdef");
  CHECK(reputation_key("203.0.113.5", "abc") == "203.0.113.5#abc");  // a short id is kept whole
  CHECK(reputation_key("203.0.113.5", id) != reputation_key("203.0.113.6", id));
}

// DialBackoff: when a failed address is dialled again, per trust; and PeerDirectory
// applying it to gossip (one dial per advertised address in its first minute).
#include <catch2/catch.hpp>

#include "swarm/policy/dial_backoff.hpp"
#include "swarm/policy/peer_directory.hpp"

using namespace p2p;
using namespace std::chrono_literals;
using Clock = DialBackoff::Clock;
using Trust = DialBackoff::Trust;

TEST_CASE("hints wait 60 s after a failure, doubling, and are given up after 3", "[dial_backoff]") {
  CHECK(DialBackoff::interval(Trust::hint, 1) == 60s);
  CHECK(DialBackoff::interval(Trust::hint, 2) == 120s);
  CHECK(DialBackoff::interval(Trust::hint, 3) == 240s);
  CHECK(DialBackoff::interval(Trust::hint, 50) == DialBackoff::kHintMaxInterval);
  CHECK_FALSE(DialBackoff::exhausted(Trust::hint, 2));
  CHECK(DialBackoff::exhausted(Trust::hint, 3));
  Clock::time_point t0{};  // the test's own clock
  CHECK(DialBackoff::next_try(Trust::hint, 1, t0 + 5s) == t0 + 65s);
}

TEST_CASE("vouched addresses retry fast, capped at 30 s, and are never given up here", "[dial_backoff]") {
  CHECK(DialBackoff::interval(Trust::vouched, 1) == 500ms);
  CHECK(DialBackoff::interval(Trust::vouched, 2) == 1s);
  CHECK(DialBackoff::interval(Trust::vouched, 7) == 30s);
  CHECK(DialBackoff::interval(Trust::vouched, 1000) == 30s);  // no overflow
  CHECK_FALSE(DialBackoff::exhausted(Trust::vouched, 1000));
}

namespace {
// Drives a directory as the torrent does every tick: dial what is due, all of it fails.
struct BackoffDriver {
  PeerDirectory d{1};
  Clock::time_point now{};
  std::map<wire::PeerAddress, int> dials;
  void run_for(Clock::duration span, Clock::duration tick = 250ms) {
    for (auto end = now + span; now < end; now += tick)
      for (auto& a : d.to_dial(now, 8)) {
        d.dialling(a);
        ++dials[a];
        d.dial_failed(a, "connection refused", now);
      }
  }
};
}  // namespace

TEST_CASE("500 dead gossiped addresses: each dialled once in the first minute, 3 times in all", "[dial_backoff][directory]") {
  BackoffDriver drv;
  for (int i = 0; i < 500; ++i)
    drv.d.add({"10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250), 6881}, PeerDirectory::Source::pex,
              "10.0.0.66:6881");
  drv.run_for(59s);
  CHECK(drv.dials.size() == PeerDirectory::kMaxAddsPerAdvertiser);  // the advertiser's quota
  for (auto& [a, n] : drv.dials) CHECK(n == 1);
  drv.run_for(10min);
  for (auto& [a, n] : drv.dials) CHECK(n == DialBackoff::kHintAttempts);
  CHECK_FALSE(drv.d.any_hope());
}

TEST_CASE("a command-line peer or a tracker's keeps being retried within 30 s (a seeder restarting)", "[dial_backoff][directory]") {
  BackoffDriver drv;
  wire::PeerAddress user{"10.0.0.1", 1}, listed{"10.0.0.2", 2};
  drv.d.add(user, PeerDirectory::Source::command_line);
  drv.d.add(listed, PeerDirectory::Source::tracker);
  drv.run_for(10s);
  CHECK(drv.dials[user] >= 4);  // 0, 0.5, 1.5, 3.5, 7.5 s
  CHECK(drv.dials[listed] >= 4);
  drv.run_for(10min);
  CHECK(drv.dials[user] >= 10min / 30s);
  CHECK(drv.d.any_hope());
}

TEST_CASE("a gossiped address a tracker then lists leaves the hint's long wait", "[dial_backoff][directory]") {
  BackoffDriver drv;
  wire::PeerAddress a{"10.0.0.7", 7};
  drv.d.add(a, PeerDirectory::Source::pex, "10.0.0.66:6881");
  drv.run_for(1s);
  REQUIRE(drv.dials[a] == 1);
  drv.d.add(a, PeerDirectory::Source::tracker);
  drv.run_for(2s);
  CHECK(drv.dials[a] >= 2);  // on the vouched schedule now, not 60 s later
}

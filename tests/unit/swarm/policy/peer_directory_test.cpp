// PeerDirectory: who to dial, back-off, give-up, and what is learned from gossip.
#include <catch2/catch.hpp>

#include "base/limits.hpp"
#include "swarm/policy/peer_directory.hpp"

using namespace p2p;
using Clock = PeerDirectory::Clock;
using Src = PeerDirectory::Source;

TEST_CASE("command-line peers get `parallel` connections, learned peers one", "[directory]") {
  PeerDirectory d(4);
  wire::PeerAddress a{"10.0.0.1", 1}, b{"10.0.0.2", 2};
  d.add(a, Src::command_line);
  d.add(b, Src::pex);
  auto plan = d.to_dial(Clock::now(), 100);
  CHECK(std::count(plan.begin(), plan.end(), a) == 4);
  CHECK(std::count(plan.begin(), plan.end(), b) == 1);
  for (auto& p : plan) d.dialling(p);
  CHECK(d.to_dial(Clock::now(), 100).empty());
  CHECK(d.to_dial(Clock::now(), 2).size() <= 2);
}

TEST_CASE("failures back off exponentially and give up after the limit", "[directory]") {
  PeerDirectory d(1);
  wire::PeerAddress a{"10.0.0.1", 1};
  d.add(a, Src::command_line);
  auto t = Clock::now();
  for (int i = 1; i <= limits::kMaxConnectAttempts; ++i) {
    d.dialling(a);
    d.dial_failed(a, "connection refused", t);
    CHECK(d.to_dial(t, 10).empty());  // not immediately
    if (i < limits::kMaxConnectAttempts) {
      CHECK(d.any_hope());
      t += std::chrono::minutes(1);
      CHECK(d.to_dial(t, 10).size() == 1);
    }
  }
  CHECK(d.gave_up(a));
  CHECK_FALSE(d.any_hope());
  CHECK(d.failure_summary().find("10.0.0.1:1: connection refused") != std::string::npos);
}

TEST_CASE("a useful connection resets the failure count", "[directory]") {
  PeerDirectory d(1);
  wire::PeerAddress a{"10.0.0.1", 1};
  d.add(a, Src::tracker);
  auto t = Clock::now();
  d.dialling(a);
  d.dial_failed(a, "timeout", t);
  d.dialling(a);
  d.connected(a);
  d.closed(a, true, "connection closed by peer", t);
  CHECK(d.failures(a) == 0);
}

TEST_CASE("a peer that refuses for good is never dialled again; incoming peers are not dialled", "[directory]") {
  PeerDirectory d(2);
  wire::PeerAddress a{"10.0.0.1", 1}, b{"10.0.0.2", 2};
  d.add(a, Src::command_line);
  d.refuse_forever(a, "refused: info_hash_mismatch");
  d.add(b, Src::pex);
  d.incoming(b);
  CHECK(d.to_dial(Clock::now(), 10).empty());
  CHECK(d.any_hope());  // b is connected to us
  d.incoming_closed(b);
  CHECK(d.to_dial(Clock::now(), 10).size() == 1);
}

TEST_CASE("the directory is bounded", "[directory]") {
  PeerDirectory d(1);
  for (std::size_t i = 0; i < PeerDirectory::kMaxKnownPeers + 50; ++i)
    d.add({"10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250), 1000}, Src::pex);
  CHECK(d.size() == PeerDirectory::kMaxKnownPeers);
}

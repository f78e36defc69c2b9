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

TEST_CASE("command-line peers are retried with capped back-off; gossip peers are given up", "[directory]") {
  PeerDirectory d(1);
  wire::PeerAddress a{"10.0.0.1", 1}, g{"10.0.0.9", 9};
  d.add(a, Src::command_line);
  d.add(g, Src::pex, "10.0.0.5:5");
  auto t = Clock::now();
  for (int i = 1; i <= 20; ++i) {
    for (auto& p : d.to_dial(t, 10)) d.dialling(p);
    d.dial_failed(a, "connection refused", t);
    if (i <= PeerDirectory::kMaxPexDialAttempts) d.dial_failed(g, "connection refused", t);
    CHECK(d.to_dial(t, 10).empty());  // not immediately
    CHECK(d.next_retry() - t <= PeerDirectory::kMaxRetryInterval);
    t += PeerDirectory::kMaxRetryInterval;
  }
  CHECK_FALSE(d.gave_up(a));  // the torrent decides when to stop waiting (--give-up-after)
  CHECK(d.any_hope());
  CHECK(d.gave_up(g));
  CHECK(d.failure_summary().find("10.0.0.1:1: connection refused") != std::string::npos);
}

TEST_CASE("gossip cannot amplify: a quota per advertiser, confirmed addresses first", "[directory]") {
  PeerDirectory d(1);
  std::size_t added = 0;
  for (int i = 0; i < 200; ++i) added += d.add({"10.1.0." + std::to_string(i), 6881}, Src::pex, "evil:1");
  CHECK(added == PeerDirectory::kMaxAddsPerAdvertiser);
  wire::PeerAddress both{"10.2.0.1", 1};
  d.add(both, Src::pex, "honest:1");
  d.add(both, Src::pex, "honest:2");
  CHECK(d.confirmations(both) == 2);
  auto plan = d.to_dial(Clock::now(), 1);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0] == both);
}

TEST_CASE("addresses that are unroutable or point at our own machine are not dialable", "[directory]") {
  CHECK(dialable({"10.0.0.1", 80}, "10.0.0.2"));
  CHECK(dialable({"127.0.0.1", 80}, ""));           // the user asked for it
  CHECK(dialable({"127.0.0.1", 80}, "127.0.0.1"));  // a local swarm
  CHECK_FALSE(dialable({"127.0.0.1", 80}, "10.0.0.2"));
  CHECK_FALSE(dialable({"::1", 80}, "10.0.0.2"));
  CHECK_FALSE(dialable({"169.254.1.1", 80}, "10.0.0.2"));
  CHECK_FALSE(dialable({"10.0.0.1", 0}, ""));
  CHECK_FALSE(dialable({"0.0.0.0", 80}, ""));
  CHECK_FALSE(dialable({"224.0.0.1", 80}, ""));
  CHECK_FALSE(dialable({"ff02::1", 80}, ""));
  CHECK_FALSE(dialable({"255.255.255.255", 80}, ""));
  CHECK_FALSE(dialable({"not-an-ip", 80}, "10.0.0.2"));
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

TEST_CASE("a rendezvous dials at once whatever the back-off, never a dead address", "[directory]") {
  PeerDirectory d(1);
  wire::PeerAddress a{"10.0.0.1", 1}, dead{"10.0.0.2", 2};
  auto t = Clock::now();
  d.add(a, Src::tracker);
  d.add(dead, Src::tracker);
  for (auto& p : d.to_dial(t, 10)) d.dialling(p);
  d.dial_failed(a, "connection timed out", t);
  d.dial_failed(a, "connection timed out", t);  // second failure: a back-off of a second
  d.refuse_forever(dead, "unknown_info_hash");
  CHECK(d.to_dial(t, 10).empty());
  CHECK_FALSE(d.met_by_rendezvous(a));
  d.rendezvous(a, t);
  d.rendezvous(dead, t);
  auto plan = d.to_dial(t, 10);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0] == a);
  CHECK(d.met_by_rendezvous(a));
  // Unknown addresses are not added by a rendezvous (add() decides, with its limits).
  d.rendezvous(wire::PeerAddress{"10.0.0.3", 3}, t);
  CHECK(d.size() == 2);
}

TEST_CASE("LAN hints are tried a few times, like gossip", "[directory]") {
  PeerDirectory d(1);
  wire::PeerAddress l{"192.168.1.7", 6881};
  d.add(l, Src::lan);
  auto t = Clock::now();
  for (int i = 0; i < PeerDirectory::kMaxPexDialAttempts; ++i) {
    CHECK_FALSE(d.gave_up(l));
    d.dialling(l);
    d.dial_failed(l, "connection refused", t);
  }
  CHECK(d.gave_up(l));
}

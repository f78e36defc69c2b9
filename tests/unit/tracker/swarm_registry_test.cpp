// Tracker swarm registry: add/refresh/stop, seeder counts, random selection,
// expiry, limits — all without sockets.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "tracker/swarm_registry.hpp"

using namespace p2p;
using namespace p2p::tracker;
// tracker::Peer, spelled out: a unity batch may hold swarm tests, where p2p::Peer is the swarm's.

namespace {

Digest hash_of(int n) {
  Digest d{};
  d[0] = static_cast<std::uint8_t>(n);
  d[1] = static_cast<std::uint8_t>(n >> 8);
  d[31] = 0xAB;
  return d;
}

PeerId peer(int n) {
  PeerId p{};
  p[0] = static_cast<std::uint8_t>(n);
  p[1] = static_cast<std::uint8_t>(n >> 8);
  p[19] = 0xCD;
  return p;
}

AnnounceInput input(int swarm, int id, std::uint64_t left = 100, Event ev = Event::periodic, int numwant = 50) {
  AnnounceInput in;
  in.info_hash = hash_of(swarm);
  in.peer_id = peer(id);
  in.ip = "127.0.0.1";
  in.port = static_cast<std::uint16_t>(10000 + id);
  in.left = left;
  in.event = ev;
  in.numwant = numwant;
  return in;
}

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

}  // namespace

TEST_CASE("peer ids parse from exactly 40 hex digits", "[tracker]") {
  PeerId p;
  CHECK(peer_id_from_hex(std::string(40, 'a'), p));
  CHECK(p[0] == 0xAA);
  CHECK_FALSE(peer_id_from_hex(std::string(39, 'a'), p));
  CHECK_FALSE(peer_id_from_hex(std::string(41, 'a'), p));
  CHECK_FALSE(peer_id_from_hex(std::string(39, 'a') + "g", p));
}

TEST_CASE("announce adds peers, counts seeders and leechers, excludes the asker", "[tracker]") {
  SwarmRegistry reg(1);
  std::vector<const tracker::Peer*> out;
  auto r = reg.announce(input(1, 1, 0, Event::started), t0, out);
  CHECK(r.status == AnnounceStatus::ok);
  CHECK(out.empty());
  CHECK(r.seeders == 1);
  CHECK(r.leechers == 0);

  r = reg.announce(input(1, 2, 500, Event::started), t0, out);
  CHECK(r.seeders == 1);
  CHECK(r.leechers == 1);
  REQUIRE(out.size() == 1);
  CHECK(out[0]->port == 10001);
  CHECK(out[0]->ip == "127.0.0.1");
  CHECK(reg.swarm_count() == 1);
  CHECK(reg.peer_count() == 2);
  CHECK(reg.seeder_count() == 1);

  // Re-announcing refreshes, it does not duplicate.
  r = reg.announce(input(1, 2, 400), t0, out);
  CHECK(reg.peer_count() == 2);
  CHECK(r.leechers == 1);
}

TEST_CASE("completed turns a leecher into a seeder and is counted once", "[tracker]") {
  SwarmRegistry reg(2);
  std::vector<const tracker::Peer*> out;
  reg.announce(input(1, 1, 100, Event::started), t0, out);
  auto r = reg.announce(input(1, 1, 0, Event::completed), t0, out);
  CHECK(r.completed_now);
  CHECK(r.seeders == 1);
  CHECK(r.leechers == 0);
  r = reg.announce(input(1, 1, 0, Event::completed), t0, out);  // a repeat is not a second download
  CHECK_FALSE(r.completed_now);
  CHECK(reg.find(hash_of(1))->completed() == 1);
  CHECK(reg.seeder_count() == 1);
}

TEST_CASE("completed counts once per peer even when left is still above zero", "[tracker]") {
  // A client announcing to two trackers that share one store sends "completed"
  // twice; some send it before their "left" reaches 0.
  SwarmRegistry reg(2);
  std::vector<const tracker::Peer*> out;
  reg.announce(input(1, 1, 100, Event::started), t0, out);
  CHECK(reg.announce(input(1, 1, 100, Event::completed), t0, out).completed_now);
  CHECK_FALSE(reg.announce(input(1, 1, 100, Event::completed), t0, out).completed_now);
  CHECK(reg.find(hash_of(1))->completed() == 1);
  CHECK(reg.announce(input(1, 2, 0, Event::completed), t0, out).completed_now);  // another peer counts
  CHECK(reg.find(hash_of(1))->completed() == 2);
}

TEST_CASE("stopped removes the peer at once and an empty swarm disappears", "[tracker]") {
  SwarmRegistry reg(3);
  std::vector<const tracker::Peer*> out;
  reg.announce(input(1, 1, 0), t0, out);
  reg.announce(input(1, 2, 5), t0, out);
  auto r = reg.announce(input(1, 1, 0, Event::stopped), t0, out);
  CHECK(r.seeders == 0);
  CHECK(r.leechers == 1);
  CHECK(out.empty());
  CHECK(reg.seeder_count() == 0);
  reg.announce(input(1, 2, 5, Event::stopped), t0, out);
  CHECK(reg.find(hash_of(1)) == nullptr);
  CHECK(reg.swarm_count() == 0);
  CHECK(reg.peer_count() == 0);
  // Stopping in an unknown swarm is harmless.
  r = reg.announce(input(9, 9, 0, Event::stopped), t0, out);
  CHECK(r.status == AnnounceStatus::ok);
  CHECK(reg.swarm_count() == 0);
}

TEST_CASE("selection is a random subset of at most numwant distinct other peers", "[tracker]") {
  SwarmRegistry reg(4);
  std::vector<const tracker::Peer*> out;
  for (int i = 0; i < 300; ++i) reg.announce(input(1, i), t0, out);
  for (int numwant : {0, 1, 10, 50, 100, 200, 299, 500}) {
    reg.announce(input(1, 7, 100, Event::periodic, numwant), t0, out);
    CHECK(out.size() == static_cast<std::size_t>(std::min(numwant, 299)));
    std::set<std::uint16_t> ports;
    for (const tracker::Peer* p : out) {
      CHECK(p->port != 10007);  // never the asker
      ports.insert(p->port);
    }
    CHECK(ports.size() == out.size());
  }
  // Over many draws every other peer shows up (both the dense and the sparse algorithm).
  for (int numwant : {10, 100}) {
    std::set<std::uint16_t> seen;
    for (int round = 0; round < 400; ++round) {
      reg.announce(input(1, 7, 100, Event::periodic, numwant), t0, out);
      for (const tracker::Peer* p : out) seen.insert(p->port);
    }
    CHECK(seen.size() == 299);
  }
}

TEST_CASE("peers silent past the cutoff expire; fresh ones stay; empty swarms go", "[tracker]") {
  SwarmRegistry reg(5);
  std::vector<const tracker::Peer*> out;
  reg.announce(input(1, 1, 0), t0, out);
  reg.announce(input(1, 2, 9), t0 + std::chrono::seconds(100), out);
  reg.announce(input(2, 3, 9), t0, out);
  CHECK(reg.expire(t0 + std::chrono::seconds(50)) == 2);
  CHECK(reg.swarm_count() == 1);
  CHECK(reg.peer_count() == 1);
  CHECK(reg.seeder_count() == 0);
  REQUIRE(reg.find(hash_of(1)) != nullptr);
  CHECK(reg.find(hash_of(1))->peers()[0].port == 10002);
  CHECK(reg.find(hash_of(2)) == nullptr);
}

TEST_CASE("big swarms (indexed) stay consistent through updates, stops and expiry", "[tracker]") {
  SwarmRegistry reg(6);
  std::vector<const tracker::Peer*> out;
  std::map<int, std::uint64_t> model;  // id -> left
  std::mt19937 rng(42);
  for (int step = 0; step < 5000; ++step) {
    int id = static_cast<int>(rng() % 120);
    std::uint64_t left = rng() % 3 == 0 ? 0 : 10;
    if (rng() % 5 == 0) {
      reg.announce(input(1, id, left, Event::stopped), t0, out);
      model.erase(id);
    } else {
      reg.announce(input(1, id, left), t0 + std::chrono::seconds(step), out);
      model[id] = left;
    }
  }
  const Swarm* s = reg.find(hash_of(1));
  REQUIRE(s != nullptr);
  CHECK(s->peers().size() == model.size());
  std::size_t seeders = 0;
  for (auto& [id, left] : model) seeders += left == 0;
  CHECK(s->seeders() == seeders);
  CHECK(reg.seeder_count() == seeders);
  for (const tracker::Peer& p : s->peers()) {
    int id = p.port - 10000;
    REQUIRE(model.count(id) == 1);
    CHECK(p.seeder == (model[id] == 0));
  }
  reg.expire(t0 + std::chrono::seconds(100000));
  CHECK(reg.peer_count() == 0);
  CHECK(reg.seeder_count() == 0);
}

TEST_CASE("limits on swarms and peers refuse instead of growing", "[tracker]") {
  SwarmRegistry reg(7, /*max_swarms=*/2, /*max_peers_per_swarm=*/3, /*max_peers_total=*/5);
  std::vector<const tracker::Peer*> out;
  CHECK(reg.announce(input(1, 1), t0, out).status == AnnounceStatus::ok);
  CHECK(reg.announce(input(2, 1), t0, out).status == AnnounceStatus::ok);
  CHECK(reg.announce(input(3, 1), t0, out).status == AnnounceStatus::too_many_swarms);
  CHECK(reg.announce(input(1, 2), t0, out).status == AnnounceStatus::ok);
  CHECK(reg.announce(input(1, 3), t0, out).status == AnnounceStatus::ok);
  CHECK(reg.announce(input(1, 4), t0, out).status == AnnounceStatus::swarm_full);
  CHECK(reg.announce(input(1, 3), t0, out).status == AnnounceStatus::ok);  // refresh still works
  CHECK(reg.announce(input(2, 2), t0, out).status == AnnounceStatus::ok);
  CHECK(reg.announce(input(2, 3), t0, out).status == AnnounceStatus::too_many_peers);
  CHECK(reg.peer_count() == 5);
}

TEST_CASE("the keyed hash depends on the key and on every byte", "[tracker]") {
  KeyedHash a{1}, b{2};
  Digest d{};
  CHECK(a(d) != b(d));
  Digest e = d;
  e[31] = 1;
  CHECK(a(d) != a(e));
}

// InitialSeeding: distinct pieces per peer, windows freed by spread, lost pieces shown again.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "swarm/policy/initial_seeding.hpp"

using namespace p2p;
using Reveal = InitialSeeding::Reveal;

namespace {
constexpr std::uint32_t kPieces = 64;
constexpr std::uint32_t kPieceSize = 16 * 1024;

// A budget of `pieces` pieces in all.
InitialSeeding seeder(std::uint64_t pieces) { return InitialSeeding(kPieces, kPieceSize, pieces * kPieceSize); }

std::vector<std::uint32_t> pieces_for(const std::vector<Reveal>& rs, const std::string& key) {
  std::vector<std::uint32_t> out;
  for (const auto& r : rs)
    if (r.key == key) out.push_back(r.piece);
  return out;
}

std::vector<Reveal> join(InitialSeeding& s, const std::string& key, Bitfield has = Bitfield(kPieces)) {
  s.connected(key);
  return s.bitfield(key, has);
}
}  // namespace

TEST_CASE("a new peer is told nothing until its bitfield arrives, then a window of pieces", "[initial_seeding]") {
  auto s = seeder(8);
  s.connected("a");
  CHECK(s.told("a").none());
  auto shown = s.bitfield("a", Bitfield(kPieces));
  // Alone, it gets the whole budget; lowest index first.
  CHECK(pieces_for(shown, "a") == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(s.told("a").count() == 8);
  CHECK(s.window_of("a") == 8);
}

TEST_CASE("peers are shown distinct pieces, and the budget is shared", "[initial_seeding]") {
  auto s = seeder(8);
  join(s, "a");
  auto b = join(s, "b");  // two needy peers now: 4 each; a keeps what it was shown
  CHECK(s.window_limit() == 4);
  std::set<std::uint32_t> seen;
  for (auto p : pieces_for(b, "b")) CHECK(seen.insert(p).second);
  for (std::uint32_t p = 0; p < kPieces; ++p)
    if (s.told("a").test(p)) CHECK_FALSE(s.told("b").test(p));
  for (std::uint32_t p = 0; p < kPieces; ++p) CHECK(s.times_shown(p) <= 1);
}

TEST_CASE("a piece leaves its window once another peer has it: then a new one is shown", "[initial_seeding]") {
  auto s = seeder(1);  // every window is the minimum, 1 piece
  join(s, "a");
  join(s, "b");
  REQUIRE(s.window_of("a") == 1);
  auto a_told = s.told("a");
  std::uint32_t first = 0;
  while (!a_told.test(first)) ++first;
  // a receives it: not spread yet (b lacks it), nothing new for a.
  CHECK(s.have("a", first).empty());
  CHECK(s.window_of("a") == 1);
  // b gets it from a: spread; a is shown one new piece that nobody was shown before.
  auto shown = s.have("b", first);
  auto fresh = pieces_for(shown, "a");
  REQUIRE(fresh.size() == 1);
  CHECK(s.times_shown(fresh[0]) == 1);
  CHECK_FALSE(s.told("b").test(fresh[0]));
}

TEST_CASE("alone, a piece leaves the window as soon as the peer has it", "[initial_seeding]") {
  auto s = seeder(2);
  join(s, "a");
  REQUIRE(s.window_of("a") == 2);
  auto shown = s.have("a", 0);
  // Piece 2 in its place, and 3 as well: in slow start the spread piece grew the window.
  CHECK(pieces_for(shown, "a") == std::vector<std::uint32_t>{2, 3});
}

TEST_CASE("a slow forwarder gets fewer new pieces than a fast one", "[initial_seeding]") {
  auto s = seeder(1);
  join(s, "fast");
  join(s, "slow");
  join(s, "c");
  // c fetches everything fast was shown (fast passes pieces on); slow's pieces do not spread.
  std::size_t fast_shown = s.told("fast").count(), slow_shown = s.told("slow").count();
  for (int round = 0; round < 5; ++round) {
    auto told = s.told("fast");
    for (std::uint32_t p = 0; p < kPieces; ++p)
      if (told.test(p)) {
        s.have("fast", p);
        s.have("c", p);
      }
  }
  CHECK(s.told("fast").count() > fast_shown + 5);
  // Every spread grows the budget in slow start, slow's share too: one more at most.
  CHECK(s.told("slow").count() <= slow_shown + 1);
}

TEST_CASE("with several peers needing pieces, few are in flight at once; a freed slot goes to an empty window",
          "[initial_seeding]") {
  auto s = seeder(1);  // windows of one piece each: the in-flight cap binds after 8 peers
  std::vector<std::string> keys;
  for (int i = 0; i < 12; ++i) keys.push_back("p" + std::to_string(10 + i));
  for (const auto& k : keys) join(s, k);
  REQUIRE(s.in_flight_limit() == InitialSeeding::kMinInFlightPieces);
  CHECK(s.in_flight() == InitialSeeding::kMinInFlightPieces);
  std::vector<std::string> waiting;
  for (const auto& k : keys)
    if (s.window_of(k) == 0) waiting.push_back(k);
  REQUIRE(!waiting.empty());
  // A holder receives its piece: it is no longer in flight, and a waiting peer gets the slot.
  std::string holder;
  for (const auto& k : keys)
    if (s.window_of(k) > 0) holder = k;
  auto told = s.told(holder);
  std::uint32_t piece = 0;
  while (!told.test(piece)) ++piece;
  auto shown = s.have(holder, piece);
  REQUIRE(shown.size() == 1);
  CHECK(std::find(waiting.begin(), waiting.end(), shown[0].key) != waiting.end());
  CHECK(s.in_flight() == InitialSeeding::kMinInFlightPieces);
  // The rate times two round trips raises the cap: 40 MiB/s x 2 x 5 ms = 410 KiB, 25.6 pieces.
  s.set_upload_rate(40 << 20);
  s.set_round_trip(0.3);  // with the queues our sends build: not what the cap covers
  CHECK(s.in_flight_limit() == InitialSeeding::kMinInFlightPieces);
  s.set_shortest_round_trip(0.005);
  CHECK(s.in_flight_limit() == 26);
  s.set_shortest_round_trip(0.1);  // a long link: no cap (the window budget holds its round trips)
  CHECK(s.in_flight_limit() == SIZE_MAX);
  s.note_round_trip(0.2);  // a longer one changes nothing; a shorter one is the shortest at once
  CHECK(s.in_flight_limit() == SIZE_MAX);
  s.note_round_trip(0.005);
  CHECK(s.in_flight_limit() == 26);
}

TEST_CASE("a peer alone is held to the in-flight cap too, on a short path", "[initial_seeding]") {
  auto s = seeder(32);
  join(s, "a");  // the first of a swarm starting together must not take the seeder's link
  CHECK(s.in_flight_limit() == InitialSeeding::kMinInFlightPieces);
  CHECK(s.window_of("a") == InitialSeeding::kMinInFlightPieces);
  s.set_shortest_round_trip(0.1);  // a long link: its own slow start
  CHECK(s.in_flight_limit() == SIZE_MAX);
  s.have("a", 0);  // it spread: the window grows past the cap
  CHECK(s.window_of("a") >= 32);
}

TEST_CASE("pieces only a departed peer held are shown again; others are not", "[initial_seeding]") {
  auto s = seeder(4);
  join(s, "a");  // alone: the whole budget, 4 pieces
  join(s, "b");  // 2 (the minimum)
  auto a_told = s.told("a");
  std::vector<std::uint32_t> mine;
  for (std::uint32_t p = 0; p < kPieces; ++p)
    if (a_told.test(p)) mine.push_back(p);
  REQUIRE(mine.size() == 4);
  for (auto p : mine) s.have("a", p);
  s.have("b", mine[1]);  // b already has the second one
  auto shown = s.disconnected("a");
  // b may now use the whole budget, and the first piece (held by nobody now) is among what it is shown.
  auto to_b = pieces_for(shown, "b");
  CHECK(std::find(to_b.begin(), to_b.end(), mine[0]) != to_b.end());
  CHECK(std::find(to_b.begin(), to_b.end(), mine[1]) == to_b.end());
  CHECK(s.times_shown(mine[0]) == 2);
}

TEST_CASE("a peer with several connections is one peer: one window, gone at the last close", "[initial_seeding]") {
  auto s = seeder(4);
  s.connected("a");
  s.connected("a");
  s.bitfield("a", Bitfield(kPieces));
  auto told = s.told("a");
  CHECK(told.count() == 4);
  CHECK(s.disconnected("a").empty());  // one of its two connections
  CHECK(s.window_of("a") == 4);
  s.disconnected("a");
  CHECK(s.window_of("a") == 0);
  auto shown = join(s, "b");
  CHECK(pieces_for(shown, "b").size() == 4);  // a's pieces were never fetched: shown to b
}

TEST_CASE("complete peers count as holders and get nothing; when everyone has a piece it is not shown", "[initial_seeding]") {
  auto s = seeder(4);
  auto seed = join(s, "seed", Bitfield(kPieces, true));
  CHECK(seed.empty());
  auto shown = join(s, "a");
  CHECK(shown.empty());  // every piece is already in the swarm
  CHECK(s.shown_pieces() == 0);
}

TEST_CASE("a whole swarm: each piece is shown once while nobody leaves", "[initial_seeding]") {
  auto s = seeder(6);
  const std::vector<std::string> keys{"a", "b", "c"};
  std::map<std::string, Bitfield> has;
  for (const auto& k : keys) {
    join(s, k);
    has[k] = Bitfield(kPieces);
  }
  // Every round each peer fetches what it was told, and the others copy it from that peer.
  auto everyone_done = [&] { return std::all_of(keys.begin(), keys.end(), [&](const auto& k) { return has[k].all(); }); };
  for (int round = 0; round < 100 && !everyone_done(); ++round) {
    for (const auto& k : keys) {
      auto told = s.told(k);
      for (std::uint32_t p = 0; p < kPieces; ++p) {
        if (!told.test(p) || has[k].test(p)) continue;
        has[k].set(p);
        s.have(k, p);
        for (const auto& o : keys)
          if (o != k && !has[o].test(p)) {
            has[o].set(p);
            s.have(o, p);
          }
      }
    }
  }
  CHECK(s.shown_pieces() == kPieces);
  for (std::uint32_t p = 0; p < kPieces; ++p) CHECK(s.times_shown(p) == 1);
  for (const auto& k : keys) CHECK(has[k].all());
}

TEST_CASE("the copy is out once every piece has a holder; a holder leaving with the only one undoes it",
          "[initial_seeding]") {
  auto s = seeder(4);
  join(s, "a");
  join(s, "b");
  CHECK_FALSE(s.copy_out());
  for (std::uint32_t p = 0; p + 1 < kPieces; ++p) s.have(p % 2 ? "a" : "b", p);
  CHECK_FALSE(s.copy_out());  // one piece is still only ours
  s.have("a", kPieces - 1);
  CHECK(s.copy_out());
  s.disconnected("a");  // it held half the pieces alone
  CHECK_FALSE(s.copy_out());
  // A complete peer (another seeder) holds every piece at once.
  join(s, "seed", Bitfield(kPieces, true));
  CHECK(s.copy_out());
}

TEST_CASE("the budget grows with the seeder's upload rate", "[initial_seeding]") {
  auto s = seeder(4);
  join(s, "a");
  join(s, "b");
  CHECK(s.window_limit() == 2);
  s.set_upload_rate(16.0 * kPieceSize / InitialSeeding::kBudgetSeconds);  // 16 pieces per budget period
  CHECK(s.window_limit() == 8);
  s.set_upload_rate(0);
  CHECK(s.window_limit() == 2);
}

TEST_CASE("in slow start each piece that spreads adds itself to the budget, until the rate stops growing",
          "[initial_seeding]") {
  auto s = seeder(4);
  join(s, "a");
  REQUIRE(s.window_of("a") == 4);
  s.have("a", 0);  // no rate measured yet: what spreads counts all the same
  CHECK(s.window_limit() == 5);
  // 6 pieces a second: the rate rule alone shows 3 (half a second of it), under the
  // budget's 4; the slow start may add up to twice that.
  const double rate = 6.0 * kPieceSize;
  s.set_upload_rate(rate);
  CHECK(s.window_limit() == 5);
  for (std::uint32_t p = 1; p < 4; ++p) s.have("a", p);  // a window spread: 4 + 4
  CHECK(s.slow_start());
  CHECK(s.window_limit() == 8);
  CHECK(s.window_of("a") == 8);
  s.set_upload_rate(2 * rate);  // still growing: still in slow start
  for (std::uint32_t p = 4; p < 10; ++p) s.have("a", p);
  CHECK(s.window_limit() == 14);  // 4 + 10 (at most 2 x 6 = 12 may be added)
  for (std::uint32_t p = 11; p < 16; ++p) s.have("a", p);
  CHECK(s.window_limit() == 16);  // 4 + 12: the most the rate allows
  s.set_upload_rate(2.2 * rate);  // grew less than 1.25x: over, the rate rule (6.6 pieces)
  CHECK_FALSE(s.slow_start());
  CHECK(s.window_limit() == 6);
  s.set_upload_rate(0.001 * rate);  // idle: the next download starts slow again
  CHECK(s.slow_start());
}

TEST_CASE("before a rate is measured, the slow start doubles a window each time it spreads",
          "[initial_seeding]") {
  // A long link's first half second: the seeder's rate takes a tick or two to sample, and
  // its window must not sit at the minimum meanwhile.
  auto s = seeder(2);
  s.set_shortest_round_trip(0.1);  // long: a lone peer is not held to the in-flight cap
  join(s, "a");
  REQUIRE(s.window_of("a") == 2);
  std::uint32_t next = 0;
  for (std::uint32_t want : {4u, 8u, 16u}) {
    auto spread = s.window_of("a");
    for (std::uint32_t i = 0; i < spread; ++i) s.have("a", next++);
    CHECK(s.window_limit() == want);
    CHECK(s.window_of("a") == want);
  }
  // Then a rate: the rule and its bound hold again (1 piece a second: 2 + at most 1).
  s.set_upload_rate(1.0 * kPieceSize);
  CHECK(s.window_limit() == 3);
}

TEST_CASE("in slow start each piece sent grows the window too: it doubles every round trip", "[initial_seeding]") {
  // A lone peer on a long link: a piece shown is asked for, and sent, a round trip later,
  // and spreads (the peer's `have`) a round trip after that.
  auto s = seeder(2);
  s.set_shortest_round_trip(0.1);
  join(s, "a");
  REQUIRE(s.window_of("a") == 2);
  CHECK(s.serving("a", 40, 0.1).empty());  // a piece not in its window: nothing grows
  CHECK(s.serving("b", 0, 0.1).empty());   // nor one sent to somebody else
  CHECK(s.serving("a", 0, 0.001).empty()); // nor on a LAN: spreads are quick there
  CHECK(s.window_limit() == 2);
  std::vector<std::uint32_t> shown_last{0, 1}, sent_last;
  for (std::uint32_t want : {4u, 8u, 16u, 32u}) {
    std::vector<std::uint32_t> shown_now;
    for (auto p : shown_last) {
      auto r = pieces_for(s.serving("a", p, 0.1), "a");
      shown_now.insert(shown_now.end(), r.begin(), r.end());
      CHECK(s.serving("a", p, 0.1).empty());  // its further blocks add nothing
    }
    for (auto p : sent_last) {
      auto r = pieces_for(s.have("a", p), "a");
      shown_now.insert(shown_now.end(), r.begin(), r.end());
    }
    CHECK(s.window_limit() == want);
    CHECK(s.window_of("a") == want);
    sent_last = shown_last;
    shown_last = shown_now;
  }
  // Once a rate is measured, its bound holds again (1 piece a second: 2 + at most 1).
  s.set_upload_rate(1.0 * kPieceSize);
  CHECK(s.window_limit() == 3);
  s.set_upload_rate(0.5 * kPieceSize);  // grew less than 1.25x: over; sends add nothing more
  CHECK_FALSE(s.slow_start());
  CHECK(s.serving("a", shown_last.front(), 0.1).empty());
}

TEST_CASE("with several peers needing pieces, sends do not grow the window: only spreads do", "[initial_seeding]") {
  auto s = seeder(4);
  join(s, "a");
  join(s, "b");
  REQUIRE(s.window_limit() == 2);
  auto told = s.told("a");
  for (std::uint32_t p = 0; p < kPieces; ++p)
    if (told.test(p)) CHECK(s.serving("a", p, 0.1).empty());
  CHECK(s.window_limit() == 2);
}

TEST_CASE("a peer that leaves its window unrequested has it taken back until it asks again", "[initial_seeding]") {
  auto s = seeder(4);
  join(s, "idle");  // alone: the whole budget, pieces 0-3
  join(s, "b");
  REQUIRE(s.window_of("idle") == 4);
  auto b_before = s.told("b");
  // idle received piece 0 and never asked for the rest: 1-3 go back, and b (now alone
  // among the needy: the whole budget) is shown the lowest of them; piece 0 stays idle's
  // to pass on.
  s.have("idle", 0);
  auto shown = pieces_for(s.take_back("idle"), "b");
  CHECK(s.paused("idle"));
  CHECK(s.window_of("idle") == 1);
  CHECK(s.window_limit() == 4);
  CHECK(shown == std::vector<std::uint32_t>{1, 2});
  CHECK(s.window_of("b") == 4);
  for (auto p : shown) CHECK_FALSE(b_before.test(p));
  // Paused, idle is shown nothing new, not even when pieces spread.
  for (std::uint32_t p : {1u, 2u, 3u}) CHECK(pieces_for(s.have("b", p), "idle").empty());
  CHECK(s.take_back("idle").empty());  // once
  // It asks for something: it shares the budget again and is shown new pieces.
  auto again = pieces_for(s.requested("idle"), "idle");
  CHECK_FALSE(s.paused("idle"));
  CHECK_FALSE(again.empty());
  for (auto p : again) CHECK(s.times_shown(p) == 1);
  CHECK(s.requested("idle").empty());  // not paused: nothing changes
}

TEST_CASE("a paused peer that got everything it was shown elsewhere is shown pieces again", "[initial_seeding]") {
  // A downloader of two initial seeders fetched what this one showed it from the other and
  // was paused here: once it holds every piece it was told about, it has nothing it could
  // ask us for, so waiting for its request would stall it for good.
  auto s = seeder(4);
  join(s, "d");
  REQUIRE(s.window_of("d") == 4);  // pieces 0-3
  s.take_back("d");
  REQUIRE(s.paused("d"));
  CHECK(s.have("d", 0).empty());  // still lacks 1-3 it was told about: paused
  CHECK(s.have("d", 1).empty());
  CHECK(s.have("d", 2).empty());
  CHECK(s.paused("d"));
  auto shown = pieces_for(s.have("d", 3), "d");  // the last: nothing left to ask for
  CHECK_FALSE(s.paused("d"));
  CHECK(shown == std::vector<std::uint32_t>{4, 5, 6, 7});
  // The same through a bitfield (a further connection of it, say).
  auto t = seeder(2);
  join(t, "e");
  t.take_back("e");
  REQUIRE(t.paused("e"));
  Bitfield most(kPieces);
  most.set(0);
  CHECK(pieces_for(t.bitfield("e", most), "e").empty());  // lacks piece 1
  CHECK(t.paused("e"));
  most.set(1);
  CHECK(pieces_for(t.bitfield("e", most), "e") == std::vector<std::uint32_t>{2, 3});
  CHECK_FALSE(t.paused("e"));
}

TEST_CASE("a paused hoarder that holds none of what it was shown stays paused", "[initial_seeding]") {
  auto s = seeder(4);
  join(s, "hoarder");
  join(s, "b");
  s.take_back("hoarder");
  REQUIRE(s.paused("hoarder"));
  // Pieces spread among others (b fetches its window): the hoarder is shown nothing.
  for (std::uint32_t p = 0; p < kPieces; ++p)
    if (s.told("b").test(p)) CHECK(pieces_for(s.have("b", p), "hoarder").empty());
  CHECK(s.paused("hoarder"));
}

TEST_CASE("windows taken back from idle peers reach the one that asks", "[initial_seeding]") {
  // Enough idle peers to hold every piece between them, then a real downloader.
  auto s = seeder(2);
  for (int i = 0; i < 40; ++i) join(s, "idle" + std::to_string(i));
  auto first = join(s, "real");
  for (int i = 0; i < 40; ++i) s.take_back("idle" + std::to_string(i));
  CHECK(s.window_of("real") >= 2);
  CHECK(s.told("real").count() > first.size());
  // It fetches what it is shown, round after round, and ends up shown every piece.
  for (int round = 0; round < 100 && !s.told("real").all(); ++round) {
    auto told = s.told("real");
    for (std::uint32_t p = 0; p < kPieces; ++p)
      if (told.test(p)) s.have("real", p);
  }
  CHECK(s.told("real").all());
}

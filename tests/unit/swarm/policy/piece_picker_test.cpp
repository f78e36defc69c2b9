// PiecePicker: rarest first, random ties, finishing started pieces, endgame, failures.
#include <catch2/catch.hpp>

#include <set>

#include "swarm/policy/piece_picker.hpp"

using namespace p2p;

namespace {
constexpr std::uint32_t kBlock = 4;
PiecePicker picker_with(std::uint32_t pieces, std::uint32_t piece_len = 8, std::uint64_t seed = 1) {
  return PiecePicker(std::vector<std::uint32_t>(pieces, piece_len), kBlock, seed);
}
Bitfield all(std::uint32_t n) { return Bitfield(n, true); }
void receive_all(PiecePicker& p, const std::vector<BlockRef>& blocks, PiecePicker::PeerKey who,
                 std::vector<std::uint32_t>* done = nullptr) {
  for (const auto& b : blocks) {
    bool piece_done = false;
    std::vector<PiecePicker::PeerKey> others;
    p.block_received(b, who, piece_done, others);
    if (piece_done && done) done->push_back(b.piece);
  }
}
}  // namespace

TEST_CASE("blocks cover a piece exactly, short last block included", "[picker]") {
  PiecePicker p(std::vector<std::uint32_t>{10}, kBlock, 1);
  auto blocks = p.pick(all(1), 10, 1);
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[2] == BlockRef{0, 8, 2});
}

TEST_CASE("after the random start, the rarest piece goes first", "[picker]") {
  auto p = picker_with(20);
  for (std::uint32_t i = 0; i < PiecePicker::kRandomFirstPieces; ++i) p.mark_have(i);
  Bitfield common = all(20);
  Bitfield rare(20);
  rare.set(13);
  p.add_peer(common);
  p.add_peer(common);
  p.add_peer(rare);  // piece 13: availability 3, others 2... make 13 the rarest instead:
  p.remove_peer(rare);
  Bitfield most(20, true);
  most.reset(13);
  p.add_peer(most);  // every piece but 13 has availability 3; 13 has 2
  auto blocks = p.pick(all(20), 1, 7);
  REQUIRE(blocks.size() == 1);
  CHECK(blocks[0].piece == 13);
}

TEST_CASE("ties are broken at random within a window", "[picker]") {
  std::set<std::uint32_t> firsts;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    auto p = picker_with(100, 8, seed);
    for (std::uint32_t i = 0; i < PiecePicker::kRandomFirstPieces; ++i) p.mark_have(i);
    p.add_peer(all(100));
    auto blocks = p.pick(all(100), 1, 1);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0].piece < PiecePicker::kRandomFirstPieces + PiecePicker::kTieWindow);
    firsts.insert(blocks[0].piece);
  }
  CHECK(firsts.size() > 5);  // not always the same piece
}

TEST_CASE("only pieces the peer has are picked; started pieces are finished first", "[picker]") {
  auto p = picker_with(10);
  Bitfield only3(10);
  only3.set(3);
  auto a = p.pick(only3, 1, 1);  // first block of piece 3
  REQUIRE(a.size() == 1);
  CHECK(a[0].piece == 3);
  auto b = p.pick(all(10), 1, 2);  // another peer continues piece 3 before starting a new one
  REQUIRE(b.size() == 1);
  CHECK(b[0] == BlockRef{3, 4, 4});
  Bitfield none(10);
  CHECK(p.pick(none, 5, 3).empty());
}

TEST_CASE("a dropped request is offered again; a failed piece is fetched again", "[picker]") {
  auto p = picker_with(1);
  auto a = p.pick(all(1), 2, 1);
  REQUIRE(a.size() == 2);
  p.request_dropped(a[1], 1);
  auto b = p.pick(all(1), 1, 2);  // the dropped block comes back before any endgame duplicate
  REQUIRE(b.size() == 1);
  CHECK(b[0] == a[1]);
  std::vector<std::uint32_t> done;
  receive_all(p, {a[0]}, 1, &done);
  receive_all(p, b, 2, &done);
  CHECK(done == std::vector<std::uint32_t>{0});
  p.piece_failed(0);
  CHECK(p.pick(all(1), 2, 3).size() == 2);
}

TEST_CASE("endgame duplicates outstanding blocks and names whom to cancel", "[picker]") {
  auto p = picker_with(2);
  auto a = p.pick(all(2), 10, 1);  // everything requested from peer 1
  CHECK(a.size() == 4);
  CHECK(p.in_endgame());
  auto b = p.pick(all(2), 10, 2);
  CHECK(b.size() == 4);             // same blocks, second peer
  CHECK(p.pick(all(2), 10, 1).empty());  // never twice to the same peer
  bool done = false;
  std::vector<PiecePicker::PeerKey> others;
  CHECK(p.block_received(b[0], 2, done, others));
  CHECK(others == std::vector<PiecePicker::PeerKey>{1});
  others.clear();
  CHECK_FALSE(p.block_received(b[0], 1, done, others));  // the late duplicate is not wanted
}

TEST_CASE("verified pieces are never picked and complete() follows", "[picker]") {
  auto p = picker_with(3);
  p.mark_have(0);
  p.mark_have(2);
  auto a = p.pick(all(3), 10, 1);
  for (const auto& b : a) CHECK(b.piece == 1);
  std::vector<std::uint32_t> done;
  receive_all(p, a, 1, &done);
  REQUIRE(done == std::vector<std::uint32_t>{1});
  CHECK_FALSE(p.complete());
  p.piece_verified(1);
  CHECK(p.complete());
  CHECK(p.pick(all(3), 10, 1).empty());
}

TEST_CASE("a selection (--only): pieces outside it are never requested", "[picker]") {
  auto p = picker_with(12);
  Bitfield selection(12);
  for (std::uint32_t i : {2u, 3u, 7u}) selection.set(i);
  p.mark_have(3);
  p.restrict_to(selection);
  CHECK_FALSE(p.selection_complete());
  CHECK(p.wants(2));
  CHECK_FALSE(p.wants(3));  // have
  CHECK_FALSE(p.wants(5));  // outside
  p.add_peer(all(12));
  std::set<std::uint32_t> asked;
  for (int round = 0; round < 10; ++round) {
    auto blocks = p.pick(all(12), 100, 1);
    std::vector<std::uint32_t> done;
    for (const auto& b : blocks) asked.insert(b.piece);
    receive_all(p, blocks, 1, &done);
    for (auto piece : done) p.piece_verified(piece);
  }
  CHECK(asked == std::set<std::uint32_t>{2, 7});
  CHECK(p.selection_complete());
  CHECK_FALSE(p.complete());
  CHECK_FALSE(p.in_endgame());
  p.piece_failed(5);  // not wanted: stays out
  CHECK(p.pick(all(12), 100, 1).empty());
}

TEST_CASE("distributed copies: the rarest piece's count plus the share above it", "[picker]") {
  auto p = picker_with(4);
  CHECK(p.distributed_copies() == 0.0);
  Bitfield half(4);
  half.set(0);
  half.set(1);
  p.add_peer(half);
  CHECK(p.distributed_copies() == Approx(0.5));  // no copy of pieces 2, 3
  Bitfield rest(4);
  rest.set(2);
  p.add_peer(rest);
  CHECK(p.distributed_copies() == Approx(0.75));  // piece 3 is still nowhere
  p.peer_has(3);
  CHECK(p.distributed_copies() == Approx(1.0));  // every piece once: a seeder may leave
  p.add_peer(all(4));
  CHECK(p.distributed_copies() == Approx(2.0));
  p.remove_peer(half);
  CHECK(p.distributed_copies() == Approx(1.5));  // pieces 2, 3 twice; 0, 1 once
}

TEST_CASE("no more pieces are started than the memory budget allows", "[picker]") {
  auto p = picker_with(20, 8);  // two blocks per piece
  auto blocks = p.pick(all(20), 100, 1, 3);
  std::set<std::uint32_t> pieces;
  for (const auto& b : blocks) pieces.insert(b.piece);
  CHECK(pieces.size() == 3);
  CHECK(blocks.size() == 6);
  CHECK(p.pick(all(20), 100, 2, 0).empty());  // started pieces are all requested; none new
}

TEST_CASE("first_wanted: no piece below it is wanted, and it stops at the first that is", "[picker]") {
  auto p = picker_with(10);
  CHECK(p.first_wanted() == 0);
  p.mark_have(1);
  CHECK(p.first_wanted() == 0);  // piece 0 is still wanted
  p.mark_have(0);
  CHECK(p.first_wanted() == 2);  // 0 and 1 verified
  p.piece_failed(1);             // a verified piece stays verified
  CHECK(p.first_wanted() == 2);
  Bitfield sel(10);
  sel.set(5);
  sel.set(7);
  p.restrict_to(sel);  // 2-4 outside the selection
  CHECK(p.first_wanted() == 5);
  p.mark_have(5);
  CHECK(p.first_wanted() == 7);
  p.mark_have(7);
  CHECK(p.first_wanted() == 10);
  for (std::uint32_t i = 0; i < 10; ++i) CHECK_FALSE(p.wants(i));
}

TEST_CASE("the rarest piece is found wherever it is, after early-stopping scans", "[picker]") {
  // Pick after pick from a tie window at one availability (scans that stop early), then
  // a piece far behind the window becomes the rarest, then one before it is wanted again:
  // each is found, as a pass over every piece would find it.
  constexpr std::uint32_t n = 2000;
  auto p = picker_with(n);
  for (std::uint32_t i = 0; i < PiecePicker::kRandomFirstPieces; ++i) p.mark_have(i);
  p.add_peer(all(n));
  p.add_peer(all(n));
  std::vector<std::uint32_t> done;
  for (int k = 0; k < 50; ++k) {  // 50 pieces fetched from the window at the front
    auto b = p.pick(all(n), 2, 1);
    REQUIRE(b.size() == 2);
    CHECK(b[0].piece < 200);
    receive_all(p, b, 1, &done);
  }
  std::uint32_t failed = done.front();  // received, not verified: its check fails below
  for (auto d : done)
    if (d != failed) p.piece_verified(d);
  Bitfield most(n, true);
  most.reset(1900);
  p.remove_peer(all(n));
  p.add_peer(most);  // 1900 now has availability 1, every other piece 2
  auto b = p.pick(all(n), 2, 2);
  REQUIRE(b.size() == 2);
  CHECK(b[0].piece == 1900);
  receive_all(p, b, 2, &done);
  p.piece_verified(1900);
  // A piece at the front fails its check: wanted again, and rarest once its holders leave.
  p.piece_failed(failed);
  Bitfield without(n, true);
  without.reset(failed);
  p.remove_peer(all(n));
  p.add_peer(without);  // `failed` has availability 1 now (from `most`), the rest 2
  auto c = p.pick(all(n), 2, 3);
  REQUIRE(c.size() == 2);
  CHECK(c[0].piece == failed);
}

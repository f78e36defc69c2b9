// PieceBufferBudget: the steady rule (8 MiB or 1.5x the bandwidth-delay product, below the
// ceiling, plus pieces waiting for the disk on a long link) and the start-up (the ceiling
// while a long link's rate grows).
#include <catch2/catch.hpp>

#include <algorithm>

#include "base/limits.hpp"
#include "swarm/policy/piece_buffer_budget.hpp"

using namespace p2p;

namespace {
constexpr double MiB = 1048576.0;
constexpr std::size_t kMiB = 1048576;
}  // namespace

TEST_CASE("the steady budget follows what the links hold in flight, between 8 MiB and the ceiling", "[piece_buffer_budget]") {
  CHECK(PieceBufferBudget::steady(0) == limits::kMaxPiecesInFlightBytes);
  CHECK(PieceBufferBudget::steady(1e6) == limits::kMaxPiecesInFlightBytes);  // a LAN: the base
  CHECK(PieceBufferBudget::steady(8 * MiB) == 12 * kMiB);                    // 40 MiB/s over 200 ms
  CHECK(PieceBufferBudget::steady(1e12) == limits::kMaxPieceBufferCeiling);
}

TEST_CASE("on loopback the budget never starts up: 8 MiB is plenty", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  // 600 MiB/s over a 0.1 ms round trip, the rate rising each tick.
  for (double rate : {100.0, 300.0, 600.0, 600.0}) CHECK(b.update(rate * MiB * 0.0001, rate * MiB) == 8 * kMiB);
}

TEST_CASE("a long link starts up at the ceiling while its rate grows, then has the steady budget", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  const double rtt = 0.1;
  // Budget-limited, the link delivers ~0.7 x the budget per round trip (buffers are held
  // longer than their blocks are in flight), up to its own limit.
  auto tick = [&](double link_mib_s) {
    double rate = std::min(0.7 * static_cast<double>(b.budget()) / rtt, link_mib_s * MiB);
    return b.update(rate * rtt, rate);
  };
  CHECK(tick(400) == limits::kMaxPieceBufferCeiling);  // 56 MiB/s on 8 MiB: a long link, rising
  CHECK(tick(400) == limits::kMaxPieceBufferCeiling);  // 400 MiB/s (the link): still rising
  CHECK(tick(400) == limits::kMaxPieceBufferCeiling);  // flat: held
  CHECK(b.ramping());
  std::size_t after = tick(400);  // flat twice: the pipe is full, the steady rule takes over
  CHECK_FALSE(b.ramping());
  CHECK(after < limits::kMaxPieceBufferCeiling);  // spares above it are freed
  // Steady: 1.5x the product, 60 MiB, which keeps the link full (0.7 x 60 MiB per 0.1 s >
  // 400 MiB/s), and stays there.
  for (int i = 0; i < 10; ++i) tick(400);
  CHECK(static_cast<double>(b.budget()) == Approx(60 * MiB).epsilon(0.01));
  CHECK_FALSE(b.ramping());
}

TEST_CASE("pieces waiting for the disk are held on top of a long link's window, not on a LAN", "[piece_buffer_budget]") {
  PieceBufferBudget lan, wan;
  // A LAN: 600 MiB/s over 0.1 ms, 30 MiB of pieces waiting for their write: 8 MiB and
  // at most 1.5x the 60 KiB product.
  for (int i = 0; i < 4; ++i) lan.update(600 * MiB * 0.0001, 600 * MiB, 30 * kMiB);
  CHECK(lan.budget() <= limits::kMaxPiecesInFlightBytes + 96 * 1024);
  // 40 MiB/s over 200 ms (8 MiB in flight, steady 12 MiB) with 4 or 40 MiB waiting: the
  // window keeps its 12 MiB, and what waits is held on top, up to as much again.
  for (int i = 0; i < 12; ++i) wan.update(8 * MiB, 40 * MiB);  // past the start-up
  REQUIRE_FALSE(wan.ramping());
  auto approx_mib = [](double mib) { return Approx(mib * MiB).epsilon(0.02); };  // the product is averaged
  CHECK(static_cast<double>(wan.update(8 * MiB, 40 * MiB, 4 * kMiB)) == approx_mib(16));
  CHECK(static_cast<double>(wan.update(8 * MiB, 40 * MiB, 40 * kMiB)) == approx_mib(24));
  CHECK(static_cast<double>(wan.update(8 * MiB, 40 * MiB, 0)) == approx_mib(12));  // written: back to the window
}

TEST_CASE("with the start-up over, a budget-limited link still grows by the steady rule", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  const double rtt = 0.2;
  b.update(3 * MiB, 15 * MiB);  // long enough, rising: the ceiling
  b.update(3 * MiB, 15 * MiB);  // flat
  b.update(3 * MiB, 15 * MiB);  // flat: over
  REQUIRE_FALSE(b.ramping());
  std::size_t last = b.budget();
  for (int i = 0; i < 20; ++i) {  // now limited by it: each tick's 1.5x keeps it growing
    double rate = 0.7 * static_cast<double>(b.budget()) / rtt;
    b.update(rate * rtt, rate);
    CHECK(b.budget() >= last);
    last = b.budget();
  }
  CHECK(last > 12 * kMiB);
}

TEST_CASE("a link held by a rate cap has the ceiling while it starts up, then the steady budget", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  const double rtt = 0.2, cap = 40 * MiB;  // 8 MiB in flight: the 8 MiB base is just short
  std::size_t most = 0;
  // The connection's own window grows (10, 20, 30 ... MiB/s) until the cap holds it; what
  // it asks for is bounded by that window, not by the budget (RequestPipeline).
  for (double want : {10.0, 20.0, 30.0, 38.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0}) {
    double rate = std::min({want * MiB, cap, 0.7 * static_cast<double>(b.budget()) / rtt});
    b.update(rate * rtt, rate);
    most = std::max(most, b.budget());
  }
  CHECK(most == limits::kMaxPieceBufferCeiling);
  CHECK_FALSE(b.ramping());
  CHECK(static_cast<double>(b.budget()) == Approx(12 * MiB).epsilon(0.01));  // 1.5x 8 MiB
}

TEST_CASE("a start-up starts again after an idle spell", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  CHECK(b.update(6 * MiB, 60 * MiB) == limits::kMaxPieceBufferCeiling);
  CHECK(b.update(8 * MiB, 80 * MiB) == limits::kMaxPieceBufferCeiling);  // rising
  CHECK(b.ramping());
  b.update(0, 0);  // nothing arrives: back to the base; the next transfer may start up again
  CHECK(b.ramping());
  CHECK(b.budget() == limits::kMaxPiecesInFlightBytes);
  CHECK(b.update(6 * MiB, 60 * MiB) == limits::kMaxPieceBufferCeiling);
  // A LAN never does: 60 MiB/s over 1 ms holds 60 KiB.
  PieceBufferBudget lan;
  CHECK(lan.update(0.06 * MiB, 60 * MiB) == limits::kMaxPiecesInFlightBytes);
}

TEST_CASE("a long round trip starts the start-up before any rate is measured", "[piece_buffer_budget]") {
  PieceBufferBudget wan, lan;
  // Requests out over 100 ms, nothing measured yet (a rate takes two ticks): the ceiling.
  CHECK(wan.update(0, 0, 0, 0.1) == limits::kMaxPieceBufferCeiling);
  CHECK(wan.ramping());
  // The first rates: still the ceiling while they grow.
  CHECK(wan.update(0.4 * MiB, 4 * MiB, 0, 0.1) == limits::kMaxPieceBufferCeiling);
  CHECK(wan.update(2 * MiB, 20 * MiB, 0, 0.1) == limits::kMaxPieceBufferCeiling);
  // A LAN's round trip (1 ms) never does.
  CHECK(lan.update(0, 0, 0, 0.001) == limits::kMaxPiecesInFlightBytes);
  CHECK(lan.update(0.06 * MiB, 60 * MiB, 0, 0.001, true) == limits::kMaxPiecesInFlightBytes);
}

TEST_CASE("a start-up that ended early starts again when the steady budget holds a long link back",
          "[piece_buffer_budget]") {
  PieceBufferBudget b;
  const double rtt = 0.1;
  // The start-up ends on flat ticks while something else (a seeder's window still
  // opening) holds the link at 30 MiB/s.
  b.update(0, 0, 0, rtt);
  for (int i = 0; i < 4; ++i) b.update(30 * MiB * rtt, 30 * MiB, 0, rtt);
  REQUIRE_FALSE(b.ramping());
  REQUIRE(b.budget() == limits::kMaxPiecesInFlightBytes);
  // Now only the budget holds it: a slot lives ~1.4 round trips (the piece's transfer and
  // hash after it), so the link delivers budget / (1.4 rtt): with 1.5x the product that is
  // a fixed point below the link's 400 MiB/s. Held back, the budget starts up again.
  auto tick = [&](bool held_back) {
    double rate = std::min(static_cast<double>(b.budget()) / (1.4 * rtt), 400 * MiB);
    return b.update(rate * rtt, rate, 0, rtt, held_back);
  };
  CHECK(tick(true) == limits::kMaxPieceBufferCeiling);
  CHECK(b.ramping());
  for (int i = 0; i < 12; ++i) tick(b.budget() < 1.4 * rtt * 400 * MiB);
  CHECK(static_cast<double>(b.budget()) >= 1.4 * rtt * 400 * MiB * 0.95);  // enough for the link
  // Without being held back, a flat link keeps its steady budget (no probing).
  PieceBufferBudget c;
  c.update(0, 0, 0, rtt);
  for (int i = 0; i < 6; ++i) c.update(30 * MiB * rtt, 30 * MiB, 0, rtt, false);
  CHECK_FALSE(c.ramping());
  CHECK(c.budget() == limits::kMaxPiecesInFlightBytes);
}

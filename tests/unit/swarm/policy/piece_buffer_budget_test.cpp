// PieceBufferBudget: the steady rule (8 MiB or 1.5x the bandwidth-delay product, below the
// ceiling) and the start-up (doubling while a long link's rate follows the budget).
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
  // 600 MiB/s over a 0.1 ms round trip, every buffer in use, the rate rising each tick.
  for (double rate : {100.0, 300.0, 600.0, 600.0})
    CHECK(b.update(rate * MiB * 0.0001, rate * MiB, 8 * kMiB) == 8 * kMiB);
}

TEST_CASE("a long link limited by the budget doubles it while its rate follows", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  const double rtt = 0.1;
  // Budget-limited, the link delivers ~0.7 x the budget per round trip (buffers are held
  // longer than their blocks are in flight), up to its own limit.
  auto tick = [&](double link_mib_s) {
    double rate = std::min(0.7 * static_cast<double>(b.budget()) / rtt, link_mib_s * MiB);
    return b.update(rate * rtt, rate, b.budget());
  };
  CHECK(tick(400) == 16 * kMiB);  // 56 MiB/s on 8 MiB: doubled (the steady rule: 8)
  CHECK(tick(400) == 32 * kMiB);  // 112 MiB/s
  CHECK(tick(400) == 64 * kMiB);  // 224 MiB/s
  CHECK(b.ramping());
  CHECK(tick(400) == 128 * kMiB);  // 400 MiB/s (the link): still 1.25x the best, doubled once more
  CHECK(tick(400) == 128 * kMiB);  // flat: held
  CHECK(b.ramping());
  std::size_t after = tick(400);   // flat twice: the pipe is full, the steady rule takes over
  CHECK_FALSE(b.ramping());
  CHECK(after < 128 * kMiB);  // spares above it are freed
  // Steady: 1.5x the product, 60 MiB, which keeps the link full (0.7 x 60 MiB per 0.1 s >
  // 400 MiB/s), and stays there.
  for (int i = 0; i < 10; ++i) tick(400);
  CHECK(static_cast<double>(b.budget()) == Approx(60 * MiB).epsilon(0.01));
  CHECK_FALSE(b.ramping());
}

TEST_CASE("with the start-up over, a budget-limited link still grows by the steady rule", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  const double rtt = 0.2;
  b.update(3 * MiB, 15 * MiB, 8 * kMiB);   // long enough, rising: 16
  b.update(3 * MiB, 15 * MiB, 16 * kMiB);  // flat
  b.update(3 * MiB, 15 * MiB, 16 * kMiB);  // flat: over
  REQUIRE_FALSE(b.ramping());
  std::size_t last = b.budget();
  for (int i = 0; i < 20; ++i) {  // now limited by it: each tick's 1.5x keeps it growing
    double rate = 0.7 * static_cast<double>(b.budget()) / rtt;
    b.update(rate * rtt, rate, b.budget());
    CHECK(b.budget() >= last);
    last = b.budget();
  }
  CHECK(last > 12 * kMiB);
}

TEST_CASE("a link held by a rate cap gets one probing doubling, then the steady budget", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  const double rtt = 0.2, cap = 40 * MiB;  // 8 MiB in flight: the 8 MiB base is just short
  std::size_t most = 0;
  // The connection's own window grows (10, 20, 30 ... MiB/s) until the cap holds it.
  for (double want : {10.0, 20.0, 30.0, 38.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0}) {
    double rate = std::min({want * MiB, cap, 0.7 * static_cast<double>(b.budget()) / rtt});
    auto in_use = static_cast<std::size_t>(std::min(static_cast<double>(b.budget()), rate * rtt / 0.7));
    b.update(rate * rtt, rate, in_use);
    most = std::max(most, b.budget());
  }
  CHECK(most == 16 * kMiB);
  CHECK_FALSE(b.ramping());
  CHECK(static_cast<double>(b.budget()) == Approx(12 * MiB).epsilon(0.01));  // 1.5x 8 MiB
}

TEST_CASE("a start-up holds while the windows fill it and starts again after an idle spell", "[piece_buffer_budget]") {
  PieceBufferBudget b;
  b.update(6 * MiB, 60 * MiB, 8 * kMiB);
  CHECK(b.budget() == 16 * kMiB);
  b.update(8 * MiB, 80 * MiB, 9 * kMiB);  // rising but not yet mostly in use: held, not doubled
  CHECK(b.budget() == 16 * kMiB);
  CHECK(b.ramping());
  b.update(0, 0, 0);  // nothing arrives: back to the base; the next transfer may start up again
  CHECK(b.ramping());
  CHECK(b.budget() == limits::kMaxPiecesInFlightBytes);
  b.update(6 * MiB, 60 * MiB, 8 * kMiB);
  CHECK(b.budget() == 16 * kMiB);
}

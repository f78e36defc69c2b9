// How much memory the session's piece buffers may hold (PieceBufferPool's budget),
// re-sized every housekeeping tick (250 ms) from what the connections measure. Pure (the
// measurements are passed in). The shape is BBR's (Cardwell et al.): a start-up that
// doubles while the delivery rate follows, then a margin over the bandwidth-delay product.
//
// Steady: kMaxPiecesInFlightBytes, or kSteadyGain x the bandwidth-delay product the links
// measure (their rates x smallest round trips, summed; averaged over two ticks, so one
// bursty sample does not jump it) where that is more, at most kMaxPieceBufferCeiling. The
// margin lets a link limited by the budget still grow (a window W delivers about W / round
// trip, more than the rate it was sized on); on loopback and LANs the product is tiny and
// the budget stays 8 MiB.
//
// Start-up: the steady rule alone grows slowly where it is the limit (a piece's slot counts
// from its first request to its hash, and a loaded path's round trip is longer than
// its smallest, so the budget holds ~1.5x what is in flight: ~5 % a tick), and from 8 MiB
// at 100 ms to the ~60 MiB a fast link needs took it 2-3 s, half a 1 GiB transfer. So
// while the links hold a third of the 8 MiB base in flight or more (never loopback or a
// LAN), the budget doubles every tick it limits them (mostly in use, and they carry at
// least half of it per round trip: a link held by a rate cap or the peer's upload carries
// less of a doubled budget) and the rate has grown by kRampGrowth over the best so far; a
// tick without that growth holds it; kFlatTicks such ticks in a row end the start-up (the
// pipe is full) and the steady rule takes over (spares above it are freed). It starts
// again once nothing arrives (a new download after an idle spell).
#pragma once
#include <cstddef>

namespace p2p {

class PieceBufferBudget {
 public:
  static constexpr double kSteadyGain = 1.5;
  // Growth over the best rate so far that keeps the start-up going, and how many ticks
  // without it end it (BBR: 1.25 and three round trips; a tick here is 1-25 round trips).
  static constexpr double kRampGrowth = 1.25;
  static constexpr int kFlatTicks = 2;

  // One tick: `bandwidth_delay` and `rate` summed over the session's connections (bytes,
  // bytes/s), `in_use` the bytes of piece-buffer slots taken or reserved now (PieceBufferPool).
  // Returns the new budget.
  std::size_t update(double bandwidth_delay, double rate, std::size_t in_use);
  std::size_t budget() const { return budget_; }
  bool ramping() const { return ramping_; }

  // The steady budget for links that hold `bandwidth_delay` bytes in flight.
  static std::size_t steady(double bandwidth_delay);

 private:
  std::size_t budget_ = steady(0);
  double bandwidth_delay_ = 0;  // averaged over two ticks
  bool ramping_ = true;
  double best_rate_ = 0;
  int flat_ticks_ = 0;
};

}  // namespace p2p

// How much memory the session's piece buffers may hold (PieceBufferPool's budget),
// re-sized every housekeeping tick (250 ms) from what the connections measure. Pure (the
// measurements are passed in). The shape is BBR's (Cardwell et al.): a start-up while the
// delivery rate grows, then a margin over the bandwidth-delay product.
//
// Steady: kMaxPiecesInFlightBytes, or kSteadyGain x the bandwidth-delay product the links
// measure (their rates x smallest round trips, summed; averaged over two ticks, so one
// bursty sample does not jump it) where that is more, at most kMaxPieceBufferCeiling. The
// margin lets a link limited by the budget still grow (a window W delivers about W / round
// trip, more than the rate it was sized on); on loopback and LANs the product is tiny and
// the budget stays 8 MiB.
//
// Pieces that have arrived and wait for their hash and write are added on top, up to as
// much again as the steady rule gives: on a long link they would otherwise eat the window
// (1 GiB at 100 ms, uncapped: 10-30 pieces of 2 MiB waiting for the disk held a third to
// half of a 65 MiB budget). On loopback and LANs the product is tiny, so this adds
// nothing: there the disk, not the window, is the limit, and holding more in memory
// would not make it faster.
//
// Start-up: while the links hold a third of the 8 MiB base in flight or more, or one that
// has requests out is a long link (long_link.hpp: never loopback or a LAN),
// and their rate grows by kRampGrowth or more a tick, the budget is the
// ceiling, and the connections' own slow starts (RequestPipeline: each doubles its window
// every round trip) are the ramp. A slot reserved by a request holds no memory until its
// piece's first block arrives (PieceBufferPool), so what is only asked for costs nothing;
// memory is what has arrived and waits. Growing the budget itself by ticks lagged the
// connections: doubling once a tick took 8 -> 128 MiB a second of a 3 s transfer at
// 100 ms, and growing it only while it limited the links (mostly in use, carrying half of
// it per round trip) stalled on samples taken while a window was briefly empty. A tick
// without that growth holds the budget; kFlatTicks such ticks in a row end the start-up
// (the pipe is full) and the steady rule takes over (spares above it are freed). It starts
// again once nothing arrives (a new download after an idle spell). The round trip starts
// it before any rate is measured: a rate takes two ticks (half a second) to sample, and
// at 100 ms a connection's slow start outgrew the 8 MiB base before that (1 GiB,
// uncapped: 8 MiB in flight until 0.7 s).
//
// Probe: once over, it starts again whenever the steady budget held a long link's
// requests back during a tick. A start-up can end early, on ticks when something else
// held the rate (the seeder's initial-seeding window still opening): the steady rule
// alone then may not grow out, since a piece's slot is held longer than a round trip
// (request, the piece's own transfer, its hash), so 1.5x the product can be a fixed
// point (1 GiB at 100 ms: 2 MiB pieces, 8-10 MiB of budget, 75 MiB/s for 14 s).
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
  // bytes/s), `verifying` the bytes of piece buffers that hold whole pieces waiting for
  // their hash and write, `round_trip` the longest of the connections with requests out
  // (seconds; 0 if none is measured), `limited` whether the budget kept a connection
  // from asking for all it wanted since the last tick. Returns the new budget.
  std::size_t update(double bandwidth_delay, double rate, std::size_t verifying = 0, double round_trip = 0,
                     bool limited = false);
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

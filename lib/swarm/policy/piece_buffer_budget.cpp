// PieceBufferBudget: the steady rule and the start-up (see the header).
#include "swarm/policy/piece_buffer_budget.hpp"

#include <algorithm>

#include "base/limits.hpp"
#include "swarm/policy/long_link.hpp"

namespace p2p {

std::size_t PieceBufferBudget::steady(double bandwidth_delay) {
  double want = std::max(static_cast<double>(limits::kMaxPiecesInFlightBytes), kSteadyGain * bandwidth_delay);
  return static_cast<std::size_t>(std::min(want, static_cast<double>(limits::kMaxPieceBufferCeiling)));
}

std::size_t PieceBufferBudget::update(double bandwidth_delay, double rate, std::size_t verifying, double round_trip,
                                      bool limited) {
  bandwidth_delay_ = (bandwidth_delay_ + bandwidth_delay) / 2;
  // Pieces waiting for the disk do not eat the window (see the header).
  double waiting = std::min(static_cast<double>(verifying), kSteadyGain * bandwidth_delay_);
  std::size_t next = static_cast<std::size_t>(
      std::min(static_cast<double>(steady(bandwidth_delay_)) + waiting, static_cast<double>(limits::kMaxPieceBufferCeiling)));
  bool long_link = 3 * bandwidth_delay >= static_cast<double>(limits::kMaxPiecesInFlightBytes) ||
                   long_round_trip(round_trip);
  if (rate <= 0) {
    // Nothing measured yet (or nothing arrives): the next transfer starts up again, at
    // the ceiling at once if it asks over a long round trip.
    ramping_ = true;
    best_rate_ = 0;
    flat_ticks_ = 0;
    if (long_link) next = limits::kMaxPieceBufferCeiling;
  } else if (!ramping_ && long_link && limited) {
    // The steady budget holds a long link back: start up again from this rate.
    ramping_ = true;
    best_rate_ = rate;
    flat_ticks_ = 0;
    next = limits::kMaxPieceBufferCeiling;
  } else if (ramping_ && long_link) {
    if (rate >= kRampGrowth * best_rate_) {
      best_rate_ = rate;
      flat_ticks_ = 0;
      next = limits::kMaxPieceBufferCeiling;  // the connections' slow starts are the ramp
    } else if (++flat_ticks_ >= kFlatTicks) {
      ramping_ = false;  // the pipe is full: the link, not the budget, is the limit
    } else {
      next = std::max(next, budget_);
    }
  }
  budget_ = next;
  return budget_;
}

}  // namespace p2p

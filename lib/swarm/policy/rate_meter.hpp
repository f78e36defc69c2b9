// A byte rate that follows a rise at once and a fall slowly, sampled from a running total.
// Pure (time is passed in). Windows sized on a rate (RequestPipeline, InitialSeeding) use
// it: a window that waits a second to grow takes several seconds to fill a long link, and
// one that shrinks on a short stall starves a link that still needs it.
#pragma once
#include <chrono>
#include <cstdint>

namespace p2p {

class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;
  // Weight of the newest sample when the rate falls (samples every housekeeping tick,
  // 250 ms): ~1 s memory.
  static constexpr double kSmoothing = 0.25;

  // `total`: bytes so far (a running total).
  void sample(std::uint64_t total, Clock::time_point now) {
    if (last_time_ != Clock::time_point{}) {
      double dt = std::chrono::duration<double>(now - last_time_).count();
      if (dt <= 0) return;
      double r = static_cast<double>(total - last_total_) / dt;
      rate_ = r >= rate_ ? r : (1 - kSmoothing) * rate_ + kSmoothing * r;
    }
    last_time_ = now;
    last_total_ = total;
  }
  double rate() const { return rate_; }  // bytes/s

 private:
  double rate_ = 0;
  Clock::time_point last_time_{};
  std::uint64_t last_total_ = 0;
};

}  // namespace p2p

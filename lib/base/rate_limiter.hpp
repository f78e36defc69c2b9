// A token bucket that may go into debt: a sender reserves the bytes it is about
// to send and waits for the returned delay. Debt keeps the long-run average
// exact even when one block is larger than the burst. Pure: time is passed in.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace p2p {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // bytes_per_second 0 = unlimited. Burst: what may go out at once after idling (100 ms worth).
  explicit RateLimiter(std::uint64_t bytes_per_second = 0);

  bool unlimited() const { return rate_ == 0; }
  std::uint64_t rate() const { return rate_; }
  // Takes n bytes' worth of tokens; returns how long the caller must wait before sending them.
  std::chrono::nanoseconds reserve(std::uint64_t n, Clock::time_point now);

 private:
  std::uint64_t rate_;
  double tokens_;
  double burst_;
  Clock::time_point last_{};
};

// "20M", "512k", "1.5G", "100000" (bytes per second, binary units) -> bytes/s; throws Error(usage).
std::uint64_t parse_rate(const std::string& text);

}  // namespace p2p

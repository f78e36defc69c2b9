// The node's download and upload rates, one sample a second over the last
// kSeconds, for the page's chart. Rates come from the session's payload
// counters (exact bytes, not smoothed). Pure; the io thread is its only user.
#pragma once
#include <cstdint>
#include <deque>

namespace p2p::web {

struct RateSample {
  std::int64_t unix_ms = 0;
  double down = 0, up = 0;  // bytes/s
};

class RateHistory {
 public:
  static constexpr std::size_t kSeconds = 300;

  // The counters at time t (seconds, any steady origin); the first call only sets the mark.
  const RateSample* sample(double t, std::int64_t unix_ms, std::uint64_t received, std::uint64_t sent) {
    if (!started_ || t <= last_t_) {
      started_ = true;
      last_t_ = t, last_recv_ = received, last_sent_ = sent;
      return nullptr;
    }
    double dt = t - last_t_;
    samples_.push_back({unix_ms, static_cast<double>(received - last_recv_) / dt, static_cast<double>(sent - last_sent_) / dt});
    if (samples_.size() > kSeconds) samples_.pop_front();
    last_t_ = t, last_recv_ = received, last_sent_ = sent;
    return &samples_.back();
  }
  const std::deque<RateSample>& samples() const { return samples_; }
  RateSample latest() const { return samples_.empty() ? RateSample{} : samples_.back(); }

 private:
  std::deque<RateSample> samples_;
  bool started_ = false;
  double last_t_ = 0;
  std::uint64_t last_recv_ = 0, last_sent_ = 0;
};

}  // namespace p2p::web

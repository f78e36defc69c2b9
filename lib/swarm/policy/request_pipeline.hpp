// How many bytes of requests to keep outstanding on one connection: what it delivered
// recently in kQueueTime, between two blocks and kMaxBytes. Pure (time is passed in).
//
// Why by rate and not a fixed depth: a fixed 1 MiB per connection made a downloader with
// 40 connections want 40 MiB in flight; its piece-buffer budget (8 MiB) was then spent on
// the first few peers, and the others, which had given it an upload slot, got no requests
// and idled their upload. A short queue also keeps requests fresh: what is asked for is
// what is rarest now, and a piece new to the swarm is not stuck behind a second of older
// requests at the peer that has it. Two blocks at least, so that a connection always has
// the next block asked for while one arrives (and grows from there: its rate is then measured
// with a full pipe); 4 MiB at most per connection, what four connections of 1 MiB each held
// before one connection per peer became the default: enough for a loopback link.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "base/limits.hpp"

namespace p2p {

class RequestPipeline {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kQueueSeconds = 0.5;
  static constexpr std::size_t kMaxBytes = 4u << 20;
  static constexpr std::size_t kMinBlocks = 2;
  // Weight of the newest sample (taken every housekeeping tick, 250 ms): ~1 s memory.
  static constexpr double kSmoothing = 0.25;

  // `received`: the connection's payload bytes so far (a running total).
  void sample(std::uint64_t received, Clock::time_point now) {
    if (last_time_ != Clock::time_point{}) {
      double dt = std::chrono::duration<double>(now - last_time_).count();
      if (dt <= 0) return;
      double r = static_cast<double>(received - last_bytes_) / dt;
      rate_ = rate_ == 0 ? r : (1 - kSmoothing) * rate_ + kSmoothing * r;
    }
    last_time_ = now;
    last_bytes_ = received;
  }
  double rate() const { return rate_; }  // bytes/s, smoothed
  // Requests to keep outstanding, for blocks of `block_len` bytes.
  std::size_t depth(std::uint32_t block_len) const {
    std::size_t block = std::max<std::uint32_t>(1, block_len);
    auto bytes = static_cast<std::size_t>(rate_ * kQueueSeconds);
    std::size_t blocks = (std::min(bytes, kMaxBytes) + block - 1) / block;
    // Half of what a peer may queue from us (more is a flood, and it closes the connection).
    std::size_t most = std::min(kMaxBytes / block, limits::kMaxQueuedRequestsPerPeer / 2);
    return std::clamp(blocks, kMinBlocks, std::max(kMinBlocks, most));
  }

 private:
  double rate_ = 0;
  Clock::time_point last_time_{};
  std::uint64_t last_bytes_ = 0;
};

}  // namespace p2p

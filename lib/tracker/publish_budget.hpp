// What one address may make the tracker spend on publishing: checks at once and
// bytes of meta checked over time (a token bucket per address), limits in
// tracker_limits.hpp. A plain class: no clock of its own, no sockets.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/http_types.hpp"
#include "tracker/swarm_registry.hpp"  // Clock

namespace p2p::tracker {

class PublishBudget {
 public:
  struct Limits {
    std::size_t checks_at_once;
    std::uint64_t burst_bytes;
    std::uint64_t bytes_per_second;
    std::size_t max_addresses;
  };
  PublishBudget();  // the limits of tracker_limits.hpp
  explicit PublishBudget(Limits limits) : limits_(limits) {}

  enum class Verdict { ok, busy, over_budget, too_many_addresses };
  struct Answer {
    Verdict verdict = Verdict::ok;
    std::chrono::milliseconds retry_after{0};  // over_budget: when `bytes` will fit
  };
  // A publish of `bytes` from `ip`: ok takes the bytes and counts one check at
  // once, to be given back with done(ip) when the check ends.
  Answer take(std::string_view ip, std::uint64_t bytes, Clock::time_point now);
  // What take() would answer, taking nothing: asked before a body is read, so an
  // address over its budget does not even send it.
  Answer peek(std::string_view ip, std::uint64_t bytes, Clock::time_point now) const;
  void done(std::string_view ip);
  std::size_t addresses() const { return buckets_.size(); }

 private:
  struct Bucket {
    double bytes = 0;  // what may be checked now
    Clock::time_point at{};
    std::size_t checks = 0;
  };
  void refill(Bucket& b, Clock::time_point now) const;
  Answer verdict(const Bucket& b, std::uint64_t bytes) const;
  // Forgets the addresses with a full bucket and no check running.
  void forget_idle(Clock::time_point now);

  Limits limits_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// The answer to a publish from `ip` that the budget's answer does not allow (429 over
// budget or busy, 503 when too many addresses publish), nullopt when it does.
std::optional<net::HttpRefusal> publish_refusal(const PublishBudget::Answer& answer, std::string_view ip);

}  // namespace p2p::tracker

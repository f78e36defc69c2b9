// The relay's caps: bytes per second in total and per swarm (token buckets;
// both directions of a pair count), relayed pairs at once in total and per
// address. Pure: time is passed in; the relay server asks before it admits a
// connection and before it writes each chunk it read.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/rate_limiter.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

struct RelayCaps {
  std::uint64_t bytes_per_second = limits::kDefaultRelayBytesPerSecond;  // all pairs together; 0 = unlimited
  std::uint64_t swarm_bytes_per_second = limits::kDefaultRelaySwarmBytesPerSecond;  // per swarm; 0 = unlimited
  std::size_t max_pairs = limits::kDefaultRelayMaxPairs;  // waiting or relaying
  std::size_t max_pairs_per_address = limits::kDefaultRelayMaxPairsPerAddress;
};

// Why an admission was refused (none: admitted).
enum class RelayLimit { none, pairs, pairs_per_address };

class RelayQuota {
 public:
  using Clock = RateLimiter::Clock;
  explicit RelayQuota(const RelayCaps& caps);

  // The first member of a ticket arrives: takes one of max_pairs and one of its
  // address's pairs, and a share of its swarm's bucket. Undo with close_pair().
  RelayLimit open_pair(std::string_view swarm, const std::string& address);
  void close_pair(std::string_view swarm, const std::string& address);
  // Its partner arrives: takes one of its own address's pairs, unless both come
  // from the same address (a pair counts once per address). Undo with leave_pair().
  RelayLimit join_pair(const std::string& address, const std::string& first_address);
  void leave_pair(const std::string& address, const std::string& first_address);

  // `n` bytes of `swarm` (which has an open pair) are about to be forwarded:
  // takes them from the total and the swarm's bucket and returns how long to
  // wait before writing them (the longer of the two).
  std::chrono::nanoseconds reserve_bytes(std::string_view swarm, std::uint64_t n, Clock::time_point now);

  std::size_t pairs() const { return pairs_; }
  std::size_t pairs_of(const std::string& address) const;
  std::size_t swarms() const { return swarms_.size(); }
  const RelayCaps& caps() const { return caps_; }
  // New caps (the tracker's SIGHUP): buckets restart at the new rates; pairs
  // already admitted stay, new ones are held to the new counts.
  void set_caps(const RelayCaps& caps);

 private:
  struct Swarm {
    RateLimiter limiter;
    std::size_t pairs = 0;
  };
  RelayCaps caps_;
  RateLimiter total_;
  std::size_t pairs_ = 0;
  std::unordered_map<std::string, std::size_t> by_address_;
  std::unordered_map<std::string, Swarm> swarms_;  // only swarms with an open pair: bounded by max_pairs
};

}  // namespace p2p::tracker

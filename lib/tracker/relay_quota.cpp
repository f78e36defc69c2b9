// Relay caps: counts per address and per swarm, token buckets from base/rate_limiter.
#include "tracker/relay_quota.hpp"

#include <algorithm>

namespace p2p::tracker {

RelayQuota::RelayQuota(const RelayCaps& caps) : caps_(caps), total_(caps.bytes_per_second) {}

void RelayQuota::set_caps(const RelayCaps& caps) {
  caps_ = caps;
  total_ = RateLimiter(caps.bytes_per_second);
  for (auto& [name, s] : swarms_) s.limiter = RateLimiter(caps.swarm_bytes_per_second);
}

RelayLimit RelayQuota::open_pair(std::string_view swarm, const std::string& address) {
  if (pairs_ >= caps_.max_pairs) return RelayLimit::pairs;
  if (pairs_of(address) >= caps_.max_pairs_per_address) return RelayLimit::pairs_per_address;
  ++pairs_;
  ++by_address_[address];
  auto [it, added] = swarms_.try_emplace(std::string(swarm), Swarm{RateLimiter(caps_.swarm_bytes_per_second), 0});
  ++it->second.pairs;
  return RelayLimit::none;
}

void RelayQuota::close_pair(std::string_view swarm, const std::string& address) {
  if (pairs_ > 0) --pairs_;
  if (auto a = by_address_.find(address); a != by_address_.end() && --a->second == 0) by_address_.erase(a);
  if (auto s = swarms_.find(std::string(swarm)); s != swarms_.end() && --s->second.pairs == 0) swarms_.erase(s);
}

RelayLimit RelayQuota::join_pair(const std::string& address, const std::string& first_address) {
  if (address == first_address) return RelayLimit::none;
  if (pairs_of(address) >= caps_.max_pairs_per_address) return RelayLimit::pairs_per_address;
  ++by_address_[address];
  return RelayLimit::none;
}

void RelayQuota::leave_pair(const std::string& address, const std::string& first_address) {
  if (address == first_address) return;
  if (auto a = by_address_.find(address); a != by_address_.end() && --a->second == 0) by_address_.erase(a);
}

std::chrono::nanoseconds RelayQuota::reserve_bytes(std::string_view swarm, std::uint64_t n, Clock::time_point now) {
  auto wait = total_.reserve(n, now);
  if (auto s = swarms_.find(std::string(swarm)); s != swarms_.end())
    wait = std::max(wait, s->second.limiter.reserve(n, now));
  return wait;
}

std::size_t RelayQuota::pairs_of(const std::string& address) const {
  auto it = by_address_.find(address);
  return it == by_address_.end() ? 0 : it->second;
}

}  // namespace p2p::tracker

// IdleEviction: the idlest unprotected connection.
#include "swarm/policy/idle_eviction.hpp"

#include <tuple>

namespace p2p {

std::optional<std::uint64_t> IdleEviction::pick(const std::vector<Candidate>& connections, Clock::time_point now) {
  const Candidate* best = nullptr;
  // Lower sorts first: never moved payload before moved long ago; the busiest address;
  // then idle longest.
  auto order = [](const Candidate& c) {
    return std::tuple(c.moved_payload, ~c.from_address, c.idle_since, c.id);
  };
  for (const auto& c : connections) {
    if (c.moved_payload && now - c.idle_since < kPayloadProtection) continue;
    if (!best || order(c) < order(*best)) best = &c;
  }
  if (!best) return std::nullopt;
  return best->id;
}

}  // namespace p2p

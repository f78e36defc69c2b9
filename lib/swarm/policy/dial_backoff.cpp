// DialBackoff: exponential back-off, per trust.
#include "swarm/policy/dial_backoff.hpp"

#include <algorithm>

namespace p2p {

DialBackoff::Clock::duration DialBackoff::interval(Trust trust, int failures) {
  int doublings = std::clamp(failures - 1, 0, 16);  // 2^16 x 0.5 s is past either cap
  if (trust == Trust::vouched)
    return std::min<Clock::duration>(kVouchedFirstInterval * (1 << doublings), kVouchedMaxInterval);
  return std::min<Clock::duration>(kHintFirstInterval * (1 << doublings), kHintMaxInterval);
}

}  // namespace p2p

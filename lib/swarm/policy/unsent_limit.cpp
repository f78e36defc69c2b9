// UnsentLimit: TCP_NOTSENT_LOWAT as a share of the connection's send rate.
#include "swarm/policy/unsent_limit.hpp"

#include <algorithm>

namespace p2p {

std::optional<int> UnsentLimit::next(double rate, int current) {
  double share = rate > 0 ? rate * kSeconds : 0;
  int want = static_cast<int>(std::clamp(share, static_cast<double>(kMin), static_cast<double>(kMax)));
  if (current <= 0 || want >= 2 * current || 2 * want <= current) return want;
  return std::nullopt;
}

}  // namespace p2p

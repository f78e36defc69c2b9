// PublishBudget: a token bucket of bytes and a count of checks per address.
#include "tracker/publish_budget.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/core.h>

#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

PublishBudget::PublishBudget()
    : limits_{limits::kMaxPublishChecksPerAddress, limits::kPublishBurstBytes, limits::kPublishBytesPerSecond,
              limits::kMaxPublishAddresses} {}

void PublishBudget::refill(Bucket& b, Clock::time_point now) const {
  if (now > b.at) {
    double seconds = std::chrono::duration<double>(now - b.at).count();
    b.bytes = std::min<double>(static_cast<double>(limits_.burst_bytes),
                               b.bytes + seconds * static_cast<double>(limits_.bytes_per_second));
  }
  b.at = now;
}

void PublishBudget::forget_idle(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    if (it->second.checks == 0 && it->second.bytes >= static_cast<double>(limits_.burst_bytes)) it = buckets_.erase(it);
    else ++it;
  }
}

PublishBudget::Answer PublishBudget::take(std::string_view ip, std::uint64_t bytes, Clock::time_point now) {
  auto it = buckets_.find(std::string(ip));
  if (it == buckets_.end()) {
    if (buckets_.size() >= limits_.max_addresses) forget_idle(now);
    if (buckets_.size() >= limits_.max_addresses) return {Verdict::too_many_addresses};
    it = buckets_.emplace(std::string(ip), Bucket{static_cast<double>(limits_.burst_bytes), now, 0}).first;
  }
  Bucket& b = it->second;
  refill(b, now);
  Answer a = verdict(b, bytes);
  if (a.verdict != Verdict::ok) return a;
  b.bytes -= static_cast<double>(std::min(bytes, limits_.burst_bytes));
  ++b.checks;
  return a;
}

PublishBudget::Answer PublishBudget::peek(std::string_view ip, std::uint64_t bytes, Clock::time_point now) const {
  auto it = buckets_.find(std::string(ip));
  if (it == buckets_.end()) return {};  // a new address starts with a full bucket
  Bucket b = it->second;
  refill(b, now);
  return verdict(b, bytes);
}

PublishBudget::Answer PublishBudget::verdict(const Bucket& b, std::uint64_t bytes) const {
  if (b.checks >= limits_.checks_at_once) return {Verdict::busy};
  // A body larger than the burst could never fit: it is charged the whole burst.
  double cost = static_cast<double>(std::min(bytes, limits_.burst_bytes));
  if (b.bytes < cost) {
    double wait = (cost - b.bytes) / static_cast<double>(std::max<std::uint64_t>(1, limits_.bytes_per_second));
    return {Verdict::over_budget, std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait * 1000)))};
  }
  return {};
}

void PublishBudget::done(std::string_view ip) {
  auto it = buckets_.find(std::string(ip));
  if (it != buckets_.end() && it->second.checks > 0) --it->second.checks;
}

std::optional<net::HttpRefusal> publish_refusal(const PublishBudget::Answer& a, std::string_view ip) {
  switch (a.verdict) {
    case PublishBudget::Verdict::ok: return std::nullopt;
    case PublishBudget::Verdict::busy:
      return net::HttpRefusal{429, fmt::format("publish: {} publishes from {} are being checked already; wait for "
                                               "their answers",
                                               limits::kMaxPublishChecksPerAddress, ip)};
    case PublishBudget::Verdict::over_budget:
      return net::HttpRefusal{
          429, fmt::format("publish: {} has published more meta bytes than the tracker checks for one address "
                           "({} MiB at once, then {} KiB/s); retry in {:.1f} s",
                           ip, limits::kPublishBurstBytes >> 20, limits::kPublishBytesPerSecond >> 10,
                           static_cast<double>(a.retry_after.count()) / 1000)};
    case PublishBudget::Verdict::too_many_addresses:
      return net::HttpRefusal{503, "publish: too many addresses are publishing at once; retry shortly"};
  }
  return std::nullopt;
}

}  // namespace p2p::tracker

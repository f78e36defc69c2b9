// RateLimiter: token bucket with debt; parse_rate for the command line.
#include "base/rate_limiter.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "base/error.hpp"

namespace p2p {

RateLimiter::RateLimiter(std::uint64_t bytes_per_second)
    : rate_(bytes_per_second), tokens_(0), burst_(static_cast<double>(bytes_per_second) / 10) {
  tokens_ = burst_;
}

std::chrono::nanoseconds RateLimiter::reserve(std::uint64_t n, Clock::time_point now) {
  if (rate_ == 0) return std::chrono::nanoseconds(0);
  if (last_ != Clock::time_point{}) {
    double dt = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + dt * static_cast<double>(rate_));
  }
  last_ = now;
  tokens_ -= static_cast<double>(n);
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(-tokens_ / static_cast<double>(rate_) * 1e9));
}

std::uint64_t parse_rate(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  double mult = 1;
  if (unit == "" || unit == "B") mult = 1;
  else if (unit == "k" || unit == "K" || unit == "KiB") mult = 1024;
  else if (unit == "m" || unit == "M" || unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "G" || unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else used = 0;
  if (used == 0 || !std::isfinite(value) || value < 0 || value * mult > 1e15)
    throw Error(ExitCode::usage, fmt::format("rate {:?} is not a number of bytes per second like 500k, 20M or 1G", text));
  return static_cast<std::uint64_t>(value * mult);
}

}  // namespace p2p

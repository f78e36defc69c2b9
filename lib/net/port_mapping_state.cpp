// Port mapping, the pure part: summaries, the one line, the schedule.
#include "net/port_mapping_state.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "base/address.hpp"

namespace p2p {

std::string_view mapping_method_name(MappingMethod method) {
  return method == MappingMethod::natpmp ? "NAT-PMP" : "UPnP";
}

std::string_view mapping_state_name(PortMappingStatus::State state) {
  switch (state) {
    case PortMappingStatus::State::off: return "off";
    case PortMappingStatus::State::trying: return "trying";
    case PortMappingStatus::State::mapped: return "mapped";
    case PortMappingStatus::State::unmapped: return "unmapped";
  }
  return "off";
}

PortMappingStatus summarize_attempts(const std::vector<MappingAttempt>& attempts) {
  PortMappingStatus s;
  s.state = PortMappingStatus::State::unmapped;
  for (const auto& a : attempts) {
    if (a.outcome != MappingAttempt::Outcome::mapped) continue;
    s.state = PortMappingStatus::State::mapped;
    s.method = a.method;
    s.external_ip = a.external_ip;
    s.external_port = a.external_port;
    s.lifetime = a.lifetime;
    return s;
  }
  std::string silent, refusals;
  for (const auto& a : attempts) {
    auto name = mapping_method_name(a.method);
    if (a.outcome == MappingAttempt::Outcome::refused)
      refusals += fmt::format("{}{}: {}", refusals.empty() ? "" : "; ", name, a.detail);
    else
      silent += fmt::format("{}{}", silent.empty() ? "" : ", ", name);
  }
  if (!refusals.empty())
    s.why_not = fmt::format("refused by the gateway ({})", refusals);
  else if (!silent.empty())
    s.why_not = fmt::format("no gateway answered ({})", silent);
  else
    s.why_not = "nothing tried";
  return s;
}

std::string describe_mapping(const PortMappingStatus& status) {
  switch (status.state) {
    case PortMappingStatus::State::mapped:
      return fmt::format("{} via {}{}", format_host_port(status.external_ip, status.external_port),
                         mapping_method_name(status.method), status.lifetime.count() == 0 ? " (permanent lease)" : "");
    case PortMappingStatus::State::trying: return "asking the gateway";
    case PortMappingStatus::State::unmapped: return status.why_not;
    case PortMappingStatus::State::off: return status.why_not.empty() ? "off" : fmt::format("off ({})", status.why_not);
  }
  return status.why_not;
}

std::chrono::seconds renew_after(std::chrono::seconds lifetime) {
  if (lifetime.count() <= 0) return kPermanentRecheck;
  return std::max(std::chrono::seconds(1), lifetime / 2);
}

std::chrono::seconds retry_after(int failures) {
  int doublings = std::clamp(failures - 1, 0, 5);  // 1, 2, 4, 8, 16, 32 -> capped at 30
  return std::min(std::chrono::seconds(60 << doublings), std::chrono::seconds(30 * 60));
}

}  // namespace p2p

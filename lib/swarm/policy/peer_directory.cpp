// PeerDirectory: known peers, back-off and give-up rules.
#include "swarm/policy/peer_directory.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "base/address.hpp"
#include "base/limits.hpp"

namespace p2p {

std::string address_label(const wire::PeerAddress& a) { return format_host_port(a.host, a.port); }

bool PeerDirectory::add(const wire::PeerAddress& a, Source source) {
  if (peers_.count(a)) {
    if (source == Source::command_line) peers_[a].source = source;
    return false;
  }
  if (peers_.size() >= kMaxKnownPeers) return false;
  peers_[a].source = source;
  return true;
}

int PeerDirectory::wanted_connections(const Record& r) const {
  int want = r.source == Source::command_line ? std::clamp(parallel_, 1, limits::kMaxParallel) : 1;
  if (r.failures > 0 && r.open == 0) want = 1;  // after a failure, probe with one before opening the rest
  return want;
}

std::vector<wire::PeerAddress> PeerDirectory::to_dial(Clock::time_point now, std::size_t budget) const {
  std::vector<wire::PeerAddress> out;
  for (const auto& [addr, r] : peers_) {
    if (r.dead || r.failures >= limits::kMaxConnectAttempts || r.next_try > now || r.incoming > 0) continue;
    for (int n = r.open + r.connecting; n < wanted_connections(r) && out.size() < budget; ++n) out.push_back(addr);
  }
  return out;
}

void PeerDirectory::dialling(const wire::PeerAddress& a) { ++peers_[a].connecting; }

void PeerDirectory::backoff(Record& r, const std::string& why, Clock::time_point now) {
  ++r.failures;
  r.last_error = why;
  r.next_try = now + std::chrono::milliseconds(500) * (1 << std::min(r.failures - 1, 5));
}

void PeerDirectory::dial_failed(const wire::PeerAddress& a, const std::string& why, Clock::time_point now) {
  auto& r = peers_[a];
  if (r.connecting > 0) --r.connecting;
  backoff(r, why, now);
}

void PeerDirectory::connected(const wire::PeerAddress& a) {
  auto& r = peers_[a];
  if (r.connecting > 0) --r.connecting;
  ++r.open;
}

void PeerDirectory::closed(const wire::PeerAddress& a, bool useful, const std::string& why, Clock::time_point now) {
  auto& r = peers_[a];
  if (r.open > 0) --r.open;
  if (useful) {
    r.failures = 0;
    r.last_error = why;
    r.next_try = now + std::chrono::milliseconds(500);
  } else {
    backoff(r, why, now);
  }
}

void PeerDirectory::refuse_forever(const wire::PeerAddress& a, const std::string& why) {
  auto& r = peers_[a];
  r.dead = true;
  r.last_error = why;
}

void PeerDirectory::ban(const wire::PeerAddress& a, const std::string& why) { refuse_forever(a, "banned: " + why); }

void PeerDirectory::incoming(const wire::PeerAddress& a) {
  if (!peers_.count(a) && peers_.size() >= kMaxKnownPeers) return;
  ++peers_[a].incoming;
}

void PeerDirectory::incoming_closed(const wire::PeerAddress& a) {
  auto it = peers_.find(a);
  if (it != peers_.end() && it->second.incoming > 0) --it->second.incoming;
}

bool PeerDirectory::any_hope() const {
  for (const auto& [addr, r] : peers_) {
    if (r.open > 0 || r.connecting > 0 || r.incoming > 0) return true;
    if (!r.dead && r.failures < limits::kMaxConnectAttempts) return true;
  }
  return false;
}

int PeerDirectory::failures(const wire::PeerAddress& a) const {
  auto it = peers_.find(a);
  return it == peers_.end() ? 0 : it->second.failures;
}

std::string PeerDirectory::last_error(const wire::PeerAddress& a) const {
  auto it = peers_.find(a);
  return it == peers_.end() ? std::string() : it->second.last_error;
}

bool PeerDirectory::gave_up(const wire::PeerAddress& a) const {
  auto it = peers_.find(a);
  return it != peers_.end() && (it->second.dead || it->second.failures >= limits::kMaxConnectAttempts);
}

std::string PeerDirectory::failure_summary() const {
  std::string out;
  for (const auto& [addr, r] : peers_) {
    if (r.last_error.empty()) continue;
    out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", address_label(addr), r.last_error);
  }
  return out.empty() ? "no peers to ask" : out;
}

}  // namespace p2p

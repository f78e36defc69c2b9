// PeerDirectory: known peers, back-off and give-up rules.
#include "swarm/policy/peer_directory.hpp"

#include <fmt/core.h>

#include <asio/ip/address.hpp>

#include <algorithm>

#include "base/address.hpp"
#include "base/limits.hpp"

namespace p2p {

std::string address_label(const wire::PeerAddress& a) { return format_host_port(a.host, a.port); }

bool dialable(const wire::PeerAddress& a, std::string_view advertiser_ip) {
  if (a.port == 0) return false;
  std::error_code ec;
  auto addr = asio::ip::make_address(a.host, ec);
  if (ec || addr.is_unspecified() || addr.is_multicast()) return false;
  auto local_kind = [](const asio::ip::address& x) {
    if (x.is_loopback()) return 1;
    if (x.is_v6() && x.to_v6().is_link_local()) return 2;
    if (x.is_v4() && (x.to_v4().to_uint() & 0xffff0000u) == 0xa9fe0000u) return 2;  // 169.254/16
    return 0;
  };
  if (addr.is_v4() && addr.to_v4() == asio::ip::address_v4::broadcast()) return false;
  int kind = local_kind(addr);
  if (kind == 0 || advertiser_ip.empty()) return true;
  auto adv = asio::ip::make_address(advertiser_ip, ec);
  return !ec && local_kind(adv) == kind;
}

bool PeerDirectory::add(const wire::PeerAddress& a, Source source, const std::string& advertiser) {
  auto it = peers_.find(a);
  if (it != peers_.end()) {
    auto& r = it->second;
    if (source < r.source) {  // better vouched now
      if (trust(r.source) != trust(source) && r.failures > 0)  // a hint's long wait ends: the vouched schedule
        r.next_try = std::min(r.next_try, DialBackoff::next_try(trust(source), r.failures, r.last_failure));
      r.source = source;
    }
    if (!advertiser.empty() && r.advertisers.size() < 4) r.advertisers.insert(advertiser);
    return false;
  }
  if (peers_.size() >= kMaxKnownPeers) return false;
  if (!advertiser.empty() && adds_by_advertiser_[advertiser]++ >= kMaxAddsPerAdvertiser) return false;
  auto& r = peers_[a];
  r.source = source;
  if (!advertiser.empty()) r.advertisers.insert(advertiser);
  return true;
}

int PeerDirectory::wanted_connections(const Record& r) const {
  int want = r.source == Source::command_line ? std::clamp(parallel_, 1, limits::kMaxParallel) : 1;
  if (r.failures > 0 && r.open == 0) want = 1;  // after a failure, probe with one before opening the rest
  return want;
}

bool PeerDirectory::out_of_attempts(const Record& r) const {
  return r.dead || DialBackoff::exhausted(trust(r.source), r.failures);
}

int PeerDirectory::rank(const Record& r) const {
  switch (r.source) {
    case Source::command_line: return 0;
    case Source::tracker: return 1;
    case Source::lan: return 2;
    case Source::pex: return r.advertisers.size() >= 2 ? 2 : 3;
  }
  return 3;
}

std::vector<wire::PeerAddress> PeerDirectory::to_dial(Clock::time_point now, std::size_t budget) const {
  std::vector<std::pair<int, wire::PeerAddress>> due;
  for (const auto& [addr, r] : peers_) {
    if (out_of_attempts(r) || r.next_try > now || r.incoming > 0) continue;
    for (int n = r.open + r.connecting; n < wanted_connections(r); ++n) due.emplace_back(rank(r), addr);
  }
  std::stable_sort(due.begin(), due.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<wire::PeerAddress> out;
  for (auto& [rank, addr] : due) {
    if (out.size() >= budget) break;
    out.push_back(addr);
  }
  return out;
}

void PeerDirectory::dialling(const wire::PeerAddress& a) { ++peers_[a].connecting; }

void PeerDirectory::backoff(Record& r, const std::string& why, Clock::time_point now) {
  ++r.failures;
  r.last_error = why;
  r.last_failure = now;
  r.next_try = DialBackoff::next_try(trust(r.source), r.failures, now);
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

void PeerDirectory::superseded(const wire::PeerAddress& a) {
  auto& r = peers_[a];
  if (r.open > 0) --r.open;
}

void PeerDirectory::refuse_forever(const wire::PeerAddress& a, const std::string& why) {
  auto& r = peers_[a];
  r.dead = true;
  r.last_error = why;
}

void PeerDirectory::ban(const wire::PeerAddress& a, const std::string& why) { refuse_forever(a, "banned: " + why); }

void PeerDirectory::rendezvous(const wire::PeerAddress& a, Clock::time_point now) {
  auto it = peers_.find(a);
  if (it == peers_.end()) return;  // add() it first (it may have been refused: directory full)
  it->second.rendezvous = true;
  if (!it->second.dead) it->second.next_try = now;
}

bool PeerDirectory::met_by_rendezvous(const wire::PeerAddress& a) const {
  auto it = peers_.find(a);
  return it != peers_.end() && it->second.rendezvous;
}

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
    if (!out_of_attempts(r)) return true;
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
  return it != peers_.end() && out_of_attempts(it->second);
}

int PeerDirectory::confirmations(const wire::PeerAddress& a) const {
  auto it = peers_.find(a);
  return it == peers_.end() ? 0 : static_cast<int>(it->second.advertisers.size());
}

PeerDirectory::Clock::time_point PeerDirectory::next_retry() const {
  auto next = Clock::time_point::max();
  for (const auto& [addr, r] : peers_)
    if (!out_of_attempts(r) && r.open == 0 && r.connecting == 0) next = std::min(next, r.next_try);
  return next;
}

std::string PeerDirectory::failure_summary() const {
  std::string out;
  for (const auto& [addr, r] : peers_) {
    if (r.last_error.empty()) continue;
    out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", address_label(addr), r.last_error);
  }
  return out.empty() ? "no peers to ask" : out;
}

std::optional<PeerDirectory::Source> PeerDirectory::source(const wire::PeerAddress& a) const {
  auto it = peers_.find(a);
  if (it == peers_.end()) return std::nullopt;
  return it->second.source;
}

}  // namespace p2p

// PeerExchange: diff of the known-peer set since the last message, at most 50 each way.
#include "swarm/policy/peer_exchange.hpp"

#include "base/limits.hpp"

namespace p2p {

std::optional<wire::Pex> PeerExchange::next(const std::set<wire::PeerAddress>& current, Clock::time_point now) {
  if (last_sent_ != Clock::time_point{} && now - last_sent_ < kMinInterval) return std::nullopt;
  wire::Pex msg;
  for (const auto& a : current) {
    if (msg.added.size() >= limits::kMaxPexPeersPerMessage) break;
    if (!told_.count(a)) msg.added.push_back(a);
  }
  for (const auto& a : told_) {
    if (msg.dropped.size() >= limits::kMaxPexPeersPerMessage) break;
    if (!current.count(a)) msg.dropped.push_back(a);
  }
  if (msg.added.empty() && msg.dropped.empty()) return std::nullopt;
  for (const auto& a : msg.added) told_.insert(a);
  for (const auto& a : msg.dropped) told_.erase(a);
  last_sent_ = now;
  return msg;
}

bool PeerExchange::accept_incoming(Clock::time_point now) {
  if (last_received_ != Clock::time_point{} && now - last_received_ < kMinReceiveInterval) return false;
  last_received_ = now;
  return true;
}

}  // namespace p2p

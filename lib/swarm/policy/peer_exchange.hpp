// Peer exchange (gossip): what we last told one connection about the peers we
// know, so each pex message carries only changes, bounded per message. Pure.
#pragma once
#include <chrono>
#include <optional>
#include <set>

#include "format/wire.hpp"

namespace p2p {

class PeerExchange {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kMinInterval = std::chrono::seconds(2);   // between our messages to one peer
  static constexpr auto kMinReceiveInterval = std::chrono::seconds(1);  // theirs to us; faster ones are ignored

  // The message to send now given the current set of good peers (excluding the recipient),
  // or nullopt if nothing changed or it is too soon.
  std::optional<wire::Pex> next(const std::set<wire::PeerAddress>& current, Clock::time_point now);
  // Whether a pex from this peer arriving now should be used (rate limit).
  bool accept_incoming(Clock::time_point now);

 private:
  std::set<wire::PeerAddress> told_;
  Clock::time_point last_sent_{}, last_received_{};
};

}  // namespace p2p

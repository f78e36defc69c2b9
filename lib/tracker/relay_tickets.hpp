// Relay tickets: the tracker's API issues one per relayed pair and tells it to
// both members; the relay admits exactly one dialler and one acceptor with it.
// Pure (no sockets; time is passed in), bounded, and owned by the io thread.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "format/relay_frames.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

class RelayTickets {
 public:
  using Clock = std::chrono::steady_clock;
  using Role = relay::Role;

  explicit RelayTickets(std::size_t max_outstanding = limits::kMaxRelayTickets,
                        Clock::duration ttl = limits::kRelayTicketTtl);

  // A fresh ticket (256 bits from OpenSSL RAND_bytes, 64 lowercase hex) for a
  // pair in the swarm `swarm_id_hex` (64 hex: an info hash or a private swarm's
  // id), valid until now + ttl. At the cap the oldest outstanding ticket is
  // dropped. Throws std::invalid_argument for a malformed swarm id, Error(internal)
  // if the random source fails.
  std::string issue(std::string_view swarm_id_hex, Clock::time_point now);

  // Admits `role` once: the ticket's swarm id, or nullopt when the ticket is
  // unknown, expired, dropped, or that role already used it. A ticket both
  // roles have used is forgotten.
  std::optional<std::string> redeem(std::string_view ticket, Role role, Clock::time_point now);

  // Drops expired tickets (issue and redeem also do, from the oldest on).
  void sweep(Clock::time_point now);
  std::size_t outstanding() const { return tickets_.size(); }
  Clock::duration ttl() const { return ttl_; }

 private:
  struct Entry {
    std::string swarm;
    Clock::time_point expires;
    std::uint64_t seq = 0;  // issue order: the key in order_
    bool dialler_used = false, acceptor_used = false;
  };
  void erase(std::unordered_map<std::string, Entry>::iterator it);

  std::size_t max_;
  Clock::duration ttl_;
  std::unordered_map<std::string, Entry> tickets_;
  // Issue order; with one ttl for all it is also expiry order, so sweeping and
  // dropping the oldest both start at begin().
  std::map<std::uint64_t, std::string> order_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace p2p::tracker

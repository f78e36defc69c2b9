// Relay tickets: a map by ticket for redeeming, an ordered index by issue
// sequence for expiry and for dropping the oldest at the cap.
#include "tracker/relay_tickets.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "base/error.hpp"
#include "base/hex.hpp"
#include "base/sha256.hpp"

namespace p2p::tracker {

RelayTickets::RelayTickets(std::size_t max_outstanding, Clock::duration ttl)
    : max_(max_outstanding == 0 ? 1 : max_outstanding), ttl_(ttl) {}

std::string RelayTickets::issue(std::string_view swarm_id_hex, Clock::time_point now) {
  if (!is_hex(swarm_id_hex, 64))
    throw std::invalid_argument("relay ticket: the swarm id must be 64 hex digits");
  sweep(now);
  while (tickets_.size() >= max_) erase(tickets_.find(order_.begin()->second));
  std::array<std::uint8_t, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw Error(ExitCode::internal, "cannot draw random bytes for a relay ticket (OpenSSL RAND_bytes failed)");
  std::string ticket = to_hex(raw);
  std::string swarm(swarm_id_hex);
  for (auto& c : swarm) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  std::uint64_t seq = next_seq_++;
  tickets_.emplace(ticket, Entry{std::move(swarm), now + ttl_, seq});
  order_.emplace(seq, ticket);
  return ticket;
}

std::optional<std::string> RelayTickets::redeem(std::string_view ticket, Role role, Clock::time_point now) {
  sweep(now);
  auto it = tickets_.find(std::string(ticket));
  if (it == tickets_.end() || it->second.expires <= now) return std::nullopt;
  bool& used = role == Role::dialler ? it->second.dialler_used : it->second.acceptor_used;
  if (used) return std::nullopt;
  used = true;
  std::string swarm = it->second.swarm;
  if (it->second.dialler_used && it->second.acceptor_used) erase(it);
  return swarm;
}

void RelayTickets::sweep(Clock::time_point now) {
  while (!order_.empty()) {
    auto it = tickets_.find(order_.begin()->second);
    if (it->second.expires > now) break;
    erase(it);
  }
}

void RelayTickets::erase(std::unordered_map<std::string, Entry>::iterator it) {
  order_.erase(it->second.seq);
  tickets_.erase(it);
}

}  // namespace p2p::tracker

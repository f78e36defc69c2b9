// Torrent, continued: scores and bans. A closed connection is scored by why it closed;
// a proven liar is banned at once in the host's reputation (which outlives the run),
// and its connections closed. Runs on the session's io thread.
#include <fmt/core.h>

#include "swarm/torrent.hpp"

namespace p2p {

void Torrent::note_ban(const std::string& key, const std::string& reason) {
  if (banned_.count(key)) return;
  banned_[key] = reason;
  ++host_.counters().peers_banned;
  for (auto& [id, p] : peers_)
    if (p.reputation_key == key && p.dialled() && p.listen_address) dir_.ban(*p.listen_address, reason);
  event(EventKind::banned, fmt::format("{}: {} (bans last {} min and survive restarts; --list-bans shows them, "
                                       "--forget-bans clears them)",
                                       key, reason,
                                       std::chrono::duration_cast<std::chrono::minutes>(Reputation::kBanDuration).count()));
}

void Torrent::ban(const std::string& key, const std::string& reason) {
  host_.reputation().ban(key, reason, host_.wall_now());
  note_ban(key, reason);
  for (auto& [id, p] : std::map(peers_))
    if (p.reputation_key == key) {
      if (!p.dialled()) host_.note_inbound_ban(p.conn->peer_ip());
      p.conn->close(CloseReason::banned, reason);
    }
}

void Torrent::score_close(const Peer& p, CloseReason reason, const std::string& detail) {
  if (!p.conn->handshaken()) return;
  Reputation::Event e;
  if (reason == CloseReason::protocol_violation) e = Reputation::Event::violation;
  else if (reason == CloseReason::stalled || reason == CloseReason::unresponsive) e = Reputation::Event::timeout;
  else return;
  std::string why = fmt::format("{}: {}", close_reason_name(reason), detail);
  if (host_.reputation().record(p.reputation_key, e, why, host_.wall_now())) {
    if (!p.dialled()) host_.note_inbound_ban(p.conn->peer_ip());
    note_ban(p.reputation_key, host_.reputation().find(p.reputation_key)->reason);
  }
}

}  // namespace p2p

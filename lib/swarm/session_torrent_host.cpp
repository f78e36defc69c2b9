// The session as its torrents see it (torrent_host.hpp): each call forwards to the
// session's own state. Runs on the session's io thread.
#include "swarm/session_impl.hpp"

namespace p2p {

asio::io_context& SessionTorrentHost::io() { return s_.io; }
HashPool& SessionTorrentHost::hashers() { return s_.hashers; }
PieceBufferPool& SessionTorrentHost::buffers() { return s_.buffers; }
Reputation& SessionTorrentHost::reputation() { return s_.reputation; }
SessionCounters& SessionTorrentHost::counters() { return s_.counters; }
SessionObserver& SessionTorrentHost::observer() { return s_.observer; }

void SessionTorrentHost::note_piece_timing(double hash_seconds, double write_seconds) {
  s_.note_piece_timing(hash_seconds, write_seconds);
}

const std::string& SessionTorrentHost::peer_id() const { return s_.peer_id; }
std::uint16_t SessionTorrentHost::listen_port() const { return s_.listen_port; }
std::uint16_t SessionTorrentHost::announced_port() const { return s_.announced_port(); }
bool SessionTorrentHost::came_through_mapping(const std::string& ip) const { return s_.came_through_mapping(ip); }
bool SessionTorrentHost::lan_discovery() const { return s_.lan != nullptr; }

std::size_t SessionTorrentHost::dial_budget() const { return s_.dial_budget(); }
bool SessionTorrentHost::address_has_room(const std::string& ip) const { return s_.address_has_room(ip); }
std::optional<tcp::endpoint> SessionTorrentHost::outgoing_endpoint() const { return s_.outgoing_endpoint(); }
TlsContext* SessionTorrentHost::tls() { return s_.tls_context(); }

std::shared_ptr<PeerConnection> SessionTorrentHost::open_connection(PeerStream stream, ConnectionHandler& handler,
                                                                    std::optional<wire::Handshake> ours) {
  return s_.open_connection(std::move(stream), handler, std::move(ours));
}

ConnectionHandler& SessionTorrentHost::incoming_handler() { return s_; }
void SessionTorrentHost::forget_connection(PeerConnection& c) { s_.forget_connection(c); }
bool SessionTorrentHost::inbound_refused(const std::string& ip) const { return s_.inbound_refused(ip); }
void SessionTorrentHost::note_inbound_ban(const std::string& ip) { s_.note_inbound_ban(ip); }

void SessionTorrentHost::tracker_answered(const std::string& tracker, const tracker_client::AnnounceResponse& answer) {
  s_.rendezvous.tracker_answered(tracker, answer);
}

std::uint16_t SessionTorrentHost::relay_port(const std::string& tracker) const {
  return s_.rendezvous.relay_port(tracker);
}

bool SessionTorrentHost::stopping() const { return s_.stopping; }

void SessionTorrentHost::torrent_finished() {
  if (s_.running && s_.finished()) s_.shutdown();
}

}  // namespace p2p

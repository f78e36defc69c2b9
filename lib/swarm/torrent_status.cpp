// Torrent, continued: what it shows of itself: progress reports and rates, the
// snapshot (phase, piece map, peers), and the bytes its links hold in flight (the
// host sizes its piece-buffer budget on them). Runs on the session's io thread.
#include <algorithm>

#include "swarm/torrent.hpp"

namespace p2p {

void Torrent::report_progress() {
  auto now = host_.now();
  double dt = last_progress_ == Clock::time_point{} ? std::chrono::duration<double>(now - started_).count()
                                                    : std::chrono::duration<double>(now - last_progress_).count();
  last_progress_ = now;
  fill_stats();
  if (dt > 0) {
    double down = static_cast<double>(stats_.downloaded_bytes - last_down_) / dt;
    double up = static_cast<double>(stats_.uploaded_bytes - last_up_) / dt;
    stats_.download_rate = stats_.download_rate == 0 ? down : 0.5 * stats_.download_rate + 0.5 * down;
    stats_.upload_rate = stats_.upload_rate == 0 ? up : 0.5 * stats_.upload_rate + 0.5 * up;
  }
  last_down_ = stats_.downloaded_bytes;
  last_up_ = stats_.uploaded_bytes;
  for (auto& [id, p] : peers_) {
    if (dt <= 0) break;
    double down = static_cast<double>(p.conn->payload_received() - p.rate_mark_received) / dt;
    double up = static_cast<double>(p.conn->payload_sent() - p.rate_mark_sent) / dt;
    p.download_rate = 0.5 * p.download_rate + 0.5 * down;
    p.upload_rate = 0.5 * p.upload_rate + 0.5 * up;
    p.rate_mark_received = p.conn->payload_received();
    p.rate_mark_sent = p.conn->payload_sent();
  }
  host_.observer().on_progress(stats_);
}

void Torrent::fill_stats() {
  stats_.verified_bytes = store_.verified_bytes();
  stats_.pieces_verified = store_.verified().count();
  stats_.files_done = store_.files_done();
  stats_.peers = 0;
  for (auto& [id, p] : peers_) stats_.peers += p.conn->handshaken();
  stats_.distributed_copies = picker_.distributed_copies();
  stats_.elapsed = std::chrono::duration<double>(host_.now() - started_).count();
}

Torrent::LinkTotals Torrent::link_totals() const {
  LinkTotals sum;
  for (const auto& [id, p] : peers_) {
    sum.bandwidth_delay += p.pipeline.bandwidth_delay();
    sum.rate += p.pipeline.rate();
    if (!p.outstanding.empty()) sum.round_trip = std::max(sum.round_trip, p.pipeline.round_trip());
  }
  sum.verifying = verifying_bytes_;
  return sum;
}

PeerOrigin Torrent::origin_of(const Peer& p) const {
  if (p.conn->relayed()) return PeerOrigin::relay;
  if (!p.dialled()) return p.mapped_in ? PeerOrigin::mapped : PeerOrigin::incoming;
  if (p.listen_address && dir_.met_by_rendezvous(*p.listen_address))
    return PeerOrigin::punched;  // dialled at a tracker's rendezvous, while it dialled us
  auto src = p.listen_address ? dir_.source(*p.listen_address) : std::nullopt;
  if (!src) return PeerOrigin::incoming;
  switch (*src) {
    case PeerDirectory::Source::command_line: return PeerOrigin::command_line;
    case PeerDirectory::Source::tracker: return PeerOrigin::tracker;
    case PeerDirectory::Source::lan: return PeerOrigin::lan;
    case PeerDirectory::Source::pex: return PeerOrigin::gossip;
  }
  return PeerOrigin::incoming;
}

TorrentSnapshot Torrent::snapshot() const {
  TorrentSnapshot t;
  t.stats = stats_;
  t.stats.verified_bytes = store_.verified_bytes();
  t.stats.pieces_verified = store_.verified().count();
  t.stats.peers = 0;
  for (const auto& [id, p] : peers_) t.stats.peers += p.conn->handshaken();
  t.stats.distributed_copies = picker_.distributed_copies();
  t.stats.elapsed = std::chrono::duration<double>(host_.now() - started_).count();
  switch (state_) {
    case State::running: t.phase = paused_ ? TorrentPhase::paused : TorrentPhase::running; break;
    case State::complete: t.phase = paused_ ? TorrentPhase::paused : TorrentPhase::complete; break;
    case State::stopped: t.phase = selection_done_ ? TorrentPhase::partial : TorrentPhase::stopped; break;
    case State::failed: t.phase = TorrentPhase::failed; break;
  }
  t.seeding = opt_.keep_seeding;
  if (error_) t.error = error_->what();
  t.piece_size = meta_->piece_size;
  const Bitfield& have = store_.verified();
  std::uint32_t n = meta_->piece_count();
  std::size_t cells = std::min<std::size_t>(TorrentSnapshot::kPieceMapCells, n);
  t.piece_map.resize(cells);
  for (std::size_t c = 0; c < cells; ++c) {
    auto begin = static_cast<std::uint32_t>(c * n / cells), end = static_cast<std::uint32_t>((c + 1) * n / cells);
    std::uint32_t got = 0;
    for (std::uint32_t i = begin; i < end; ++i) got += have.test(i);
    t.piece_map[c] = static_cast<std::uint8_t>(end > begin ? got * 255 / (end - begin) : 0);
  }
  for (const auto& [id, p] : peers_) {
    if (!p.conn->handshaken()) continue;
    PeerSnapshot ps;
    ps.address = p.key;
    ps.origin = origin_of(p);
    ps.download_rate = p.download_rate;
    ps.upload_rate = p.upload_rate;
    ps.downloaded = p.conn->payload_received();
    ps.uploaded = p.conn->payload_sent();
    ps.share = n ? static_cast<double>(p.has.count()) / n : 0;
    ps.am_choking = p.am_choking;
    ps.peer_choking = p.peer_choking;
    ps.am_interested = p.am_interested;
    ps.peer_interested = p.peer_interested;
    ps.reputation = host_.reputation().score(p.reputation_key);
    ps.requests = p.outstanding.size();
    ps.round_trip = p.pipeline.round_trip();
    t.peers_unchoking_us += !p.peer_choking;
    t.peers_interested += p.peer_interested;
    t.peers.push_back(std::move(ps));
  }
  std::sort(t.peers.begin(), t.peers.end(), [](const PeerSnapshot& a, const PeerSnapshot& b) {
    return a.download_rate + a.upload_rate > b.download_rate + b.upload_rate;
  });
  if (t.peers.size() > TorrentSnapshot::kMaxPeersShown) t.peers.resize(TorrentSnapshot::kMaxPeersShown);
  for (const auto& [key, reason] : banned_) t.banned.push_back({key, reason});
  t.known_peers = dir_.size();
  t.hashing = hashing_;
  return t;
}

}  // namespace p2p

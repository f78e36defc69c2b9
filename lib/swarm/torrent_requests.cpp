// Torrent, continued: the blocks we ask for (as deep as each link carries, within the
// host's piece-buffer budget), where arriving blocks go, and the blocks we serve.
// Runs on the session's io thread.
#include <fmt/core.h>

#include <algorithm>

#include "base/limits.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

namespace {
// Names a block for RequestPipeline's round-trip sample.
std::uint64_t block_key(const BlockRef& b) { return (std::uint64_t{b.piece} << 32) | b.begin; }
}  // namespace

void Torrent::request_more(Peer& p) {
  if (state_ != State::running || host_.stopping() || !p.conn->open() || !p.conn->handshaken() || p.peer_choking ||
      !p.am_interested)
    return;
  // Requests kept in flight on this connection: its rate x (round trip + a queue), below
  // what the peer said it queues (policy/request_pipeline.hpp).
  std::uint32_t peer_max = p.conn->theirs().max_requests;
  std::size_t depth = p.pipeline.depth(static_cast<std::uint32_t>(std::min<std::uint64_t>(limits::kBlockSize, meta_->piece_size)),
                                       peer_max ? peer_max : limits::kLegacyMaxQueuedRequests, peers_.size());
  if (p.outstanding.size() >= depth) return;
  std::size_t room = host_.buffers().fits(meta_->piece_size);  // new pieces the memory budget allows
  bool was_idle = p.outstanding.empty();
  // Endgame duplicates go only to idle connections, two at a time: enough to
  // finish past a slow peer without fetching the tail of the file twice.
  std::size_t duplicates = p.outstanding.empty() ? 2 : 0;
  auto blocks = picker_.pick(p.has, depth - p.outstanding.size(), p.conn->id(), room, duplicates);
  for (const auto& b : blocks) {
    if (inflight_.try_emplace(b.piece).second) host_.buffers().reserve(meta_->piece_size);  // its buffer comes with its first block
    p.outstanding.push_back(b);
    p.conn->send(wire::Request{b.piece, b.begin, b.length});
  }
  if (room == 0 && p.outstanding.size() < depth) host_.buffers().note_held_back();
  if (was_idle && !blocks.empty()) {
    p.conn->restart_block_clock();  // the stall clock starts now
    p.pipeline.requested_when_idle(host_.now(), block_key(blocks.front()));
  }
}

void Torrent::request_more_all() {
  for (auto& [id, p] : peers_) request_more(p);
}

void Torrent::drop_requests(Peer& p) {
  for (const auto& b : p.outstanding) picker_.request_dropped(b, p.conn->id());
  p.outstanding.clear();
  release_abandoned_buffers();
}

void Torrent::release_abandoned_buffers() {
  for (auto it = inflight_.begin(); it != inflight_.end();) {
    if (!piece_started(it->first)) {
      release_buffer(it->second);
      it = inflight_.erase(it);
    } else {
      ++it;
    }
  }
}

void Torrent::release_buffer(InFlight& piece) {
  if (piece.data.capacity() == 0)
    host_.buffers().cancel_reservation(meta_->piece_size);  // requested, nothing arrived
  else
    host_.buffers().give_back(std::move(piece.data));
}

bool Torrent::piece_started(std::uint32_t piece) const {
  // wants_block is false for received blocks and for pieces not in progress.
  for (std::uint32_t begin = 0; begin < meta_->piece_length(piece); begin += limits::kBlockSize)
    if (picker_.wants_block(BlockRef{piece, begin, std::min(limits::kBlockSize, meta_->piece_length(piece) - begin)}))
      return true;
  return false;
}

std::span<std::uint8_t> Torrent::block_destination(PeerConnection& c, const wire::Piece& msg, std::uint32_t len) {
  check_block_bounds(msg.piece, msg.begin, len, "piece");
  Peer* p = peer_of(c);
  if (!p) return {};
  BlockRef b{msg.piece, msg.begin, len};
  if (std::find(p->outstanding.begin(), p->outstanding.end(), b) == p->outstanding.end())
    return {};  // unrequested or cancelled: read and drop
  // Only one connection at a time may be reading a given block into the piece buffer:
  // a second copy (endgame) is discarded, so no bytes change under a piece being hashed.
  if (!picker_.wants_block(b) || receiving_.count({b.piece, b.begin})) return {};
  auto f = inflight_.find(msg.piece);
  if (f == inflight_.end()) return {};
  if (f->second.data.capacity() == 0)  // its first block: the reserved slot becomes a buffer
    f->second.data = host_.buffers().take_reserved(meta_->piece_size, meta_->piece_length(msg.piece));
  receiving_[{b.piece, b.begin}] = c.id();
  p->receiving = b;
  f->second.sources.insert(p->reputation_key);
  auto& bs = f->second.block_source;
  bs.resize((meta_->piece_length(msg.piece) + limits::kBlockSize - 1) / limits::kBlockSize);
  bs[msg.begin / limits::kBlockSize] = p->reputation_key;
  return std::span(f->second.data.data() + msg.begin, len);
}

void Torrent::on_block(PeerConnection& c, const BlockRef& b, bool stored) {
  Peer* p = peer_of(c);
  if (!p) return;
  stats_.downloaded_bytes += b.length;
  host_.counters().recv_payload_bytes += b.length;
  p->pipeline.block_arrived(host_.now(), b.length, block_key(b));
  if (auto it = std::find(p->outstanding.begin(), p->outstanding.end(), b); it != p->outstanding.end())
    p->outstanding.erase(it);
  if (!stored) {
    stats_.wasted_bytes += b.length;
    host_.counters().recv_redundant_bytes += b.length;
    request_more(*p);
    return;
  }
  receiving_.erase({b.piece, b.begin});
  p->receiving.reset();
  bool done = false;
  std::vector<PiecePicker::PeerKey> others;
  picker_.block_received(b, c.id(), done, others);
  for (auto k : others) {
    auto o = peers_.find(k);
    if (o == peers_.end()) continue;
    auto& out = o->second.outstanding;
    if (auto it = std::find(out.begin(), out.end(), b); it != out.end()) {
      out.erase(it);
      o->second.conn->send(wire::Cancel{b.piece, b.begin, b.length});
    }
  }
  if (done) hash_piece(b.piece);
  request_more(*p);
}

ConnectionHandler::BlockSource Torrent::block_source(PeerConnection& c, const wire::Request& r) {
  if (!store_.has(r.piece) || state_ == State::failed || state_ == State::stopped) return {};
  if (initial_seeding_)
    if (Peer* p = peer_of(c)) show(initial_seeding_->serving(p->key, r.piece, p->pipeline.round_trip()));  // its slow start
  if (source_identity_) {
    // Never serve a source that changed since it was verified as if it were the meta's content.
    bool linked = true;
    if (SourceIdentity::of_fd(store_.file().fd(), linked) != *source_identity_ || !linked) {
      check_source();
      return {};
    }
  }
  PieceStore::BlockFile where;
  try {
    where = store_.block_file(r.piece, r.begin);
  } catch (const Error& e) {
    fail(e);  // a tree's file vanished or was replaced by a link: this torrent stops
    return {};
  }
  stats_.uploaded_bytes += r.length;
  host_.counters().sent_payload_bytes += r.length;
  return BlockSource{where.fd, where.offset, std::move(where.keep)};
}

}  // namespace p2p

// Torrent, continued: what each peer tells us (handshake, bitfields, haves,
// requests, blocks), what we request, how received pieces are verified and
// recorded, and how liars are found and banned.
#include <asio/post.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "base/address.hpp"
#include "base/limits.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

// ---- handshakes -----------------------------------------------------------------------------

HandshakeAnswer Torrent::adopt(const std::shared_ptr<PeerConnection>& c, const wire::Handshake& theirs) {
  HandshakeAnswer answer;
  answer.ours = our_handshake();
  if (theirs.peer_id == host_.peer_id()) {
    answer.refusal = wire::ErrorCode::self_connection;
    return answer;
  }
  if (theirs.seed && state_ == State::complete) {  // two seeders: nothing to exchange
    if (theirs.listen_port != 0) note_seeder(wire::PeerAddress{c->peer_ip(), theirs.listen_port});
    answer.refusal = wire::ErrorCode::seeding_too;
    return answer;
  }
  // An incoming peer that listens is known by ip + the port it says it listens on
  // (for choking and gossip); it is scored as ip + peer id, which another process
  // on that IP cannot take over by claiming the same port.
  std::string key = theirs.listen_port != 0 ? format_host_port(c->peer_ip(), theirs.listen_port) : c->peer_ip();
  std::string reputation_key = p2p::reputation_key(c->peer_ip(), theirs.peer_id);
  if (banned_.count(reputation_key) || host_.reputation().banned(reputation_key, host_.wall_now()) ||
      host_.inbound_refused(c->peer_ip())) {
    note_ban(reputation_key, host_.reputation().find(reputation_key) ? host_.reputation().find(reputation_key)->reason
                                                                : "too many banned peers from this address");
    answer.refusal = wire::ErrorCode::banned;
    return answer;
  }
  c->set_handler(*this);
  Peer& p = attach(c, std::nullopt);
  p.key = key;
  p.reputation_key = reputation_key;
  p.mapped_in = host_.came_through_mapping(c->remote_ip());
  if (theirs.listen_port != 0) {
    // Remember where it listens, for peer exchange and to avoid dialling it too.
    wire::PeerAddress a{c->peer_ip(), theirs.listen_port};
    p.listen_address = a;
    dir_.add(a, PeerDirectory::Source::pex);
    dir_.incoming(a);
  }
  welcome(p);
  return answer;
}

HandshakeAnswer Torrent::on_handshake(PeerConnection& c, const wire::Handshake& h) {
  // Our outgoing connections: the answer to the handshake we sent.
  HandshakeAnswer answer;
  answer.ours = our_handshake();
  Peer* p = peer_of(c);
  if (!p) {
    answer.refusal = wire::ErrorCode::protocol_error;
    return answer;
  }
  if (psk_ && !c.encrypted()) answer.refusal = wire::ErrorCode::encryption_required;  // never plaintext
  else if (h.version != wire::kProtocolVersion) answer.refusal = wire::ErrorCode::version_mismatch;
  else if (h.info_hash != meta_->info_hash) answer.refusal = wire::ErrorCode::info_hash_mismatch;
  else if (h.peer_id == host_.peer_id()) answer.refusal = wire::ErrorCode::self_connection;
  else if (h.seed && state_ == State::complete) answer.refusal = wire::ErrorCode::seeding_too;
  else if (banned_.count(p->key) || host_.reputation().banned(p->key, host_.wall_now())) {
    note_ban(p->key, host_.reputation().find(p->key) ? host_.reputation().find(p->key)->reason : "banned");
    answer.refusal = wire::ErrorCode::banned;
  }
  if (answer.refusal) {
    if (p->listen_address && *answer.refusal != wire::ErrorCode::banned)
      dir_.refuse_forever(*p->listen_address, std::string(wire::error_code_name(*answer.refusal)));
    if (p->listen_address && *answer.refusal == wire::ErrorCode::seeding_too) note_seeder(*p->listen_address);
    return answer;
  }
  welcome(*p);
  return answer;
}

void Torrent::welcome(Peer& p) {
  p.pipeline.round_trip(p.conn->handshake_round_trip());
  // Tell a new peer what we have (after our handshake: the connection sends in order);
  // an initial seeder tells it only what it has shown that peer so far.
  Bitfield told = store_.verified();
  if (initial_seeding_) {
    initial_seeding_->connected(p.key);
    told = initial_seeding_->told(p.key);
  }
  p.conn->send_with_payload(wire::BitfieldMsg{}, std::vector<std::uint8_t>(told.bytes().begin(), told.bytes().end()));
  refresh_parallel_interest();  // a second peer: extra connections to the first go idle
  // "(outgoing, tracker)", "(incoming, relay)": the direction, then how the peer was reached.
  PeerOrigin origin = origin_of(p);
  std::string_view how = origin == PeerOrigin::incoming ? std::string_view() : peer_origin_name(origin);
  // An incoming peer is named by where it listens (its key), not by the port it dialled from.
  const std::string& who = p.dialled() || p.conn->relayed() ? p.conn->label() : p.key;
  event(EventKind::peer_connected, fmt::format("{} ({}{}{})", who, p.dialled() ? "outgoing" : "incoming",
                                               how.empty() ? "" : ", ", how));
}

// ---- messages ------------------------------------------------------------------------------------

void Torrent::on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t> payload) {
  Peer* p = peer_of(c);
  if (!p) return;
  std::visit([&](const auto& msg) { handle(*p, msg, payload); }, m);
}

bool Torrent::carries_requests(const Peer& p) const {
  // Several connections to one peer (--parallel) are all used only while it is our only
  // peer; in a swarm, its first connection alone asks for pieces and the others idle (not
  // interested), so that a peer with more connections takes no bigger share of anyone's
  // upload (TCP shares a link per connection) and holds no more requests than others.
  bool first = true, alone = true;
  for (const auto& [id, o] : peers_) {
    if (o.key != p.key) alone = false;
    else if (id < p.conn->id()) first = false;
    if (!alone && !first) return false;
  }
  return true;
}

void Torrent::refresh_parallel_interest() {
  std::map<std::string, int> per_key;
  for (const auto& [id, p] : peers_) ++per_key[p.key];
  for (auto& [id, p] : peers_)
    if (per_key[p.key] > 1 && p.conn->handshaken()) set_interest(p);
}

void Torrent::set_interest(Peer& p) {
  bool want = false;
  if (state_ == State::running && carries_requests(p))
    for (std::uint32_t i = picker_.first_wanted(); i < meta_->piece_count() && !want; ++i)
      want = p.has.test(i) && picker_.wants(i);
  if (want != p.am_interested) {
    p.am_interested = want;
    if (want) p.conn->send(wire::Interested{});
    else p.conn->send(wire::NotInterested{});
  }
}

void Torrent::handle(Peer& p, const wire::BitfieldMsg&, std::span<const std::uint8_t> payload) {
  Bitfield b;
  if (!Bitfield::from_bytes(payload, meta_->piece_count(), b))
    throw wire::ProtocolError(fmt::format("bitfield of {} bytes for {} pieces", payload.size(), meta_->piece_count()));
  picker_.remove_peer(p.has);
  p.has = std::move(b);
  picker_.add_peer(p.has);
  set_interest(p);
  if (initial_seeding_) show(initial_seeding_->bitfield(p.key, p.has));
  close_if_both_complete(p);
}

void Torrent::note_seeder(const wire::PeerAddress& a) {
  // Kept for gossip: a downloader we talk to should still hear of the seeders we parted from.
  if (seeders_parted_.size() >= kMaxSeedersParted && !seeders_parted_.count(a)) {
    auto oldest = std::min_element(seeders_parted_.begin(), seeders_parted_.end(),
                                   [](const auto& x, const auto& y) { return x.second < y.second; });
    seeders_parted_.erase(oldest);
  }
  seeders_parted_[a] = host_.now();
}

void Torrent::close_if_both_complete(Peer& p) {
  // Two seeders have nothing to exchange; now that both ends dial they would otherwise
  // meet at every announce and keep an idle connection each. (Seeders say so in their
  // handshake and part at once, "seeding_too"; this catches a peer that completed since.)
  if (state_ != State::complete || meta_->piece_count() == 0 || p.has.count() != meta_->piece_count()) return;
  if (p.dialled() && p.listen_address) dir_.refuse_forever(*p.listen_address, "a seeder too: nothing to exchange");
  if (p.listen_address) note_seeder(*p.listen_address);
  p.conn->close(CloseReason::both_complete);
}

void Torrent::handle(Peer& p, const wire::Have& h, std::span<const std::uint8_t>) {
  if (h.piece >= meta_->piece_count())
    throw wire::ProtocolError(fmt::format("have for piece {} of {}", h.piece, meta_->piece_count()));
  if (p.has.test(h.piece)) return;
  p.has.set(h.piece);
  picker_.peer_has(h.piece);
  p.revealed.erase(h.piece);  // it got the piece elsewhere: no request of ours to time
  if (initial_seeding_) show(initial_seeding_->have(p.key, h.piece));
  if (!p.am_interested && picker_.wants(h.piece) && state_ == State::running) set_interest(p);
  request_more(p);
  close_if_both_complete(p);
}

void Torrent::handle(Peer& p, const wire::Request& r, std::span<const std::uint8_t>) {
  check_block_bounds(r.piece, r.begin, r.length, "request");
  if (!store_.has(r.piece)) throw wire::ProtocolError(fmt::format("request for piece {} we do not have", r.piece));
  if (auto it = p.revealed.find(r.piece); it != p.revealed.end()) {  // our `have`, then this: a round trip
    p.pipeline.round_trip(std::chrono::duration<double>(host_.now() - it->second).count());
    p.revealed.erase(it);
  }
  if (p.am_choking) return;  // requests while choked are dropped, as in BitTorrent
  if (!p.conn->queue_upload(r))
    throw wire::ProtocolError(fmt::format("more than {} requests queued", limits::kMaxQueuedRequestsPerPeer));
}

void Torrent::handle(Peer& p, const wire::Cancel& r, std::span<const std::uint8_t>) {
  p.conn->cancel_upload(wire::Request{r.piece, r.begin, r.length});
}

void Torrent::handle(Peer& p, const wire::Choke&, std::span<const std::uint8_t>) {
  p.peer_choking = true;
  drop_requests(p);
}

void Torrent::handle(Peer& p, const wire::Unchoke&, std::span<const std::uint8_t>) {
  p.peer_choking = false;
  request_more(p);
}

void Torrent::handle(Peer& p, const wire::Interested&, std::span<const std::uint8_t>) {
  p.peer_interested = true;
  // A free regular slot is given at once; otherwise the next rechoke decides. Slots
  // held by peers that no longer want anything count as free.
  std::set<std::string> unchoked;
  for (auto& [id, o] : peers_)
    if (!o.am_choking && o.peer_interested && o.key != choker_.optimistic()) unchoked.insert(o.key);
  if (p.am_choking && (unchoked.count(p.key) || unchoked.size() < Choker::kRegularSlots || initial_seeding_)) {
    p.am_choking = false;
    p.conn->send(wire::Unchoke{});
  }
}

void Torrent::handle(Peer& p, const wire::NotInterested&, std::span<const std::uint8_t>) {
  p.peer_interested = false;
  // Its slot is free now: rechoke at once if someone interested is waiting, rather than
  // leaving them choked until the next 10-second round (that stalled swarms' last pieces).
  if (!p.am_choking)
    for (auto& [id, o] : peers_)
      if (o.am_choking && o.peer_interested && o.conn->handshaken()) return rechoke(host_.now());
}

void Torrent::handle(Peer& p, const wire::ErrorMsg& e, std::span<const std::uint8_t>) {
  auto code = wire::parse_error_code(e.code);
  bool never_again = code == wire::ErrorCode::unknown_info_hash || code == wire::ErrorCode::info_hash_mismatch ||
                     code == wire::ErrorCode::version_mismatch || code == wire::ErrorCode::self_connection ||
                     code == wire::ErrorCode::encryption_required || code == wire::ErrorCode::seeding_too;
  if (never_again && p.dialled() && p.listen_address)
    dir_.refuse_forever(*p.listen_address, fmt::format("peer reported {}: {}", e.code, e.message));
  if (code == wire::ErrorCode::seeding_too && p.listen_address) note_seeder(*p.listen_address);
  p.conn->close(CloseReason::peer_refused, fmt::format("{}: {}", e.code, e.message));
}

void Torrent::handle(Peer& p, const wire::Pex& x, std::span<const std::uint8_t>) {
  if (!p.pex.accept_incoming(host_.now())) return;  // too frequent: ignored
  // The advertiser is the peer's IP, not its key: several connections from one host (each
  // claiming another listen port) share one quota and cannot confirm each other's gossip.
  if (dials()) add_peers(x.added, PeerDirectory::Source::pex, p.conn->peer_ip(), p.conn->peer_ip());
}

void Torrent::check_block_bounds(std::uint32_t piece, std::uint32_t begin, std::uint32_t length, const char* what) {
  if (piece >= meta_->piece_count())
    throw wire::ProtocolError(fmt::format("{} for piece {} of {}", what, piece, meta_->piece_count()));
  std::uint32_t plen = meta_->piece_length(piece);
  if (length == 0 || length > limits::kMaxBlockSize || begin > plen || length > plen - begin)
    throw wire::ProtocolError(
        fmt::format("{} for bytes {}+{} of piece {} ({} bytes)", what, begin, length, piece, plen));
}

// ---- blocks in and out ---------------------------------------------------------------------------

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
  p->pipeline.block_arrived(host_.now(), b.length);
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

ConnectionHandler::BlockSource Torrent::block_source(PeerConnection&, const wire::Request& r) {
  if (!store_.has(r.piece) || state_ == State::failed || state_ == State::stopped) return {};
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

void Torrent::on_closed(PeerConnection& c, CloseReason reason, const std::string& detail) {
  host_.forget_connection(c);
  auto found = peers_.find(c.id());
  if (found == peers_.end()) return;
  Peer p = std::move(found->second);
  peers_.erase(found);
  if (c.handshaken()) picker_.remove_peer(p.has);
  if (c.handshaken() && initial_seeding_ && !host_.stopping()) show(initial_seeding_->disconnected(p.key));
  if (p.receiving) receiving_.erase({p.receiving->piece, p.receiving->begin});  // died mid-block
  bool quiet = host_.stopping() || state_ == State::stopped || state_ == State::failed;
  if (!quiet) score_close(p, reason, detail);
  drop_requests(p);
  std::string why = detail.empty() ? std::string(close_reason_name(reason))
                                   : fmt::format("{}: {}", close_reason_name(reason), detail);
  if (reason == CloseReason::tls_refused && p.dialled() && p.listen_address && !quiet) {
    // We dialled with this swarm's key and the peer is not a member (or talks plaintext):
    // never again, scored like a protocol violation.
    dir_.closed(*p.listen_address, false, why, host_.now());
    dir_.refuse_forever(*p.listen_address, why);
    event(EventKind::peer_dropped, fmt::format("{}: {}", c.label(), why));
    if (host_.reputation().record(p.reputation_key, Reputation::Event::violation, why, host_.wall_now()))
      note_ban(p.reputation_key, host_.reputation().find(p.reputation_key)->reason);
  } else if (p.listen_address) {
    if (!p.dialled()) {
      dir_.incoming_closed(*p.listen_address);
    } else if (!quiet) {
      // A connection that delivered data proves the peer works; others count as failures.
      bool useful = c.payload_received() > 0 && reason != CloseReason::stalled;
      dir_.closed(*p.listen_address, useful, why, host_.now());
      if (useful || state_ == State::complete) event(EventKind::peer_dropped, fmt::format("{}: {}", c.label(), why));
      else report_failure(*p.listen_address);
    }
  } else if (c.handshaken() && !quiet) {
    event(EventKind::peer_dropped, fmt::format("{}: {}", c.label(), why));
  }
  if (!quiet) {
    refresh_parallel_interest();  // alone again with one peer: its extra connections resume
    request_more_all();           // re-issue what that peer owed us to everyone else
  }
}

// ---- requesting ------------------------------------------------------------------------------------

void Torrent::drop_requests(Peer& p) {
  for (const auto& b : p.outstanding) picker_.request_dropped(b, p.conn->id());
  p.outstanding.clear();
  release_abandoned_buffers();
}

void Torrent::release_abandoned_buffers() {
  for (auto it = inflight_.begin(); it != inflight_.end();) {
    if (!piece_started(it->first)) {
      host_.buffers().give_back(std::move(it->second.data));
      it = inflight_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Torrent::piece_started(std::uint32_t piece) const {
  // wants_block is false for received blocks and for pieces not in progress.
  for (std::uint32_t begin = 0; begin < meta_->piece_length(piece); begin += limits::kBlockSize)
    if (picker_.wants_block(BlockRef{piece, begin, std::min(limits::kBlockSize, meta_->piece_length(piece) - begin)}))
      return true;
  return false;
}

void Torrent::request_more_all() {
  for (auto& [id, p] : peers_) request_more(p);
}

void Torrent::request_more(Peer& p) {
  if (state_ != State::running || host_.stopping() || !p.conn->open() || !p.conn->handshaken() || p.peer_choking ||
      !p.am_interested)
    return;
  // Requests kept in flight on this connection: its rate x (round trip + a queue), below
  // what the peer said it queues (policy/request_pipeline.hpp).
  std::uint32_t peer_max = p.conn->theirs().max_requests;
  std::size_t depth = p.pipeline.depth(static_cast<std::uint32_t>(std::min<std::uint64_t>(limits::kBlockSize, meta_->piece_size)),
                                       peer_max ? peer_max : limits::kLegacyMaxQueuedRequests);
  if (p.outstanding.size() >= depth) return;
  std::size_t room = host_.buffers().fits(meta_->piece_size);  // new pieces the memory budget allows
  bool was_idle = p.outstanding.empty();
  // Endgame duplicates go only to idle connections, two at a time: enough to
  // finish past a slow peer without fetching the tail of the file twice.
  std::size_t duplicates = p.outstanding.empty() ? 2 : 0;
  auto blocks = picker_.pick(p.has, depth - p.outstanding.size(), p.conn->id(), room, duplicates);
  for (const auto& b : blocks) {
    if (!inflight_.count(b.piece)) inflight_[b.piece].data = host_.buffers().take(meta_->piece_size);
    p.outstanding.push_back(b);
    p.conn->send(wire::Request{b.piece, b.begin, b.length});
  }
  if (was_idle && !blocks.empty()) {
    p.conn->restart_block_clock();  // the stall clock starts now
    p.pipeline.requested_when_idle(host_.now());
  }
}

// ---- verifying ---------------------------------------------------------------------------------------

void Torrent::hash_piece(std::uint32_t piece) {
  auto node = inflight_.extract(piece);
  if (node.empty()) return;
  ++hashing_;
  auto job = std::make_shared<InFlight>(std::move(node.mapped()));
  checks_.submit([this, piece, job]() -> HashBatches::Reply {
    std::span<const std::uint8_t> bytes(job->data.data(), meta_->piece_length(piece));
    auto t0 = Clock::now();
    bool ok = sha256(bytes) == meta_->pieces[piece];
    auto t1 = Clock::now();
    if (!ok && job->sources.size() > 1) job->block_hashes = SmartBan::block_hashes(bytes, limits::kBlockSize);
    std::exception_ptr err;
    if (ok) {
      try {
        store_.write_piece(piece, bytes);
      } catch (...) {
        err = std::current_exception();
      }
    }
    double hash_s = std::chrono::duration<double>(t1 - t0).count();
    double write_s = ok ? std::chrono::duration<double>(Clock::now() - t1).count() : 0;
    return [this, piece, job, ok, err, hash_s, write_s] {
      if (ok && !err) host_.note_piece_timing(hash_s, write_s);
      piece_checked(piece, std::move(*job), ok, err);
    };
  });
}

void Torrent::piece_checked(std::uint32_t piece, InFlight job, bool ok, std::exception_ptr err) {
  --hashing_;
  auto now = host_.wall_now();
  if (ok) {
    for (const auto& key : job.sources) host_.reputation().record(key, Reputation::Event::delivered, "", now);
    if (smart_ban_.suspected(piece)) {
      auto good = SmartBan::block_hashes(std::span<const std::uint8_t>(job.data.data(), meta_->piece_length(piece)),
                                         limits::kBlockSize);
      for (const auto& liar : smart_ban_.piece_verified(piece, good))
        ban(liar, fmt::format("sent a corrupt block of piece {} (smart ban: compared with a good copy)", piece));
    }
  }
  host_.buffers().give_back(std::move(job.data));
  if (state_ == State::failed || state_ == State::stopped) {
    // Stopped meanwhile: still record a piece that reached the disk, so the final save has it.
    if (ok && !err) {
      try {
        store_.mark_verified(piece);
      } catch (const Error&) {
        // already stopping: the piece is recorded; the file moves on the next run
      }
    }
    return;
  }
  if (err) {
    try {
      std::rethrow_exception(err);
    } catch (const Error& e) {
      return fail(e);
    } catch (const std::exception& e) {
      return fail(Error(ExitCode::disk, fmt::format("writing piece {} of {}: {}", piece, meta_->name, e.what())));
    }
  }
  if (!ok) {
    ++stats_.bad_pieces;
    stats_.wasted_bytes += meta_->piece_length(piece);
    ++host_.counters().num_piece_failed;
    host_.counters().recv_failed_bytes += meta_->piece_length(piece);
    picker_.piece_failed(piece);
    std::string from = fmt::format("{}", fmt::join(job.sources, ", "));
    event(EventKind::bad_piece, fmt::format("piece {} failed its hash check (data from {}); fetching it again", piece,
                                            from.empty() ? "?" : from));
    if (job.sources.size() == 1) {
      ban(*job.sources.begin(), fmt::format("sent corrupt data for piece {}", piece));
    } else if (!job.sources.empty()) {
      smart_ban_.piece_failed(piece, std::move(job.block_hashes), std::move(job.block_source));
    }
  } else {
    ++host_.counters().num_piece_passed;
    try {
      if (auto done = store_.mark_verified(piece)) {
        const MetaFile& f = meta_->files[*done];
        host_.observer().on_file_complete(meta_->name, f.path, f.size);
      }
    } catch (const Error& e) {
      return fail(e);  // a link or a file of the user's in the way inside WORKDIR/<name>/
    }
    picker_.piece_verified(piece);
    if (verifier_) verifier_->piece_verified(piece);
    state_dirty_ = true;
    // `have` only to peers that lack the piece, and to those it came from (an initial seeder
    // learns from it that the piece arrived). A peer that has it has no use for it, and in a
    // big swarm these tiny frames, one TCP segment each, were most of the CPU spent; those
    // that remain are coalesced (send_soon).
    for (auto& [id, p] : peers_)
      if (p.conn->handshaken() && (!p.has.test(piece) || job.sources.count(p.reputation_key)))
        p.conn->send_soon(wire::Have{piece});
    if (picker_.complete()) on_all_pieces();
    else if (opt_.selection && picker_.selection_complete()) on_selection_complete();
  }
  // By id (request_more may close a connection); not over a copy of peers_, which costs a
  // copy of every peer's state per verified piece.
  std::vector<std::uint64_t> ids;
  for (auto& [id, p] : peers_) ids.push_back(id);
  for (auto id : ids) {
    auto it = peers_.find(id);
    if (it == peers_.end()) continue;
    // Only a peer that has this piece can have stopped being interesting because of it.
    if (ok && it->second.am_interested && it->second.has.test(piece)) set_interest(it->second);
    request_more(it->second);
  }
}

void Torrent::on_selection_complete() {
  if (state_ != State::running) return;
  try {
    store_.save_state();
  } catch (const Error& e) {
    return fail(e);
  }
  selection_done_ = true;
  // Seeding a partial tree is not offered (--seed serves a finished one): the run ends here.
  stop("the selected files are complete");
}

void Torrent::show(const std::vector<InitialSeeding::Reveal>& reveals) {
  auto now = host_.now();
  for (const auto& r : reveals)
    for (auto& [id, p] : peers_)
      if (p.key == r.key && p.conn->handshaken()) {
        p.conn->send(wire::Have{r.piece});
        if (p.revealed.size() < limits::kMaxQueuedRequestsPerPeer) p.revealed.emplace(r.piece, now);
      }
}

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

void Torrent::on_all_pieces() {
  if (state_ != State::running) return;
  // Every piece matched a SHA-256 the info hash commits to; a whole-file SHA-256
  // is checked on top only when the meta has one (format 1, or --sha256).
  Digest whole = meta_->has_file_hash ? verifier_->wait_result() : Digest{};
  if (meta_->has_file_hash && whole != meta_->file_hash)
    return fail(Error(
        ExitCode::verify_failed,
        fmt::format("{}: every piece matched but the whole-file SHA-256 is {} instead of {}; kept as .partial",
                    store_.partial_path().string(), to_hex(whole), to_hex(meta_->file_hash))));
  try {
    store_.save_state();
    store_.finish();
  } catch (const Error& e) {
    return fail(e);
  }
  state_ = State::complete;
  completed_at_ = host_.now();
  if (announcer_) announcer_->completed();
  for (auto& [id, p] : peers_) {
    drop_requests(p);
    set_interest(p);
  }
  if (!opt_.keep_seeding) {
    for (auto& [id, p] : std::map(peers_)) p.conn->close(CloseReason::shutting_down, "download complete");
    report_finished();
    return;
  }
  std::vector<std::uint64_t> ids;
  for (auto& [id, p] : peers_) ids.push_back(id);
  for (auto id : ids)
    if (auto it = peers_.find(id); it != peers_.end() && it->second.conn->handshaken()) close_if_both_complete(it->second);
}

}  // namespace p2p

// Torrent, continued: what each peer tells us (bitfields, haves, interest, choking,
// errors, gossip) and what we tell it (interest, choking, gossip, initial seeding's
// haves, keep-alives), and the timeouts that close a connection gone quiet. Runs on
// the session's io thread.
#include <fmt/core.h>

#include "base/limits.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

void Torrent::on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t> payload) {
  Peer* p = peer_of(c);
  if (!p) return;
  std::visit([&](const auto& msg) { handle(*p, msg, payload); }, m);
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

void Torrent::handle(Peer& p, const wire::Have& h, std::span<const std::uint8_t>) {
  if (!note_have(p, h.piece)) return;
  request_more(p);
  close_if_both_complete(p);
}

void Torrent::handle(Peer& p, const wire::Haves& h, std::span<const std::uint8_t>) {
  bool any = false;
  for (std::uint32_t piece : h.pieces) any = note_have(p, piece) || any;
  if (!any) return;
  request_more(p);  // once for the list, not per piece
  close_if_both_complete(p);
}

bool Torrent::note_have(Peer& p, std::uint32_t piece) {
  if (piece >= meta_->piece_count())
    throw wire::ProtocolError(fmt::format("have for piece {} of {}", piece, meta_->piece_count()));
  if (p.has.test(piece)) return false;
  p.has.set(piece);
  picker_.peer_has(piece);
  p.revealed.erase(piece);  // it got the piece elsewhere: no request of ours to time
  if (initial_seeding_) show(initial_seeding_->have(p.key, piece));
  if (!p.am_interested && picker_.wants(piece) && state_ == State::running) set_interest(p);
  return true;
}

void Torrent::handle(Peer& p, const wire::Request& r, std::span<const std::uint8_t>) {
  check_block_bounds(r.piece, r.begin, r.length, "request");
  if (!store_.has(r.piece)) throw wire::ProtocolError(fmt::format("request for piece {} we do not have", r.piece));
  if (auto it = p.revealed.find(r.piece); it != p.revealed.end()) {  // our `have`, then this: a round trip
    p.pipeline.round_trip(std::chrono::duration<double>(host_.now() - it->second).count());
    p.revealed.erase(it);
    // At once, not at the next tick: a lone far peer's slow start is not held to the cap.
    if (initial_seeding_) initial_seeding_->note_round_trip(p.pipeline.round_trip());
  }
  p.last_request = host_.now();
  if (initial_seeding_) show(initial_seeding_->requested(p.key));  // a paused window resumes
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

void Torrent::show(const std::vector<InitialSeeding::Reveal>& reveals) {
  auto now = host_.now();
  for (const auto& r : reveals)
    for (auto& [id, p] : peers_)
      if (p.key == r.key && p.conn->handshaken()) {
        p.conn->send_have(r.piece, PeerConnection::Clock::duration::zero());
        if (p.revealed.size() < limits::kMaxQueuedRequestsPerPeer) p.revealed.emplace(r.piece, now);
        // Every interested peer gets a slot while seeding initially, and a peer shown a
        // piece it lacks will be interested: unchoked now, its requests go out with its
        // `interested` instead of a round trip later.
        if (p.am_choking) {
          p.am_choking = false;
          p.conn->send(wire::Unchoke{});
        }
      }
}

void Torrent::rechoke(Clock::time_point now) {
  // Slots are per peer, not per connection: several connections of one peer share one.
  std::map<std::string, Choker::Peer> by_key;
  for (auto& [id, p] : peers_) {
    if (!p.conn->handshaken()) continue;
    auto& cp = by_key[p.key];
    cp.key = p.key;
    // A peer shown pieces it has not asked for yet was unchoked with them (show) and is
    // about to say it is interested: a rechoke in that round trip must not choke it (the
    // blocks then on their way would arrive after its next requests).
    cp.interested |= p.peer_interested || (initial_seeding_ && !p.revealed.empty());
    cp.rate_from += p.conn->sample_download_rate();
    if (meta_->piece_count() > 0)
      cp.have_fraction = std::max(cp.have_fraction, static_cast<double>(p.has.count()) / meta_->piece_count());
  }
  std::vector<Choker::Peer> list;
  for (auto& [k, cp] : by_key) list.push_back(cp);
  // While seeding initially every peer gets a slot: each may only fetch the few pieces shown to it.
  auto unchoke = choker_.rechoke(list, state_ == State::complete || store_.complete(), now,
                                 initial_seeding_ ? SIZE_MAX : Choker::kRegularSlots);
  for (auto& [id, p] : peers_) {
    if (!p.conn->handshaken()) continue;
    bool should_choke = !unchoke.count(p.key);
    if (should_choke == p.am_choking) continue;
    p.am_choking = should_choke;
    if (should_choke) {
      p.conn->clear_uploads();  // a choke discards their pending requests
      p.conn->send(wire::Choke{});
    } else {
      p.conn->send(wire::Unchoke{});
    }
  }
}

void Torrent::send_pex(Clock::time_point now) {
  std::set<wire::PeerAddress> known;
  for (auto& [id, p] : peers_)
    if (p.listen_address && p.conn->handshaken()) known.insert(*p.listen_address);
  std::erase_if(seeders_parted_, [&](const auto& s) { return now - s.second > kSeederGossipTime; });
  for (const auto& [addr, when] : seeders_parted_) known.insert(addr);
  for (auto& [id, p] : peers_) {
    if (!p.conn->handshaken()) continue;
    auto others = known;
    if (p.listen_address) others.erase(*p.listen_address);
    if (auto msg = p.pex.next(others, now)) p.conn->send(*msg);
  }
}

void Torrent::take_back_unrequested(Clock::time_point now) {
  // Pieces shown to a peer that has asked us for nothing in kUnrequestedTimeout go to
  // others: a peer that never requests must not hold the initial seeder's windows. (One that
  // keeps requesting keeps its window: a piece it got elsewhere stays unrequested, and only
  // the peer it came from hears its `have`.)
  std::vector<std::string> idle;
  for (auto& [id, p] : peers_) {
    auto last_request = p.last_request == Clock::time_point{} ? p.conn->created() : p.last_request;
    if (p.revealed.empty() || now - last_request < InitialSeeding::kUnrequestedTimeout) continue;
    bool stale = false;
    for (auto it = p.revealed.begin(); it != p.revealed.end();) {
      if (now - it->second < InitialSeeding::kUnrequestedTimeout) {
        ++it;
        continue;
      }
      stale = true;
      it = p.revealed.erase(it);  // timed once; a late request is still served
    }
    if (stale) idle.push_back(p.key);
  }
  for (const auto& key : idle) show(initial_seeding_->take_back(key));
}

void Torrent::end_initial_seeding(Clock::time_point now) {
  // Every piece is held by a peer: the swarm has its copy and could finish without us.
  // Initial seeding would now leave our link idle until the last peer is done (N = 32, half
  // the peers at a quarter of the rate: idle for the last 7 of 16 s). From here we seed like
  // any seeder: each peer is told the pieces it was not shown (they leave together, as
  // `haves` frames) and the choker's regular slots fetch them.
  for (auto& [id, p] : peers_) {
    if (!p.conn->handshaken()) continue;
    Bitfield told = initial_seeding_->told(p.key);
    for (std::uint32_t i = 0; i < meta_->piece_count(); ++i)
      if (!told.test(i) && !p.has.test(i)) p.conn->send_have(i, PeerConnection::kCoalesceDelay);
    p.revealed.clear();
  }
  initial_seeding_.reset();
  event(EventKind::notice, "every piece is in the swarm: initial seeding ends; every piece is offered to every peer");
  rechoke(now);
}

void Torrent::check_timeouts(Clock::time_point now) {
  // By id, not over a copy of peers_ (a Peer holds bitfields and gossip state: copying them
  // all, several times a second in a big swarm, was a large share of the CPU).
  std::vector<std::uint64_t> ids;
  double weighted_rtt = 0, weights = 0, shortest_rtt = 0;
  for (auto& [id, p] : peers_) {
    p.pipeline.sample(p.conn->payload_received(), now);
    if (double rtt = p.pipeline.round_trip(); rtt > 0) {
      double w = p.upload_rate + 1;  // by what we upload to it; alike before rates are known
      weighted_rtt += w * rtt;
      weights += w;
      if (shortest_rtt == 0 || rtt < shortest_rtt) shortest_rtt = rtt;
    }
    ids.push_back(id);
  }
  if (initial_seeding_) {
    upload_meter_.sample(stats_.uploaded_bytes, now);
    initial_seeding_->set_upload_rate(upload_meter_.rate());
    initial_seeding_->set_round_trip(weights > 0 ? weighted_rtt / weights : 0);
    initial_seeding_->set_shortest_round_trip(shortest_rtt);
    take_back_unrequested(now);
    if (initial_seeding_->copy_out()) end_initial_seeding(now);
  }
  for (auto id : ids) {
    auto found = peers_.find(id);
    if (found == peers_.end()) continue;  // closed meanwhile
    Peer& p = found->second;
    auto conn = p.conn;  // alive while it closes
    auto& c = *conn;
    if (!c.handshaken() && now - c.created() > limits::kHandshakeTimeout) {
      c.close(CloseReason::handshake_timeout);
    } else if (!p.outstanding.empty() && now - c.last_block() > limits::kRequestTimeout) {
      c.close(CloseReason::stalled, fmt::format("no data for {} s with {} requests outstanding",
                                                std::chrono::duration_cast<std::chrono::seconds>(limits::kRequestTimeout).count(),
                                                p.outstanding.size()));
    } else if (now - c.last_received() > limits::kIdleTimeout) {
      c.close(CloseReason::idle);
    } else if (p.am_interested && now - c.last_block() > limits::kIdleTimeout) {
      c.close(CloseReason::unresponsive, "sent nothing we asked for in too long (choked or stalled)");
    } else if (now - c.last_sent() > limits::kKeepAliveInterval) {
      c.send(wire::KeepAlive{});
    }
  }
}

}  // namespace p2p

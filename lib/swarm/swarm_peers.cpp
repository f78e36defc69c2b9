// Swarm, continued: what each connection tells us (handshake, bitfields, haves,
// requests, blocks), what we request, and how received pieces are verified,
// recorded, and how liars are found and banned.
#include <asio/post.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "swarm/swarm_impl.hpp"

namespace p2p {

std::string Swarm::Impl::on_handshake(PeerConnection& c, const wire::Handshake& h) {
  if (h.version != wire::kProtocolVersion) return "version_mismatch";
  if (h.info_hash != meta.info_hash) return "info_hash_mismatch";
  if (h.peer_id == peer_id) {
    if (auto it = addr_of.find(c.id()); it != addr_of.end()) dir.refuse_forever(it->second, "that is ourselves");
    return "self_connection";
  }
  if (banned.count(c.peer_key()) || reputation.banned(c.peer_key(), std::chrono::system_clock::now())) {
    note_ban(c.peer_key(), reputation.find(c.peer_key()) ? reputation.find(c.peer_key())->reason : "banned");
    return "banned";
  }
  if (!c.outgoing() && h.listen_port != 0) {
    // An incoming peer that listens: remember where, for peer exchange and to avoid dialling it too.
    wire::PeerAddress a{c.remote_ip(), h.listen_port};
    addr_of[c.id()] = a;
    dir.add(a, PeerDirectory::Source::pex);
    dir.incoming(a);
  }
  c.send_with_payload(wire::BitfieldMsg{}, std::vector<std::uint8_t>(store.verified().bytes().begin(),
                                                                     store.verified().bytes().end()));
  c.peer_has = Bitfield(meta.piece_count());
  observer.on_event("peer_connected", fmt::format("{} ({})", c.label(), c.outgoing() ? "outgoing" : "incoming"));
  return {};
}

void Swarm::Impl::set_interest(PeerConnection& c) {
  bool want = false;
  if (!complete)
    for (std::uint32_t i = 0; i < meta.piece_count() && !want; ++i) want = c.peer_has.test(i) && !picker.have(i);
  if (want != c.am_interested) {
    c.am_interested = want;
    if (want) c.send(wire::Interested{});
    else c.send(wire::NotInterested{});
  }
}

void Swarm::Impl::on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t> payload) {
  std::visit([&](const auto& msg) { handle(c, msg, payload); }, m);
}

void Swarm::Impl::handle(PeerConnection& c, const wire::BitfieldMsg&, std::span<const std::uint8_t> payload) {
  Bitfield b;
  if (!Bitfield::from_bytes(payload, meta.piece_count(), b))
    throw wire::ProtocolError(fmt::format("bitfield of {} bytes for {} pieces", payload.size(), meta.piece_count()));
  picker.remove_peer(c.peer_has);
  c.peer_has = std::move(b);
  picker.add_peer(c.peer_has);
  set_interest(c);
}

void Swarm::Impl::handle(PeerConnection& c, const wire::Have& h, std::span<const std::uint8_t>) {
  if (h.piece >= meta.piece_count())
    throw wire::ProtocolError(fmt::format("have for piece {} of {}", h.piece, meta.piece_count()));
  if (c.peer_has.size() == 0 || c.peer_has.test(h.piece)) return;
  c.peer_has.set(h.piece);
  picker.peer_has(h.piece);
  if (!c.am_interested && !picker.have(h.piece) && !complete) set_interest(c);
  request_more(c);
}

void Swarm::Impl::handle(PeerConnection& c, const wire::Request& r, std::span<const std::uint8_t>) {
  check_block_bounds(r.piece, r.begin, r.length, "request");
  if (!store.has(r.piece)) throw wire::ProtocolError(fmt::format("request for piece {} we do not have", r.piece));
  if (c.am_choking) return;  // requests while choked are dropped, as in BitTorrent
  if (!c.queue_upload(r))
    throw wire::ProtocolError(fmt::format("more than {} requests queued", limits::kMaxQueuedRequestsPerPeer));
}

void Swarm::Impl::handle(PeerConnection& c, const wire::Cancel& r, std::span<const std::uint8_t>) {
  c.cancel_upload(wire::Request{r.piece, r.begin, r.length});
}

void Swarm::Impl::handle(PeerConnection& c, const wire::Choke&, std::span<const std::uint8_t>) {
  c.peer_choking = true;
  drop_requests(c);
}

void Swarm::Impl::handle(PeerConnection& c, const wire::Unchoke&, std::span<const std::uint8_t>) {
  c.peer_choking = false;
  request_more(c);
}

void Swarm::Impl::handle(PeerConnection& c, const wire::Interested&, std::span<const std::uint8_t>) {
  c.peer_interested = true;
  // A free regular slot is given at once; otherwise the next rechoke decides. Slots
  // held by peers that no longer want anything count as free.
  std::set<std::string> unchoked;
  for (auto& [id, o] : conns)
    if (!o->am_choking && o->peer_interested && o->peer_key() != choker.optimistic()) unchoked.insert(o->peer_key());
  if (c.am_choking && (unchoked.count(c.peer_key()) || unchoked.size() < Choker::kRegularSlots)) {
    c.am_choking = false;
    c.send(wire::Unchoke{});
  }
}

void Swarm::Impl::handle(PeerConnection& c, const wire::NotInterested&, std::span<const std::uint8_t>) {
  c.peer_interested = false;
  // Its slot is free now: rechoke at once if someone interested is waiting, rather than
  // leaving them choked until the next 10-second round (that stalled swarms' last pieces).
  if (!c.am_choking)
    for (auto& [id, o] : conns)
      if (o->am_choking && o->peer_interested && o->handshaken()) return rechoke(Clock::now());
}

void Swarm::Impl::handle(PeerConnection& c, const wire::ErrorMsg& e, std::span<const std::uint8_t>) {
  std::string why = fmt::format("peer reported {}: {}", e.code, e.message);
  if (e.code == "info_hash_mismatch" || e.code == "version_mismatch" || e.code == "self_connection")
    if (auto it = addr_of.find(c.id()); it != addr_of.end() && c.outgoing()) dir.refuse_forever(it->second, why);
  c.close(why);
}

void Swarm::Impl::handle(PeerConnection& c, const wire::Pex& p, std::span<const std::uint8_t>) {
  if (!pex[c.id()].accept_incoming(Clock::now())) return;  // too frequent: ignored
  if (!complete) add_peers(p.added, PeerDirectory::Source::pex);
}

void Swarm::Impl::check_block_bounds(std::uint32_t piece, std::uint32_t begin, std::uint32_t length, const char* what) {
  if (piece >= meta.piece_count())
    throw wire::ProtocolError(fmt::format("{} for piece {} of {}", what, piece, meta.piece_count()));
  std::uint32_t plen = meta.piece_length(piece);
  if (length == 0 || length > limits::kMaxBlockSize || begin > plen || length > plen - begin)
    throw wire::ProtocolError(
        fmt::format("{} for bytes {}+{} of piece {} ({} bytes)", what, begin, length, piece, plen));
}

std::span<std::uint8_t> Swarm::Impl::block_destination(PeerConnection& c, const wire::Piece& p, std::uint32_t len) {
  check_block_bounds(p.piece, p.begin, len, "piece");
  BlockRef b{p.piece, p.begin, len};
  if (std::find(c.outstanding.begin(), c.outstanding.end(), b) == c.outstanding.end())
    return {};  // unrequested or cancelled: read and drop
  if (!picker.wants_block(b) || receiving.count({b.piece, b.begin})) return {};  // someone else has it
  auto f = inflight.find(p.piece);
  if (f == inflight.end()) return {};
  receiving[{b.piece, b.begin}] = c.id();
  c.receiving = b;
  f->second.sources.insert(c.peer_key());
  auto& bs = f->second.block_source;
  bs.resize((meta.piece_length(p.piece) + limits::kBlockSize - 1) / limits::kBlockSize);
  bs[p.begin / limits::kBlockSize] = c.peer_key();
  return std::span(f->second.data.data() + p.begin, len);
}

void Swarm::Impl::on_block(PeerConnection& c, const BlockRef& b, bool stored) {
  stats.downloaded_bytes += b.length;
  if (auto it = std::find(c.outstanding.begin(), c.outstanding.end(), b); it != c.outstanding.end())
    c.outstanding.erase(it);
  if (stored) {
    receiving.erase({b.piece, b.begin});
    c.receiving.reset();
  } else {
    stats.wasted_bytes += b.length;
    request_more(c);
    return;
  }
  bool done = false;
  std::vector<PiecePicker::PeerKey> others;
  picker.block_received(b, c.id(), done, others);
  for (auto k : others) {
    auto oc = conns.find(k);
    if (oc == conns.end()) continue;
    auto& out = oc->second->outstanding;
    if (auto it = std::find(out.begin(), out.end(), b); it != out.end()) {
      out.erase(it);
      oc->second->send(wire::Cancel{b.piece, b.begin, b.length});
    }
  }
  if (done) hash_piece(b.piece);
  request_more(c);
}

ConnectionHandler::BlockSource Swarm::Impl::block_source(PeerConnection&, const wire::Request& r) {
  if (!store.has(r.piece)) return {};
  stats.uploaded_bytes += r.length;
  return BlockSource{store.file().fd(), meta.piece_offset(r.piece) + r.begin};
}

void Swarm::Impl::on_closed(PeerConnection& c, const std::string& why) {
  auto found = conns.find(c.id());
  if (found == conns.end()) return;
  auto keep = found->second;  // keeps c alive until we are done with it
  conns.erase(found);
  if (c.handshaken()) picker.remove_peer(c.peer_has);
  if (c.receiving) receiving.erase({c.receiving->piece, c.receiving->begin});  // died mid-block
  if (!stopping) score_close(c, why);
  drop_requests(c);
  pex.erase(c.id());
  if (auto it = addr_of.find(c.id()); it != addr_of.end()) {
    auto addr = it->second;
    addr_of.erase(it);
    if (!c.outgoing()) {
      dir.incoming_closed(addr);
    } else if (!stopping) {
      // A connection that delivered data proves the peer works; others count as failures.
      bool useful = c.bytes_downloaded > 0 && why.rfind("stalled", 0) != 0;
      dir.closed(addr, useful, why, Clock::now());
      if (useful || complete) observer.on_event("peer_dropped", fmt::format("{}: {}", c.label(), why));
      else report_failure(addr);
    }
  } else if (c.handshaken() && !stopping) {
    observer.on_event("peer_dropped", fmt::format("{}: {}", c.label(), why));
  }
  // Re-issue what that peer owed us to everyone else.
  for (auto& [id, other] : conns) request_more(*other);
}

void Swarm::Impl::drop_requests(PeerConnection& c) {
  for (const auto& b : c.outstanding) picker.request_dropped(b, c.id());
  c.outstanding.clear();
  release_abandoned_buffers();
}

void Swarm::Impl::release_abandoned_buffers() {
  for (auto it = inflight.begin(); it != inflight.end();) {
    if (!piece_started(it->first)) {
      recycle(std::move(it->second.data));
      it = inflight.erase(it);
    } else {
      ++it;
    }
  }
}

bool Swarm::Impl::piece_started(std::uint32_t piece) const {
  // wants_block is false for received blocks and for pieces not in progress.
  for (std::uint32_t begin = 0; begin < meta.piece_length(piece); begin += limits::kBlockSize)
    if (picker.wants_block(BlockRef{piece, begin, std::min(limits::kBlockSize, meta.piece_length(piece) - begin)}))
      return true;
  return false;
}

std::vector<std::uint8_t> Swarm::Impl::take_buffer() {
  std::vector<std::uint8_t> buf;
  if (!spare_buffers.empty()) {
    buf = std::move(spare_buffers.back());
    spare_buffers.pop_back();
  } else {
    buf.resize(meta.piece_size);
  }
  inflight_bytes += meta.piece_size;
  return buf;
}

void Swarm::Impl::recycle(std::vector<std::uint8_t> buf) {
  inflight_bytes -= meta.piece_size;
  spare_buffers.push_back(std::move(buf));
}

void Swarm::Impl::request_more(PeerConnection& c) {
  if (complete || stopping || !c.open() || !c.handshaken() || c.peer_choking || !c.am_interested) return;
  std::size_t depth = std::max<std::size_t>(1, kPipelineBytes / limits::kBlockSize);
  if (c.outstanding.size() >= depth) return;
  bool room = inflight_bytes + meta.piece_size <= std::max<std::size_t>(limits::kMaxPiecesInFlightBytes, 2 * meta.piece_size);
  bool was_idle = c.outstanding.empty();
  // Endgame duplicates go only to idle connections, two at a time: enough to
  // finish past a slow peer without fetching the tail of the file twice.
  std::size_t duplicates = c.outstanding.empty() ? 2 : 0;
  auto blocks = picker.pick(c.peer_has, depth - c.outstanding.size(), c.id(), room, duplicates);
  for (const auto& b : blocks) {
    if (!inflight.count(b.piece)) inflight[b.piece].data = take_buffer();
    c.outstanding.push_back(b);
    c.send(wire::Request{b.piece, b.begin, b.length});
  }
  if (was_idle && !blocks.empty()) c.last_block = Clock::now();  // the stall clock starts now
}

void Swarm::Impl::hash_piece(std::uint32_t piece) {
  auto node = inflight.extract(piece);
  if (node.empty()) return;
  ++hashing;
  auto job = std::make_shared<InFlight>(std::move(node.mapped()));
  asio::post(hashers, [this, piece, job] {
    std::span<const std::uint8_t> bytes(job->data.data(), meta.piece_length(piece));
    bool ok = sha256(bytes) == meta.pieces[piece];
    if (!ok && job->sources.size() > 1) job->block_hashes = SmartBan::block_hashes(bytes, limits::kBlockSize);
    std::exception_ptr err;
    if (ok) {
      try {
        store.write_piece(piece, bytes);
      } catch (...) {
        err = std::current_exception();
      }
    }
    asio::post(io, [this, piece, job, ok, err] { piece_checked(piece, std::move(*job), ok, err); });
  });
}

void Swarm::Impl::piece_checked(std::uint32_t piece, InFlight job, bool ok, std::exception_ptr err) {
  --hashing;
  auto now = std::chrono::system_clock::now();
  if (ok) {
    for (const auto& key : job.sources) reputation.record(key, Reputation::Event::delivered, "", now);
    if (smart_ban.suspected(piece)) {
      auto good = SmartBan::block_hashes(std::span<const std::uint8_t>(job.data.data(), meta.piece_length(piece)),
                                         limits::kBlockSize);
      for (const auto& liar : smart_ban.piece_verified(piece, good))
        ban(liar, fmt::format("sent a corrupt block of piece {} (smart ban: compared with a good copy)", piece));
    }
  }
  recycle(std::move(job.data));
  if (err) return fail(err);
  if (!ok) {
    ++stats.bad_pieces;
    stats.wasted_bytes += meta.piece_length(piece);
    picker.piece_failed(piece);
    std::string from = fmt::format("{}", fmt::join(job.sources, ", "));
    observer.on_event("bad_piece", fmt::format("piece {} failed its hash check (data from {}); fetching it again",
                                               piece, from.empty() ? "?" : from));
    if (job.sources.size() == 1) {
      ban(*job.sources.begin(), fmt::format("sent corrupt data for piece {}", piece));
    } else if (!job.sources.empty()) {
      smart_ban.piece_failed(piece, std::move(job.block_hashes), std::move(job.block_source));
    }
  } else {
    store.mark_verified(piece);
    picker.piece_verified(piece);
    if (verifier) verifier->piece_verified(piece);
    state_dirty = true;
    for (auto& [id, c] : conns)
      if (c->handshaken()) c->send(wire::Have{piece});
    if (picker.complete()) on_all_pieces();
  }
  for (auto& [id, c] : std::map(conns)) {
    if (ok && c->am_interested) set_interest(*c);
    request_more(*c);
  }
}

void Swarm::Impl::note_ban(const std::string& key, const std::string& reason) {
  if (banned.count(key)) return;
  banned[key] = reason;
  for (auto& [id, c] : conns)
    if (c->peer_key() == key)
      if (auto it = addr_of.find(id); it != addr_of.end()) dir.ban(it->second, reason);
  observer.on_event("banned", fmt::format("{}: {}", key, reason));
}

void Swarm::Impl::ban(const std::string& key, const std::string& reason) {
  reputation.ban(key, reason, std::chrono::system_clock::now());
  note_ban(key, reason);
  for (auto& [id, c] : std::map(conns))
    if (c->peer_key() == key) c->close("banned: " + reason);
}

void Swarm::Impl::score_close(PeerConnection& c, const std::string& why) {
  if (!c.handshaken()) return;
  Reputation::Event e;
  if (why.rfind("protocol violation", 0) == 0) e = Reputation::Event::violation;
  else if (why.rfind("stalled", 0) == 0 || why.rfind("sent nothing we asked", 0) == 0) e = Reputation::Event::timeout;
  else return;
  if (reputation.record(c.peer_key(), e, why, std::chrono::system_clock::now()))
    note_ban(c.peer_key(), reputation.find(c.peer_key())->reason);
}

void Swarm::Impl::on_all_pieces() {
  if (complete) return;
  complete = true;
  Digest whole = verifier->wait_result();
  if (whole != meta.file_hash) {
    fail(std::make_exception_ptr(Error(
        ExitCode::verify_failed,
        fmt::format("{}: every piece matched but the whole-file SHA-256 is {} instead of {}; kept as .partial",
                    store.partial_path().string(), to_hex(whole), to_hex(meta.file_hash)))));
    return;
  }
  try {
    store.save_state();
    store.finish();
  } catch (...) {
    return fail(std::current_exception());
  }
  completed_at = Clock::now();
  if (announcer) announcer->completed();
  for (auto& [id, c] : std::map(conns)) {
    drop_requests(*c);
    set_interest(*c);
  }
  if (!opt.keep_seeding) shutdown();
}

}  // namespace p2p

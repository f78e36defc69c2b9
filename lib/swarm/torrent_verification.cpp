// Torrent, continued: verifying received pieces on the host's hashing pool, recording
// them, and completing the download (the whole-file check, the final rename). Runs on
// the session's io thread; the hashing on pool threads.
#include <asio/post.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "base/hex.hpp"
#include "base/limits.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

PeerConnection::Clock::duration Torrent::have_hold(const Peer& p) const {
  // An initial seeder (a seed by its handshake) waits for our `have`s to show more pieces.
  bool waits_for_them = p.conn->theirs().seed;
  return p.am_choking && !waits_for_them ? kChokedHaveDelay : PeerConnection::kCoalesceDelay;
}

void Torrent::hash_piece(std::uint32_t piece) {
  auto node = inflight_.extract(piece);
  if (node.empty()) return;
  ++hashing_;
  verifying_bytes_ += meta_->piece_length(piece);
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
  verifying_bytes_ -= meta_->piece_length(piece);
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
    // to peers that lack it are coalesced (have_hold). To its source it goes at once: an
    // initial seeder shows the next piece when this one has spread, and while a long link
    // starts up nothing else goes that way to carry it (100 ms more per window, each round).
    // And to an initial seeder that showed us the piece (a seed by its handshake that has
    // shown us only some pieces) when it came from someone else: until it hears, the piece
    // stays in our window there, unspread. With two initial seeders showing us the same
    // pieces, each window filled with pieces fetched from the other, and both stopped
    // showing: 72 of 97 pieces, then nothing for minutes (e2e.tracker_download, loaded CI).
    for (auto& [id, p] : peers_) {
      if (!p.conn->handshaken()) continue;
      if (!p.has.test(piece)) p.conn->send_have(piece, have_hold(p));
      else if (job.sources.count(p.reputation_key)) p.conn->send_have(piece, PeerConnection::Clock::duration::zero());
      else if (p.conn->theirs().seed && !p.has.all()) p.conn->send_have(piece, have_hold(p));
    }
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

void Torrent::on_all_pieces() {
  if (state_ != State::running || finishing_) return;
  // Every piece matched a SHA-256 the info hash commits to; a whole-file SHA-256
  // is checked on top only when the meta has one (format 1, or --sha256).
  if (!meta_->has_file_hash) return whole_file_checked(Digest{}, nullptr);
  // The verifier's thread may still be reading the file's tail (or, resumed, all of it):
  // its result comes back to the io thread as a post, which never waits for it. Counted as
  // hashing, so the session drains it before its outcome and keeps the torrent alive.
  finishing_ = true;
  ++hashing_;
  verifier_->when_done([alive = alive_, this, &io = host_.io()](Digest digest, std::exception_ptr error) {
    asio::post(io, [alive, this, digest, error] {
      if (!*alive) return;
      --hashing_;
      finishing_ = false;
      whole_file_checked(digest, error);
    });
  });
}

void Torrent::whole_file_checked(const Digest& whole, std::exception_ptr error) {
  // Stopped while the check ran (a shutdown): every piece is verified, so the file is
  // still finished, as it was when the check blocked the io thread; failed: nothing more.
  if (state_ != State::running && state_ != State::stopped) return;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      return fail(e);
    } catch (const std::exception& e) {
      return fail(Error(ExitCode::disk, fmt::format("{}: reading it for its whole-file SHA-256: {}",
                                                    store_.partial_path().string(), e.what())));
    }
  }
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
  completed_at_ = host_.now();
  if (state_ != State::running) return;
  state_ = State::complete;
  if (complete_at_start_) start_initial_seeding();
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

// Torrent: life cycle (start, stop, failure, outcome), the tick that drives its
// jobs, pause, state saves, and the seeded source's identity. The jobs are in files
// of their own: torrent_dialling.cpp (dialling, admission, giving up),
// torrent_messages.cpp (what peers say: interest, choking, gossip, timeouts),
// torrent_requests.cpp (what we ask for, blocks in and out), torrent_verification.cpp
// (hashing, completion), torrent_bans.cpp (scores and bans), torrent_status.cpp
// (progress, snapshot), torrent_reach.cpp (across NATs). Runs on the session's io thread.
#include <fmt/core.h>

#include "base/limits.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

namespace {
// A seeded source's identity is checked this often (and before every block sent): a
// replaced file is noticed within a second even while no peer asks for a block.
constexpr auto kSourceCheckInterval = std::chrono::seconds(1);
// Progress (observer.on_progress: the terminal line, --json, the node's page) and the
// rates behind it, once a second: what a reader follows, and what the rates average over.
constexpr auto kProgressInterval = std::chrono::seconds(1);
}  // namespace

Torrent::Torrent(TorrentHost& host, std::shared_ptr<const Meta> meta, PieceStore store, TorrentOptions options)
    : host_(host), meta_(std::move(meta)), store_(std::move(store)), opt_(std::move(options)),
      picker_(meta_->piece_lengths(), limits::kBlockSize, std::random_device{}()), dir_(opt_.parallel) {
  for (std::uint32_t i = 0; i < meta_->piece_count(); ++i)
    if (store_.has(i)) picker_.mark_have(i);
  if (opt_.selection) picker_.restrict_to(*opt_.selection);
  if (meta_->is_private)
    psk_ = PskMaterial{swarm_psk_identity(meta_->swarm_key, meta_->info_hash),
                       swarm_psk(meta_->swarm_key, meta_->info_hash), meta_->info_hash};
  stats_.name = meta_->name;
  stats_.info_hash_hex = meta_->info_hash_hex();
  stats_.total_bytes = meta_->size;
  stats_.pieces_total = meta_->piece_count();
  stats_.resumed_bytes = store_.verified_bytes();
  for (const auto& p : opt_.peers) dir_.add(p, PeerDirectory::Source::command_line);
  stats_.files_total = static_cast<std::uint32_t>(meta_->files.size());
  if (store_.is_source() && !meta_->is_tree()) {  // a tree is checked by its pieces' hashes at the other end
    bool linked = true;
    source_identity_ = SourceIdentity::of_fd(store_.file().fd(), linked);
  }
}

Torrent::~Torrent() {
  *alive_ = false;
  if (announcer_) announcer_->cancel();
}
wire::Handshake Torrent::our_handshake() const {
  return wire::Handshake{wire::kProtocolVersion, meta_->info_hash, host_.peer_id(), host_.listen_port(),
                         state_ == State::complete && opt_.keep_seeding,
                         static_cast<std::uint32_t>(limits::kMaxQueuedRequestsPerPeer), /*haves=*/true};
}

void Torrent::event(EventKind kind, const std::string& text) { host_.observer().on_event(meta_->name, kind, text); }

bool Torrent::finished() const {
  if (state_ == State::failed || state_ == State::stopped) return true;
  return state_ == State::complete && !opt_.keep_seeding;
}

Digest Torrent::public_id() const {
  return meta_->is_private ? tracker_swarm_id(meta_->swarm_key, meta_->info_hash) : meta_->info_hash;
}

void Torrent::start() {
  if (!opt_.trackers.empty()) {
    // A private swarm announces an id derived from its key, never its info hash, and
    // reports no byte counts: only whether it is complete (docs/SECURITY.md, "Private swarms").
    Digest announced = public_id();
    announcer_ = std::make_shared<Announcer>(
        host_.io(), opt_.trackers, announced, host_.peer_id(), [&h = host_] { return h.announced_port(); },
        [this](const std::string& tracker, tracker_client::AnnounceResponse& answer) { tracker_answered(tracker, answer); },
        [this](const std::string& text) { event(EventKind::tracker, text); },
        [this] {
          std::uint64_t left = meta_->size - store_.verified_bytes();
          if (meta_->is_private) return Announcer::Numbers{left > 0 ? 1u : 0u, 0, 0};
          return Announcer::Numbers{left, stats_.uploaded_bytes, stats_.downloaded_bytes};
        },
        [this](const std::string& tracker) { withdrawn_by(tracker); });
    announcer_->start();
  }
  if (!store_.is_source() && !meta_->is_tree()) verifier_ = std::make_unique<WholeFileVerifier>(*meta_, store_.file(), store_.verified());
  if (store_.complete()) {
    complete_at_start_ = true;
    if (store_.is_source()) {
      state_ = State::complete;
      start_initial_seeding();
    } else {
      on_all_pieces();  // resumed with every piece: only the final check and rename remain
    }
  } else if (opt_.selection && picker_.selection_complete()) {
    on_selection_complete();  // the selected files were verified by an earlier run
  }
  maintain_dials();
}

void Torrent::start_initial_seeding() {
  // A folder is offered whole: a peer fetching part of it (--only) never takes the pieces
  // of files it did not select, and initial seeding would wait for them to spread. Peers
  // that came while a resumed file had its final check were told every piece already.
  if (meta_->is_tree() || !peers_.empty()) return;
  initial_seeding_ = std::make_unique<InitialSeeding>(meta_->piece_count(), static_cast<std::uint32_t>(meta_->piece_size));
}

void Torrent::report_finished() {
  if (reported_finished_ || !finished()) return;
  reported_finished_ = true;
  host_.torrent_finished();
}

void Torrent::fail(const Error& e) {
  if (state_ == State::failed) return;
  stop(e.what(), e);
}

void Torrent::stop(const std::string& why, std::optional<Error> failure) {
  if (state_ == State::stopped || state_ == State::failed) return;
  state_ = failure ? State::failed : State::stopped;
  error_ = std::move(failure);
  for (auto& [id, p] : std::map(peers_)) p.conn->close(CloseReason::shutting_down, why);
  // Pieces partly here are not resumed by a stopped torrent: their memory goes back to the
  // session's budget (another torrent of a node may use it).
  for (auto& [piece, f] : inflight_) release_buffer(f);
  inflight_.clear();
  receiving_.clear();
  if (announcer_ && error_) announcer_->cancel();
  if (error_) event(EventKind::torrent_stopped, why);
  report_finished();
}

asio::awaitable<void> Torrent::stop_announcing() {
  auto announcer = announcer_;  // keeps it alive even if this torrent goes first
  if (announcer) co_await announcer->stop();
}

TorrentOutcome Torrent::outcome() {
  TorrentOutcome out;
  out.name = meta_->name;
  bool finished_file = store_.is_source() || completed_at_ != Clock::time_point{};
  if (!finished_file) {
    try {
      store_.save_state();  // on disk before the run ends
    } catch (const Error& e) {
      if (!error_) error_ = e;
    }
  }
  out.complete = finished_file && !error_;
  out.selection_complete = selection_done_ && !error_;
  out.error = error_;
  fill_stats();
  stats_.download_rate = stats_.elapsed > 0 ? static_cast<double>(stats_.downloaded_bytes) / stats_.elapsed : 0;
  out.stats = stats_;
  for (auto& [key, reason] : banned_) out.banned.push_back(fmt::format("{} ({})", key, reason));
  return out;
}

Peer* Torrent::peer_of(PeerConnection& c) {
  auto it = peers_.find(c.id());
  return it == peers_.end() ? nullptr : &it->second;
}

void Torrent::tick(Clock::time_point now) {
  if (state_ == State::failed || state_ == State::stopped) return;
  if (paused_) {
    if (now - last_progress_ >= kProgressInterval) report_progress();
    if (now - last_save_ >= limits::kStateSaveInterval && state_dirty_) save_state();
    return;
  }
  try {
    check_timeouts(now);
    maintain_dials();
    if (choker_.due(now)) rechoke(now);
    send_pex(now);
    if (now - last_save_ >= limits::kStateSaveInterval && state_dirty_) save_state();
    if (now - last_progress_ >= kProgressInterval) report_progress();
    if (now - last_source_check_ >= kSourceCheckInterval) check_source();
    if (state_ == State::complete && opt_.keep_seeding && opt_.seed_time && now - completed_at_ >= *opt_.seed_time)
      stop("seed time over");
    check_hope(now);
  } catch (const Error& e) {
    fail(e);
  }
}

void Torrent::check_source() {
  last_source_check_ = host_.now();
  if (!source_identity_) return;
  bool linked = true;
  auto now = SourceIdentity::of_fd(store_.file().fd(), linked);
  std::string what;
  if (!linked) what = "was deleted or replaced";
  else if (now != *source_identity_) what = source_identity_->difference(now);
  else if (auto by_path = SourceIdentity::of_path(store_.final_path()); !by_path) what = "is gone";
  else if (*by_path != now) what = "was replaced by another file";
  if (what.empty()) return;
  fail(Error(ExitCode::source_mismatch,
             fmt::format("{} {} since it was verified; stopped serving {} (restart to re-verify it)",
                         store_.final_path().string(), what, meta_->name)));
}

void Torrent::save_state() {
  store_.save_state_in_background();
  state_dirty_ = false;
  last_save_ = host_.now();
}

void Torrent::withdrawn_by(const std::string& tracker) {
  if (state_ != State::complete) {
    if (state_ == State::running)
      event(EventKind::notice, fmt::format("tracker {}: the publisher withdrew {}; downloading from the peers we know",
                                           tracker, meta_->name));
    return;
  }
  std::string why = fmt::format("tracker {}: the publisher withdrew {}; stopped serving it", tracker, meta_->name);
  if (announcer_) announcer_->cancel();
  stop(why);
  event(EventKind::torrent_stopped, why);
  report_finished();
}

void Torrent::set_paused(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  if (paused) {
    for (auto& [id, p] : std::map(peers_)) p.conn->close(CloseReason::shutting_down, "paused");
    event(EventKind::notice, "paused: peers closed; pieces and announces kept");
  } else {
    hopeless_since_ = {};
    event(EventKind::notice, "resumed");
    maintain_dials();
  }
}

}  // namespace p2p

// Torrent: life cycle, dialling, housekeeping (timeouts, choking, gossip, state
// saves, progress, the seeded source's identity) and failure. Runs on the
// session's io thread.
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/core.h>

#include "base/address.hpp"
#include "base/limits.hpp"
#include "net/use_tuple.hpp"
#include "swarm/outgoing_socket.hpp"
#include "swarm/torrent.hpp"

#include <algorithm>

namespace p2p {

using asio::ip::tcp;

namespace {
// A seeded source's identity is checked this often (and before every block sent).
constexpr auto kSourceCheckInterval = std::chrono::seconds(1);

std::vector<std::uint32_t> piece_lengths(const Meta& m) {
  std::vector<std::uint32_t> v(m.piece_count());
  for (std::uint32_t i = 0; i < m.piece_count(); ++i) v[i] = m.piece_length(i);
  return v;
}

bool is_local(const std::string& host) { return host == "127.0.0.1" || host == "::1"; }
}  // namespace

Torrent::Torrent(TorrentHost& host, std::shared_ptr<const Meta> meta, PieceStore store, TorrentOptions options)
    : host_(host), meta_(std::move(meta)), store_(std::move(store)), opt_(std::move(options)),
      picker_(piece_lengths(*meta_), limits::kBlockSize, std::random_device{}()), dir_(opt_.parallel) {
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
                         static_cast<std::uint32_t>(limits::kMaxQueuedRequestsPerPeer)};
}

void Torrent::event(EventKind kind, const std::string& text) { host_.observer().on_event(meta_->name, kind, text); }

bool Torrent::finished() const {
  if (state_ == State::failed || state_ == State::stopped) return true;
  return state_ == State::complete && !opt_.keep_seeding;
}

Digest Torrent::public_id() const {
  return meta_->is_private ? tracker_swarm_id(meta_->swarm_key, meta_->info_hash) : meta_->info_hash;
}

void Torrent::learn_peers(const std::vector<wire::PeerAddress>& peers, PeerDirectory::Source source,
                          const std::string& advertiser_ip) {
  if (state_ == State::failed || state_ == State::stopped || paused_) return;
  add_peers(peers, source, {}, advertiser_ip);
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
    if (store_.is_source()) state_ = State::complete;
    else on_all_pieces();  // resumed with every piece: only the final check and rename remain
    // A folder is offered whole: a peer fetching part of it (--only) never takes the pieces
    // of files it did not select, and initial seeding would wait for them to spread.
    if (state_ == State::complete && !meta_->is_tree())
      initial_seeding_ = std::make_unique<InitialSeeding>(meta_->piece_count(), static_cast<std::uint32_t>(meta_->piece_size));
  } else if (opt_.selection && picker_.selection_complete()) {
    on_selection_complete();  // the selected files were verified by an earlier run
  }
  maintain_dials();
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
      save_state();
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

// ---- dialling ----------------------------------------------------------------------------

asio::awaitable<void> Torrent::connect(wire::PeerAddress addr) {
  auto alive = alive_;
  tcp::resolver resolver(host_.io());
  auto [rec_ec, results] = co_await resolver.async_resolve(addr.host, std::to_string(addr.port), kUseTuple);
  if (!*alive) co_return;
  tcp::socket socket(host_.io());
  std::error_code ec = rec_ec;
  if (!ec)
    // From the listen port only when a rendezvous timed this dial (a hole to punch: the NAT
    // must map it to the announced address); otherwise an ephemeral port, so that redialling
    // a peer never reuses the four-tuple of a connection that just closed (TIME_WAIT).
    ec = co_await connect_outgoing(socket, results,
                                   dir_.met_by_rendezvous(addr) ? host_.outgoing_endpoint() : std::nullopt,
                                   std::chrono::duration_cast<std::chrono::milliseconds>(limits::kConnectTimeout));
  if (!*alive || !dials()) co_return;
  if (ec) {
    dir_.dial_failed(addr, ec == asio::error::timed_out ? "connection timed out" : ec.message(), host_.now());
    report_failure(addr);
    maybe_relay(addr);
    co_return;
  }
  dir_.connected(addr);
  // A private swarm dials TLS only, whatever the other side would accept.
  PeerStream stream = psk_ ? PeerStream::tls_client(std::move(socket), *host_.tls(), *psk_) : PeerStream::plain(std::move(socket));
  auto c = host_.open_connection(std::move(stream), *this, our_handshake());
  attach(c, addr);
  c->start();
}

Peer& Torrent::attach(const std::shared_ptr<PeerConnection>& c, std::optional<wire::PeerAddress> dialled) {
  Peer& p = peers_[c->id()];
  p.conn = c;
  p.has = Bitfield(meta_->piece_count());
  if (dialled) {
    p.listen_address = dialled;
    p.key = address_label(*dialled);
  } else {
    p.key = c->peer_ip();
  }
  p.reputation_key = p.key;
  return p;
}

void Torrent::report_failure(const wire::PeerAddress& addr) {
  if (dir_.first_failure(addr) || dir_.gave_up(addr))
    event(EventKind::peer_dropped, fmt::format("{}: {}{}", address_label(addr), dir_.last_error(addr),
                                               dir_.gave_up(addr) ? " (giving up)" : ""));
}

void Torrent::maintain_dials() {
  if (!dials()) return;
  auto plan = dir_.to_dial(host_.now(), std::min(host_.dial_budget(), limits::kMaxDialsPerTick));
  // Prefer peers with a better record; never dial one that is banned.
  std::stable_sort(plan.begin(), plan.end(), [&](const auto& a, const auto& b) {
    return host_.reputation().score(address_label(a)) > host_.reputation().score(address_label(b));
  });
  for (const auto& addr : plan) {
    if (host_.reputation().banned(address_label(addr), host_.wall_now())) {
      dir_.ban(addr, "banned earlier");
      note_ban(address_label(addr), host_.reputation().find(address_label(addr))->reason);
      continue;
    }
    if (!host_.address_has_room(addr.host)) continue;
    dir_.dialling(addr);
    asio::co_spawn(host_.io(), connect(addr), asio::detached);
  }
}

void Torrent::add_peers(const std::vector<wire::PeerAddress>& peers, PeerDirectory::Source source,
                        const std::string& advertiser, const std::string& advertiser_ip) {
  for (const auto& p : peers) {
    if (p.port == host_.listen_port() && is_local(p.host)) continue;  // ourselves
    if (!dialable(p, advertiser_ip)) continue;
    dir_.add(p, source, advertiser);
  }
  maintain_dials();
}

// ---- housekeeping ------------------------------------------------------------------------------

void Torrent::tick(Clock::time_point now) {
  if (state_ == State::failed || state_ == State::stopped) return;
  if (paused_) {
    if (now - last_progress_ >= std::chrono::seconds(1)) report_progress();
    if (now - last_save_ >= limits::kStateSaveInterval && state_dirty_) save_state();
    return;
  }
  try {
    check_timeouts(now);
    maintain_dials();
    if (choker_.due(now)) rechoke(now);
    send_pex(now);
    if (now - last_save_ >= limits::kStateSaveInterval && state_dirty_) save_state();
    if (now - last_progress_ >= std::chrono::seconds(1)) report_progress();
    if (now - last_source_check_ >= kSourceCheckInterval) check_source();
    if (state_ == State::complete && opt_.keep_seeding && opt_.seed_time && now - completed_at_ >= *opt_.seed_time)
      stop("seed time over");
    check_hope(now);
  } catch (const Error& e) {
    fail(e);
  }
}

void Torrent::check_timeouts(Clock::time_point now) {
  // By id, not over a copy of peers_ (a Peer holds bitfields and gossip state: copying them
  // all, several times a second in a big swarm, was a large share of the CPU).
  std::vector<std::uint64_t> ids;
  double weighted_rtt = 0, weights = 0;
  for (auto& [id, p] : peers_) {
    p.pipeline.sample(p.conn->payload_received(), now);
    if (p.pipeline.round_trip() > 0) {
      double w = p.upload_rate + 1;  // by what we upload to it; alike before rates are known
      weighted_rtt += w * p.pipeline.round_trip();
      weights += w;
    }
    ids.push_back(id);
  }
  if (initial_seeding_) {
    upload_meter_.sample(stats_.uploaded_bytes, now);
    initial_seeding_->set_upload_rate(upload_meter_.rate());
    initial_seeding_->set_round_trip(weights > 0 ? weighted_rtt / weights : 0);
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

void Torrent::check_hope(Clock::time_point now) {
  if (state_ != State::running || !peers_.empty() || hashing_ > 0) {
    if (hopeless_since_ != Clock::time_point{} && !peers_.empty() && last_waiting_report_ != Clock::time_point{})
      event(EventKind::waiting, "connected again; resuming");
    hopeless_since_ = {};
    last_waiting_report_ = {};
    return;
  }
  if (hopeless_since_ == Clock::time_point{}) hopeless_since_ = now;
  auto waited = now - hopeless_since_;
  // Every address refused us for good (wrong file, banned, ourselves) and no tracker may offer more: fail now.
  // LAN announces may still bring a peer while LAN discovery runs.
  bool nothing_to_try = !dir_.any_hope() && !announcer_ && !host_.lan_discovery();
  if (!nothing_to_try && waited < opt_.give_up_after) {
    if (waited >= std::chrono::seconds(3) &&
        (last_waiting_report_ == Clock::time_point{} || now - last_waiting_report_ >= std::chrono::seconds(15))) {
      last_waiting_report_ = now;
      auto next = dir_.next_retry();
      auto left = std::chrono::duration_cast<std::chrono::seconds>(opt_.give_up_after - waited).count();
      event(EventKind::waiting,
            fmt::format("no peer connected ({}); {}; giving up in {} s (--give-up-after)", dir_.failure_summary(),
                        next == Clock::time_point::max()
                            ? std::string(announcer_ ? "waiting for the tracker to offer peers"
                                       : host_.lan_discovery()  ? "waiting for LAN announces"
                                                 : "nothing to retry")
                            : fmt::format("next try in {} s",
                                          std::max<long>(0, std::chrono::duration_cast<std::chrono::seconds>(next - now).count())),
                        left));
    }
    return;
  }
  std::string why = dir_.failure_summary();
  for (auto& [key, reason] : banned_) why += fmt::format("; {} banned ({})", key, reason);
  if (!nothing_to_try)
    why += fmt::format("; no peer connected for {} s (--give-up-after)",
                       std::chrono::duration_cast<std::chrono::seconds>(waited).count());
  fail(Error(ExitCode::peers_failed, fmt::format("no peer can supply the rest of {} ({} of {} pieces verified): {}",
                                                 meta_->name, picker_.have_count(), meta_->piece_count(), why)));
}

void Torrent::rechoke(Clock::time_point now) {
  // Slots are per peer, not per connection: several connections of one peer share one.
  std::map<std::string, Choker::Peer> by_key;
  for (auto& [id, p] : peers_) {
    if (!p.conn->handshaken()) continue;
    auto& cp = by_key[p.key];
    cp.key = p.key;
    cp.interested |= p.peer_interested;
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

void Torrent::save_state() {
  store_.save_state();
  state_dirty_ = false;
  last_save_ = host_.now();
}

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

double Torrent::bandwidth_delay() const {
  double sum = 0;
  for (const auto& [id, p] : peers_) sum += p.pipeline.bandwidth_delay();
  return sum;
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

// ---- pause and snapshot ---------------------------------------------------------------------

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

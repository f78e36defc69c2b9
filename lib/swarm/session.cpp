// Session: the process's event loop. Everything here runs on one io thread, so
// there are no locks; hashing and disk writes run on the session's pool and
// post their results back. This file: listening, routing incoming connections
// to torrents by info hash, connection budgets, housekeeping, shutdown.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/core.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include "base/address.hpp"
#include "base/discovery_switch.hpp"
#include "base/fd_limit.hpp"
#include "base/limits.hpp"
#include "tracker_client/tracker_client.hpp"
#include "swarm/outgoing_socket.hpp"
#include "swarm/policy/idle_eviction.hpp"
#include "swarm/session_snapshot.hpp"
#include "swarm/session_impl.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

namespace {
// Housekeeping (timeouts, dials, choking, gossip, state saves): often enough that a
// timeout or a freed dial slot is acted on within a quarter second, rarely enough to cost nothing.
constexpr auto kTick = std::chrono::milliseconds(250);
// How long "stopped" announces may hold up the end of the process.
constexpr auto kStopAnnounceBudget = std::chrono::milliseconds(2000);
// Out of descriptors, the listener waits this long before accepting again: a pending
// connection would otherwise wake it at once, a 100 % CPU spin.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// Changed reputation records are written this often (one SQLite transaction): a crash
// loses at most this much scoring, and a busy swarm costs no write per event.
constexpr auto kReputationFlushInterval = std::chrono::seconds(2);
// At the end, while hashing jobs are still out: how long each wait for their posts lasts
// before the loop looks again (a job posts back when it finishes; this only bounds a miss).
constexpr auto kDrainPoll = std::chrono::milliseconds(50);
}  // namespace

std::string_view peer_origin_name(PeerOrigin origin) {
  switch (origin) {
    case PeerOrigin::command_line: return "command line";
    case PeerOrigin::tracker: return "tracker";
    case PeerOrigin::gossip: return "gossip";
    case PeerOrigin::lan: return "lan";
    case PeerOrigin::punched: return "punched";
    case PeerOrigin::relay: return "relay";
    case PeerOrigin::incoming: return "incoming";
    case PeerOrigin::mapped: return "mapped";
  }
  return "incoming";
}

std::string_view torrent_phase_name(TorrentPhase phase) {
  switch (phase) {
    case TorrentPhase::running: return "running";
    case TorrentPhase::paused: return "paused";
    case TorrentPhase::complete: return "complete";
    case TorrentPhase::stopped: return "stopped";
    case TorrentPhase::failed: return "failed";
    case TorrentPhase::partial: return "partial";
  }
  return "running";
}

std::string_view event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::peer_connected: return "peer_connected";
    case EventKind::peer_dropped: return "peer_dropped";
    case EventKind::bad_piece: return "bad_piece";
    case EventKind::banned: return "banned";
    case EventKind::notice: return "notice";
    case EventKind::resumed: return "resumed";
    case EventKind::verifying: return "verifying";
    case EventKind::tracker: return "tracker";
    case EventKind::torrent_added: return "torrent_added";
    case EventKind::torrent_stopped: return "torrent_stopped";
    case EventKind::torrent_removed: return "torrent_removed";
    case EventKind::waiting: return "waiting";
  }
  return "notice";
}

wire::PeerAddress parse_peer_address(const std::string& text) {
  std::string why;
  auto hp = parse_host_port(text, why);
  if (!hp) throw Error(ExitCode::usage, fmt::format("peer {:?}: {}", text, why));
  return wire::PeerAddress{hp->host, hp->port};
}

Session::Impl::Impl(SessionOptions o, SessionObserver& obs)
    : opt(std::move(o)), observer(obs), peer_id(tracker_client::random_peer_id()), up_limit(opt.max_upload_rate), down_limit(opt.max_download_rate),
      reputation(opt.reputation_db), buffers(limits::kMaxPiecesInFlightBytes) {
  fd_limit = raise_fd_limit();  // one descriptor per served file, plus the sockets
  spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

TlsContext* Session::Impl::tls_context() {
  if (!tls) tls = std::make_unique<TlsContext>([this](const Digest& identity) { return find_psk(identity); });
  return tls.get();
}

Session::Impl::~Impl() {
  if (spare_fd >= 0) ::close(spare_fd);
  // run() returned only once no job of ours was left on the pool.
  torrents.clear();
  retired.clear();
}

Torrent* Session::Impl::find(const Digest& info_hash) const {
  for (const auto& t : torrents)
    if (t->meta().info_hash == info_hash) return t.get();
  return nullptr;
}

Torrent* Session::Impl::find_public(const Digest& public_id) const {
  for (const auto& t : torrents)
    if (t->public_id() == public_id) return t.get();
  return nullptr;
}

std::optional<PskMaterial> Session::Impl::find_psk(const Digest& identity) const {
  for (const auto& t : torrents)
    if (t->psk() && t->psk()->identity == identity && t->accepts_peers()) return t->psk();
  return std::nullopt;
}

// ---- connections ----------------------------------------------------------------------

std::shared_ptr<PeerConnection> Session::Impl::open_connection(PeerStream stream, ConnectionHandler& handler,
                                                               std::optional<wire::Handshake> ours) {
  auto id = next_conn_id++;
  auto c = std::make_shared<PeerConnection>(std::move(stream), handler, id, std::move(ours));
  c->set_rate_limiters(&up_limit, &down_limit);
  connections[id] = c;
  ++connections_per_ip[c->remote_ip()];
  return c;
}

void Session::Impl::forget_connection(PeerConnection& c) {
  if (connections.erase(c.id()) == 0) return;
  auto it = connections_per_ip.find(c.remote_ip());
  if (it != connections_per_ip.end() && --it->second == 0) connections_per_ip.erase(it);
  c.set_handler(*this);  // late calls from its coroutines land here, not in a torrent that may go away
}

std::size_t Session::Impl::connection_cap() const {
  // Each torrent holds its file open; the rest is for the database, logs and dials.
  std::size_t reserve = std::min(kReservedFds, fd_limit / 4) + torrents.size() + app_fds;
  std::size_t by_fds = fd_limit > reserve ? fd_limit - reserve : 0;
  return std::min(limits::kMaxConnectionsPerProcess, by_fds);
}

std::size_t Session::Impl::dial_budget() const {
  return connection_cap() > connections.size() ? connection_cap() - connections.size() : 0;
}

std::optional<tcp::endpoint> Session::Impl::outgoing_endpoint() const {
  if (!acceptor || !acceptor->is_open()) return std::nullopt;
  std::error_code ec;
  auto ep = acceptor->local_endpoint(ec);
  if (ec) return std::nullopt;
  return ep;
}

bool Session::Impl::displace_idlest() {
  std::vector<IdleEviction::Candidate> candidates;
  candidates.reserve(connections.size());
  for (auto& [id, c] : connections) {
    if (!c->open()) continue;
    auto from = connections_per_ip.find(c->remote_ip());
    candidates.push_back({id, c->last_payload(), c->moved_payload(), from == connections_per_ip.end() ? 1 : from->second});
  }
  auto victim = IdleEviction::pick(candidates, Clock::now());
  if (!victim) return false;
  auto c = connections.at(*victim);  // alive while it closes
  ++counters.peers_displaced;
  c->close(CloseReason::displaced);
  return true;
}

bool Session::Impl::address_has_room(const std::string& ip) const {
  auto it = connections_per_ip.find(ip);
  return it == connections_per_ip.end() || it->second < limits::kMaxConnectionsPerAddress;
}

// ---- listening and routing ----------------------------------------------------------------

void Session::Impl::listen() {
  std::error_code ec;
  auto addr = asio::ip::make_address(opt.listen_host, ec);
  if (ec) throw Error(ExitCode::usage, fmt::format("--host {:?} is not a numeric IP address", opt.listen_host));
  tcp::endpoint ep(addr, *opt.listen_port);
  acceptor.emplace(io);
  try {
    open_shared_listener(*acceptor, ep);  // outgoing dials leave from this port too (outgoing_socket.hpp)
  } catch (const std::system_error& e) {
    ec = e.code();
  }
  if (ec)
    throw Error(ExitCode::bind_failed,
                fmt::format("cannot listen on {}: {}", format_host_port(opt.listen_host, *opt.listen_port), ec.message()));
  listen_port = acceptor->local_endpoint().port();
  observer.on_listening(opt.listen_host, listen_port);
  asio::co_spawn(io, accept_loop(), asio::detached);
}

asio::awaitable<void> Session::Impl::accept_loop() {
  asio::steady_timer backoff(io);
  while (acceptor && acceptor->is_open()) {
    auto [ec, socket] = co_await acceptor->async_accept(kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      if (ec == asio::error::no_descriptors || ec == std::errc::too_many_files_open_in_system) {
        // Out of descriptors: the pending connection would wake us again at once
        // (a 100 % CPU spin). Free one — the connection idle longest, so the pending one
        // gets its place next time round — or else our spare, to accept it and hang up;
        // then wait a little.
        if (!displace_idlest() && spare_fd >= 0) {
          ::close(spare_fd);
          int fd = ::accept4(acceptor->native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
          if (fd >= 0) ::close(fd);
          spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
      }
      backoff.expires_after(kAcceptBackoff);
      co_await backoff.async_wait(kUseTuple);
      continue;
    }
    std::error_code ignored;
    auto remote = socket.remote_endpoint(ignored).address().to_string();
    std::size_t incoming_cap = connection_cap() > kDialReserve ? connection_cap() - kDialReserve : 0;
    // At the cap a newcomer displaces the connection that moved no payload longest: idle
    // sockets (handshaken or not) cannot lock real peers out (policy/idle_eviction.hpp).
    bool room = connections.size() < incoming_cap;
    if (!room && !stopping && address_has_room(remote)) room = displace_idlest();
    if (stopping || !room || !address_has_room(remote)) {
      socket.close(ignored);
      continue;
    }
    // The accepting side waits for the dialler's handshake: it names the torrent.
    // Plaintext or TLS (a private swarm's member): the first byte says which.
    open_connection(PeerStream::incoming(std::move(socket), tls_context()), *this, std::nullopt)->start();
  }
}

HandshakeAnswer Session::Impl::on_handshake(PeerConnection& c, const wire::Handshake& theirs) {
  HandshakeAnswer refuse;
  if (theirs.version != wire::kProtocolVersion) {
    refuse.refusal = wire::ErrorCode::version_mismatch;
    return refuse;
  }
  Torrent* t = find(theirs.info_hash);
  if (auto proven = c.proven_swarm(); proven && *proven != theirs.info_hash) {
    // Proved the key of one swarm, then named another: whatever it is after, not that.
    refuse.refusal = wire::ErrorCode::unknown_info_hash;
    return refuse;
  }
  if (!t || !t->accepts_peers()) {
    refuse.refusal = wire::ErrorCode::unknown_info_hash;
    return refuse;
  }
  if (t->psk() && !c.encrypted()) {
    // A private swarm never answers in plaintext: the refusal carries no data.
    refuse.refusal = wire::ErrorCode::encryption_required;
    note_refusal(reputation_key(c.peer_ip(), theirs.peer_id),
                 fmt::format("{}: refused a plaintext handshake for private swarm {} (it talks TLS only)", c.label(),
                             t->meta().name));
    return refuse;
  }
  return t->adopt(connections.at(c.id()), theirs);
}

void Session::Impl::on_closed(PeerConnection& c, CloseReason reason, const std::string& detail) {
  forget_connection(c);
  // A TLS client that could not prove a key of ours cannot be named by more than its
  // address; that is scored (and listed), but not banned by address: a NAT shares it.
  if (reason == CloseReason::tls_refused && !stopping)
    note_refusal(c.peer_ip() + "#tls", fmt::format("{}: {}", c.label(), detail));
}

void Session::Impl::rendezvous_note(const std::string& tracker, const tracker_client::RendezvousNote& note) {
  if (Torrent* t = find_public(note.swarm)) t->rendezvous_note(tracker, note);
}

void Session::Impl::note_refusal(const std::string& key, const std::string& text) {
  observer.on_event("", EventKind::notice, text);
  reputation.record(key, Reputation::Event::violation, text, std::chrono::system_clock::now());
}

// ---- housekeeping and life cycle ---------------------------------------------------------------

asio::awaitable<void> Session::Impl::ticker() {
  asio::steady_timer t(io);
  while (!stopping) {
    t.expires_after(kTick);
    co_await t.async_wait(kUseTuple);
    if (stopping) break;
    try {
      tick();
    } catch (...) {
      fail(std::current_exception());
    }
  }
}

void Session::Impl::tick() {
  // A removed torrent is destroyed once no hashing job can post back into it.
  std::erase_if(retired, [](const auto& t) { return t->hashing() == 0; });
  auto now = Clock::now();
  for (std::size_t i = 0; i < torrents.size(); ++i) torrents[i]->tick(now);
  // Piece buffers: what the links hold in flight, with room to grow (policy/piece_buffer_budget.hpp).
  Torrent::LinkTotals links;
  for (const auto& t : torrents) {
    auto l = t->link_totals();
    links.bandwidth_delay += l.bandwidth_delay;
    links.rate += l.rate;
    links.verifying += l.verifying;
    links.round_trip = std::max(links.round_trip, l.round_trip);
  }
  buffers.set_budget(
      buffer_budget.update(links.bandwidth_delay, links.rate, links.verifying, links.round_trip, buffers.take_held_back()));
  for (auto& [id, c] : connections) c->tune_unsent_limit(now);
  // Incoming connections still in the session's hands (no handshake yet, TLS or plaintext).
  std::vector<std::shared_ptr<PeerConnection>> late;
  for (auto& [id, c] : connections)
    if (!c->outgoing() && !c->handshaken() && now - c->created() > limits::kHandshakeTimeout) late.push_back(c);
  for (auto& c : late) c->close(CloseReason::handshake_timeout);
  if (now.time_since_epoch() % kReputationFlushInterval < kTick) reputation.flush();
  if (finished()) shutdown();
}

bool Session::Impl::finished() const {
  if (opt.run_until_signal || background_jobs > 0) return false;
  for (const auto& t : torrents)
    if (!t->finished()) return false;
  return true;
}

void Session::Impl::fail(std::exception_ptr e) {
  if (!fatal) fatal = e;
  shutdown();
}

void Session::Impl::shutdown() {
  if (stopping) return;
  stopping = true;
  if (acceptor) acceptor->close();
  if (mapper) mapper->request_stop();  // removed on its thread while the trackers hear "stopped"
  if (lan) lan->stop();
  for (auto& t : torrents) t->stop("shutting down");
  for (auto& [id, c] : std::map(connections)) c->close(CloseReason::shutting_down);
  // Tell the trackers we are gone, bounded, then end the loop.
  auto pending = std::make_shared<std::size_t>(0);
  for (auto& t : torrents)
    if (t->announcing()) ++*pending;
  if (*pending == 0) return io.stop();
  auto deadline = std::make_shared<asio::steady_timer>(io, kStopAnnounceBudget);
  deadline->async_wait([this, deadline](std::error_code) { io.stop(); });
  for (auto& t : torrents)
    if (t->announcing())
      asio::co_spawn(io, t->stop_announcing(), [pending, deadline](std::exception_ptr) {
                       if (--*pending == 0) deadline->cancel();
                     });
}

// LAN discovery hears announces and asks only this much of the session: which swarms we
// serve, whether we are in one, and to pass a (source IP, claimed port) hint to its torrent.
void Session::Impl::start_lan() {
  if (!acceptor || !opt.lan_discovery || !discovery_allowed(opt.listen_host)) return;
  LanHooks hooks;
  hooks.our_swarms = [this] {
    std::vector<Digest> ids;
    for (const auto& t : torrents)
      if (t->accepts_peers()) ids.push_back(t->public_id());
    return ids;
  };
  hooks.in_swarm = [this](const Digest& id) {
    Torrent* t = find_public(id);
    return t && t->accepts_peers();
  };
  hooks.learned = [this](const Digest& id, const std::string& ip, std::uint16_t port) {
    if (Torrent* t = find_public(id)) t->learn_peers({wire::PeerAddress{ip, port}}, PeerDirectory::Source::lan, ip);
  };
  hooks.notice = [this](const std::string& text) { observer.on_event("", EventKind::notice, text); };
  lan = std::make_unique<LanDiscovery>(io, listen_port, LanScope::for_listen_host(opt.listen_host), std::move(hooks));
  if (!lan->start()) lan.reset();
}

// ---- Session ---------------------------------------------------------------------------------

Session::Session(SessionOptions options, SessionObserver& observer)
    : impl_(std::make_unique<Impl>(std::move(options), observer)) {}
Session::~Session() = default;

void Session::add_torrent(std::shared_ptr<const Meta> meta, PieceStore store, TorrentOptions options) {
  if (impl_->find(meta->info_hash))
    throw Error(ExitCode::usage, fmt::format("{} ({}) is already being served", meta->name,
                                             meta->info_hash_hex().substr(0, 16)));
  impl_->torrents.push_back(std::make_unique<Torrent>(impl_->torrent_host, std::move(meta), std::move(store), std::move(options)));
  if (impl_->running) impl_->torrents.back()->start();
  if (impl_->lan) impl_->lan->swarm_added(impl_->torrents.back()->public_id());
}

void Session::remove_torrent(const Digest& info_hash, const std::string& why) {
  auto& ts = impl_->torrents;
  for (auto it = ts.begin(); it != ts.end(); ++it) {
    if ((*it)->meta().info_hash != info_hash) continue;
    (*it)->stop(why);
    // Tell its trackers we no longer serve it (the announcer outlives the torrent).
    if ((*it)->announcing()) asio::co_spawn(impl_->io, (*it)->stop_announcing(), asio::detached);
    impl_->observer.on_event((*it)->meta().name, EventKind::torrent_removed, why);
    impl_->retired.push_back(std::move(*it));  // destroyed at the next tick, after its connections' last calls
    ts.erase(it);
    return;
  }
}

bool Session::has_torrent(const Digest& info_hash) const { return impl_->find(info_hash) != nullptr; }

bool Session::set_paused(const Digest& info_hash, bool paused) {
  Torrent* t = impl_->find(info_hash);
  if (!t || t->state() == Torrent::State::stopped || t->state() == Torrent::State::failed) return false;
  t->set_paused(paused);
  if (!paused && impl_->lan) impl_->lan->swarm_added(t->public_id());  // back on the LAN: say so now
  return true;
}

SessionSnapshot Session::snapshot() const {
  const auto& s = *impl_;
  SessionSnapshot out;
  for (const auto& t : s.torrents) out.torrents.push_back(t->snapshot());
  out.counters = s.counters;
  if (s.lan) out.lan = s.lan->counters();
  out.listen_port = s.acceptor ? s.listen_port : 0;
  out.port_mapping = s.mapping;
  out.connections = s.connections.size();
  for (const auto& t : s.torrents) out.hash_queue_depth += t->hashing();
  out.hash_threads = std::max(1u, s.hashers.size());
  out.avg_hash_seconds = s.avg_hash_seconds;
  out.avg_write_seconds = s.avg_write_seconds;
  out.max_upload_rate = s.opt.max_upload_rate;
  out.max_download_rate = s.opt.max_download_rate;
  out.piece_buffer_bytes = s.buffers.in_use();
  out.piece_buffer_budget = s.buffers.budget();
  out.reachability = s.rendezvous.reachability();
  return out;
}

std::optional<TorrentSnapshot> Session::snapshot_of(const Digest& info_hash) const {
  if (Torrent* t = impl_->find(info_hash)) return t->snapshot();
  return std::nullopt;
}

asio::io_context& Session::io_context() { return impl_->io; }
std::size_t Session::torrent_count() const { return impl_->torrents.size(); }

void Session::reserve_descriptors(std::size_t n) { impl_->app_fds += n; }

void Session::every(std::chrono::milliseconds period, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(impl_->io);
  asio::co_spawn(
      impl_->io,
      [impl = impl_.get(), timer, period, fn = std::move(fn)]() -> asio::awaitable<void> {
        while (!impl->stopping) {
          try {
            fn();
          } catch (...) {
            impl->fail(std::current_exception());
          }
          timer->expires_after(period);
          co_await timer->async_wait(kUseTuple);
        }
      },
      asio::detached);
}

void Session::in_background(std::function<void()> work, std::function<void()> done) {
  ++impl_->background_jobs;
  impl_->hashers.post([impl = impl_.get(), work = std::move(work), done = std::move(done)]() mutable {
    std::exception_ptr failure;
    try {
      work();
    } catch (...) {
      failure = std::current_exception();  // handed to the io thread: pool jobs never throw
    }
    asio::post(impl->io, [impl, done = std::move(done), failure] {
      --impl->background_jobs;
      if (impl->stopping) return;
      try {
        if (failure) std::rethrow_exception(failure);
        done();
      } catch (...) {
        impl->fail(std::current_exception());
      }
    });
  });
}

void Session::stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->shutdown(); });
}

void Session::on_hangup(std::function<void()> fn) { impl_->on_hangup = std::move(fn); }

namespace {
// SIGHUP, again and again, until the session stops (the set is cancelled).
void wait_for_hangups(asio::signal_set& set, const std::function<void()>& fn) {
  set.async_wait([&set, &fn](std::error_code ec, int) {
    if (ec) return;
    fn();
    wait_for_hangups(set, fn);
  });
}
}  // namespace

void Session::report(const std::string& torrent, EventKind kind, const std::string& text) {
  impl_->observer.on_event(torrent, kind, text);
}

SessionOutcome Session::run() {
  auto& s = *impl_;
  // sendfile(2) has no MSG_NOSIGNAL: a peer that vanishes mid-block would otherwise
  // kill the whole process with SIGPIPE instead of failing one send with EPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  asio::signal_set signals(s.io, SIGINT, SIGTERM);
  signals.async_wait([&s](std::error_code ec, int) {
    if (ec) return;
    s.interrupted = true;
    s.shutdown();
  });
  asio::signal_set hangups(s.io);
  if (s.on_hangup) {
    hangups.add(SIGHUP);
    wait_for_hangups(hangups, s.on_hangup);
  }
  if (s.opt.listen_port) s.listen();
  s.start_port_mapping();
  s.running = true;
  for (std::size_t i = 0; i < s.torrents.size(); ++i) s.torrents[i]->start();
  if (!s.stopping && !s.finished()) s.start_lan();
  if (!s.stopping && !s.finished()) {
    asio::co_spawn(s.io, s.ticker(), asio::detached);
    s.io.run();
  }
  s.shutdown();
  signals.cancel();
  hangups.cancel();
  // Drain background work and the hash pool so no piece is half-recorded.
  auto busy = [&s] {
    std::size_t n = s.background_jobs;
    for (auto& t : s.torrents) n += t->hashing();
    for (auto& t : s.retired) n += t->hashing();
    return n > 0;
  };
  for (;;) {
    s.io.restart();
    if (s.io.poll() > 0) continue;
    if (!busy()) break;
    s.io.run_one_for(kDrainPoll);  // a hashing job will post back
  }
  if (s.mapper) s.mapper->finish();  // the mapping is gone from the gateway (bounded: port_mapping.hpp)
  s.reputation.flush();
  SessionOutcome out;
  out.interrupted = s.interrupted;
  for (auto& t : s.torrents) out.torrents.push_back(t->outcome());
  if (s.fatal) std::rethrow_exception(s.fatal);
  return out;
}

}  // namespace p2p

// Swarm: the event loop of one file. Everything here runs on one io thread, so
// there are no locks; hashing and disk writes of received pieces run on a small
// thread pool and post their results back. This file: life cycle, listening and
// dialling, housekeeping (timeouts, choking, gossip, state saves, progress).
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/core.h>

#include <csignal>

#include "base/error.hpp"
#include "swarm/swarm_impl.hpp"

namespace p2p {

wire::PeerAddress parse_peer_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw Error(ExitCode::usage, fmt::format("peer {:?} is not HOST:PORT", text));
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535)
      throw Error(ExitCode::usage, fmt::format("peer {:?}: port is not a number in 1-65535", text));
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port == 0 || port > 65535) throw Error(ExitCode::usage, fmt::format("peer {:?}: port must be 1-65535", text));
  return wire::PeerAddress{host, static_cast<std::uint16_t>(port)};
}

wire::Handshake Swarm::Impl::our_handshake() const {
  return wire::Handshake{wire::kProtocolVersion, meta.info_hash, peer_id, listen_port};
}

void Swarm::Impl::fail(std::exception_ptr e) {
  if (!fatal) fatal = e;
  shutdown();
}

void Swarm::Impl::shutdown() {
  if (stopping) return;
  stopping = true;
  if (acceptor) acceptor->close();
  for (auto& [id, c] : std::map(conns)) c->close("shutting down");
  io.stop();
}

void Swarm::Impl::listen() {
  tcp::endpoint ep;
  std::error_code ec;
  auto addr = asio::ip::make_address(opt.listen_host, ec);
  if (ec) throw Error(ExitCode::usage, fmt::format("--host {:?} is not a numeric IP address", opt.listen_host));
  ep = tcp::endpoint(addr, *opt.listen_port);
  acceptor.emplace(io);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error(ExitCode::bind_failed, fmt::format("cannot listen on {}:{}: {}", opt.listen_host, *opt.listen_port,
                                                   ec.message()));
  listen_port = acceptor->local_endpoint().port();
  observer.on_listening(opt.listen_host, listen_port);
  asio::co_spawn(io, accept_loop(), asio::detached);
}

asio::awaitable<void> Swarm::Impl::accept_loop() {
  while (acceptor && acceptor->is_open()) {
    auto [ec, socket] = co_await acceptor->async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      continue;  // EMFILE and friends: keep serving those we have
    }
    std::error_code ignored;
    auto remote = socket.remote_endpoint(ignored).address().to_string();
    std::size_t same = 0;
    for (auto& [id, c] : conns) same += c->remote_ip() == remote;
    if (conns.size() >= limits::kMaxConnectionsPerProcess || same >= limits::kMaxConnectionsPerAddress) {
      socket.close(ignored);
      continue;
    }
    add_connection(std::move(socket), false, std::nullopt);
  }
}

void Swarm::Impl::add_connection(tcp::socket socket, bool outgoing, std::optional<wire::PeerAddress> dialled) {
  auto id = next_conn_id++;
  auto c = std::make_shared<PeerConnection>(std::move(socket), *this, id, outgoing, our_handshake());
  c->set_rate_limiters(&up_limit, &down_limit);
  conns[id] = c;
  if (dialled) addr_of[id] = *dialled;
  c->start();
}

asio::awaitable<void> Swarm::Impl::connect(wire::PeerAddress addr) {
  tcp::resolver resolver(io);
  auto [rec_ec, results] = co_await resolver.async_resolve(addr.host, std::to_string(addr.port), kTuple);
  tcp::socket socket(io);
  std::error_code ec = rec_ec;
  if (!ec) {
    asio::steady_timer deadline(io, limits::kConnectTimeout);
    deadline.async_wait([&socket](std::error_code e) {
      if (!e) socket.close();
    });
    auto [cec, ep] = co_await asio::async_connect(socket, results, kTuple);
    deadline.cancel();
    ec = cec;
    if (!ec && !socket.is_open()) ec = asio::error::timed_out;
  }
  if (stopping) co_return;
  if (ec) {
    dir.dial_failed(addr, ec == asio::error::operation_aborted ? "connection timed out" : ec.message(), Clock::now());
    report_failure(addr);
    co_return;
  }
  dir.connected(addr);
  add_connection(std::move(socket), true, addr);
}

void Swarm::Impl::report_failure(const wire::PeerAddress& addr) {
  if (dir.first_failure(addr) || dir.gave_up(addr))
    observer.on_event("peer_dropped", fmt::format("{}: {}{}", address_label(addr), dir.last_error(addr),
                                                  dir.gave_up(addr) ? " (giving up)" : ""));
}

void Swarm::Impl::maintain_dials() {
  if (complete || stopping) return;
  std::size_t budget = limits::kMaxConnectionsPerProcess > conns.size() ? limits::kMaxConnectionsPerProcess - conns.size() : 0;
  auto plan = dir.to_dial(Clock::now(), budget);
  // Prefer peers with a better record; never dial one that is banned.
  std::stable_sort(plan.begin(), plan.end(), [&](const auto& a, const auto& b) {
    return reputation.score(address_label(a)) > reputation.score(address_label(b));
  });
  for (const auto& addr : plan) {
    if (reputation.banned(address_label(addr), std::chrono::system_clock::now())) {
      dir.ban(addr, "banned earlier");
      note_ban(address_label(addr), reputation.find(address_label(addr))->reason);
      continue;
    }
    dir.dialling(addr);
    asio::co_spawn(io, connect(addr), asio::detached);
  }
}

void Swarm::Impl::add_peers(const std::vector<wire::PeerAddress>& peers, PeerDirectory::Source source) {
  for (const auto& p : peers)
    if (!(p.port == listen_port && is_local(p.host))) dir.add(p, source);
  maintain_dials();
}

asio::awaitable<void> Swarm::Impl::ticker() {
  asio::steady_timer t(io);
  while (!stopping) {
    t.expires_after(kTick);
    co_await t.async_wait(kTuple);
    if (stopping) break;
    try {
      tick();
    } catch (...) {
      fail(std::current_exception());
    }
  }
}

void Swarm::Impl::tick() {
  auto now = Clock::now();
  for (auto& [id, c] : std::map(conns)) {
    if (!c->handshaken() && now - c->created > limits::kHandshakeTimeout) {
      c->close("handshake timed out");
    } else if (!c->outstanding.empty() && now - c->last_block > limits::kRequestTimeout) {
      c->close(fmt::format("stalled: no data for {} s with {} requests outstanding",
                           std::chrono::duration_cast<std::chrono::seconds>(limits::kRequestTimeout).count(),
                           c->outstanding.size()));
    } else if (now - c->last_received > limits::kIdleTimeout) {
      c->close("idle for too long");
    } else if (c->am_interested && now - c->last_block > limits::kIdleTimeout) {
      c->close("sent nothing we asked for in too long (choked or stalled)");
    } else if (now - c->last_sent > limits::kKeepAliveInterval) {
      c->send(wire::KeepAlive{});
    }
  }
  maintain_dials();
  if (choker.due(now)) rechoke(now);
  send_pex(now);
  if (now - last_save >= limits::kStateSaveInterval) {
    if (state_dirty) save_state();
    else reputation.flush();
    last_save = now;
  }
  if (now - last_progress >= std::chrono::seconds(1)) report_progress();
  if (announcer)
    announcer->set_progress(meta.size - store.verified_bytes(), stats.uploaded_bytes, stats.downloaded_bytes);
  if (complete && opt.keep_seeding && opt.seed_time && now - completed_at >= *opt.seed_time) shutdown();
  check_hope(now);
}

void Swarm::Impl::check_hope(Clock::time_point now) {
  if (complete || !conns.empty() || dir.any_hope() || hashing > 0) {
    hopeless_since = {};
    return;
  }
  if (hopeless_since == Clock::time_point{}) hopeless_since = now;
  if (announcer && now - hopeless_since < kWaitForTrackerPeers) return;
  std::string why = dir.failure_summary();
  for (auto& [key, reason] : banned) why += fmt::format("; {} banned ({})", key, reason);
  if (announcer) why += fmt::format("; the tracker offered no other peer in {} s", kWaitForTrackerPeers.count());
  fail(std::make_exception_ptr(Error(ExitCode::peers_failed,
                                     fmt::format("no peer can supply the rest of {} ({} of {} pieces verified): {}",
                                                 meta.name, picker.have_count(), meta.piece_count(), why))));
}

void Swarm::Impl::rechoke(Clock::time_point now) {
  std::map<std::string, Choker::Peer> peers;
  for (auto& [id, c] : conns) {
    if (!c->handshaken()) continue;
    auto& p = peers[c->peer_key()];
    p.key = c->peer_key();
    p.interested |= c->peer_interested;
    p.rate_from += c->sample_download_rate();
  }
  std::vector<Choker::Peer> list;
  for (auto& [k, p] : peers) list.push_back(p);
  auto unchoke = choker.rechoke(list, complete || store.complete(), now);
  for (auto& [id, c] : conns) {
    if (!c->handshaken()) continue;
    bool should_choke = !unchoke.count(c->peer_key());
    if (should_choke == c->am_choking) continue;
    c->am_choking = should_choke;
    if (should_choke) {
      c->clear_uploads();  // a choke discards their pending requests
      c->send(wire::Choke{});
    } else {
      c->send(wire::Unchoke{});
    }
  }
}

void Swarm::Impl::send_pex(Clock::time_point now) {
  std::set<wire::PeerAddress> known;
  for (auto& [id, a] : addr_of)
    if (conns.count(id) && conns[id]->handshaken()) known.insert(a);
  for (auto& [id, c] : conns) {
    if (!c->handshaken()) continue;
    auto others = known;
    if (auto it = addr_of.find(id); it != addr_of.end()) others.erase(it->second);
    if (auto msg = pex[id].next(others, now)) c->send(*msg);
  }
}

void Swarm::Impl::save_state() {
  reputation.flush();
  store.save_state();
  state_dirty = false;
  last_save = Clock::now();
}

void Swarm::Impl::report_progress() {
  auto now = Clock::now();
  double dt = last_progress == Clock::time_point{} ? std::chrono::duration<double>(now - started).count()
                                                   : std::chrono::duration<double>(now - last_progress).count();
  last_progress = now;
  fill_stats();
  if (dt > 0) {
    double down = static_cast<double>(stats.downloaded_bytes - last_down) / dt;
    double up = static_cast<double>(stats.uploaded_bytes - last_up) / dt;
    stats.download_rate = stats.download_rate == 0 ? down : 0.5 * stats.download_rate + 0.5 * down;
    stats.upload_rate = stats.upload_rate == 0 ? up : 0.5 * stats.upload_rate + 0.5 * up;
  }
  last_down = stats.downloaded_bytes;
  last_up = stats.uploaded_bytes;
  observer.on_progress(stats);
}

void Swarm::Impl::fill_stats() {
  stats.verified_bytes = store.verified_bytes();
  stats.pieces_verified = store.verified().count();
  stats.peers = 0;
  for (auto& [id, c] : conns) stats.peers += c->handshaken();
  stats.elapsed = std::chrono::duration<double>(Clock::now() - started).count();
}

SwarmOutcome Swarm::Impl::run() {
  // sendfile(2) has no MSG_NOSIGNAL: a peer that vanishes mid-block would otherwise
  // kill the whole process with SIGPIPE instead of failing one send with EPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([this](std::error_code ec, int) {
    if (ec) return;
    interrupted = true;
    shutdown();
  });
  if (opt.listen_port) listen();
  if (!opt.trackers.empty()) {
    announcer = std::make_unique<Announcer>(
        opt.trackers, meta.info_hash, peer_id, listen_port,
        [this](std::vector<wire::PeerAddress> peers) {
          asio::post(io, [this, peers = std::move(peers)] {
            if (!complete && !stopping) add_peers(peers, PeerDirectory::Source::tracker);
          });
        },
        [this](const std::string& text) { asio::post(io, [this, text] { observer.on_event("tracker", text); }); });
    announcer->set_progress(meta.size - store.verified_bytes(), 0, 0);
  }
  if (!store.is_source()) verifier = std::make_unique<WholeFileVerifier>(meta, store.file(), store.verified());
  if (store.complete()) {
    if (store.is_source()) complete = true;
    else on_all_pieces();  // resumed with every piece: only the final check and rename remain
  }
  if (!stopping && (!complete || opt.keep_seeding || acceptor)) {
    maintain_dials();
    asio::co_spawn(io, ticker(), asio::detached);
    io.run();
  }
  if (announcer) announcer->stop();  // "stopped" to each tracker, bounded
  // Drain the hash pool so no piece is half-recorded, then record what is verified.
  while (hashing > 0) {
    io.restart();
    io.run_one();
  }
  SwarmOutcome out;
  out.complete = complete && !fatal;
  out.interrupted = interrupted;
  if (!out.complete) {
    try {
      if (!store.complete() || fatal) save_state();
    } catch (...) {
      if (!fatal) fatal = std::current_exception();
    }
  }
  if (fatal) std::rethrow_exception(fatal);
  fill_stats();
  stats.download_rate = stats.elapsed > 0 ? static_cast<double>(stats.downloaded_bytes) / stats.elapsed : 0;
  out.stats = stats;
  for (auto& [key, reason] : banned) out.banned.push_back(fmt::format("{} ({})", key, reason));
  return out;
}

Swarm::Swarm(const Meta& meta, PieceStore& store, SwarmOptions options, SwarmObserver& observer)
    : impl_(std::make_unique<Impl>(meta, store, std::move(options), observer)) {}
Swarm::~Swarm() = default;
SwarmOutcome Swarm::run() { return impl_->run(); }

}  // namespace p2p

// Torrent, continued: dialling and admitting peers. Which addresses to dial (the
// directory's plan, ordered by reputation, within the host's budgets), the dials,
// handshakes in both directions, what a closed connection tells the directory, and
// giving up when no peer can supply the rest. Runs on the session's io thread.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <fmt/core.h>

#include <algorithm>

#include "base/address.hpp"
#include "base/limits.hpp"
#include "net/use_tuple.hpp"
#include "swarm/outgoing_socket.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

using asio::ip::tcp;

namespace {
// With no peer connected: "waiting" is reported once this has passed (dials of a normal
// start settle well within it, so a start is not reported as trouble), then this often
// (a sign of life while it retries, not a line per dial).
constexpr auto kWaitingReportAfter = std::chrono::seconds(3);
constexpr auto kWaitingReportEvery = std::chrono::seconds(15);

bool is_local(const std::string& host) { return host == "127.0.0.1" || host == "::1"; }
}  // namespace

void Torrent::learn_peers(const std::vector<wire::PeerAddress>& peers, PeerDirectory::Source source,
                          const std::string& advertiser_ip) {
  if (state_ == State::failed || state_ == State::stopped || paused_) return;
  add_peers(peers, source, {}, advertiser_ip);
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

void Torrent::maintain_dials() {
  // Not while the whole-file check runs: what the torrent dials for depends on its
  // outcome (a complete file that does not seed dials nobody). The next tick resumes.
  if (!dials() || finishing_) return;
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
  if (Peer* mine = crossed_dial(*c, theirs.peer_id)) mine->conn->close(CloseReason::crossed_dial);
  return answer;
}

Peer* Torrent::crossed_dial(PeerConnection& c, const std::string& their_id) {
  // Two peers that hear of each other at once (one gossip list reaches both) dial each
  // other: every such pair then held two connections, each with its own `have`s,
  // bitfield, requests and timers (N = 32: ~50 connections per process instead of 32).
  // As BitTorrent clients do, one goes once both are up: the dial of the peer with the
  // larger id. Only that peer acts, so both ends drop the same connection; the other end
  // sees it close. Not the connections to a peer given on the command line (--parallel
  // opens several on purpose) nor relayed ones. Both connections must name one address (the
  // one we dialled; the incoming one's IP and listen port): a peer id alone is no proof, and
  // someone else claiming a peer's id must not get our connection to that peer closed.
  Peer* self = peer_of(c);
  if (!self || host_.peer_id() <= their_id || c.relayed()) return nullptr;
  Peer* other = nullptr;
  for (auto& [id, o] : peers_)
    if (o.conn.get() != &c && o.dialled() != c.outgoing() && o.key == self->key && o.conn->handshaken() &&
        o.conn->open() && !o.conn->relayed() && o.conn->theirs().peer_id == their_id) {
      other = &o;
      break;
    }
  if (!other) return nullptr;
  Peer* ours = c.outgoing() ? self : other;
  if (!ours->listen_address || dir_.source(*ours->listen_address) == PeerDirectory::Source::command_line)
    return nullptr;
  return ours;
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
  if (Peer* mine = crossed_dial(c, h.peer_id)) {  // this one: theirs to us is up already
    report_connected(*mine);  // it did connect: how we reached the peer stays on record
    mine->conn->close(CloseReason::crossed_dial);
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
  report_connected(p);
  // Gossip now rather than at the next tick: a swarm starting together meets sooner (each
  // peer's pex is still sent at most every PeerExchange::kMinInterval).
  send_pex(host_.now());
}

void Torrent::report_connected(const Peer& p) {
  // "(outgoing, tracker)", "(incoming, relay)": the direction, then how the peer was reached.
  PeerOrigin origin = origin_of(p);
  std::string_view how = origin == PeerOrigin::incoming ? std::string_view() : peer_origin_name(origin);
  // An incoming peer is named by where it listens (its key), not by the port it dialled from.
  const std::string& who = p.dialled() || p.conn->relayed() ? p.conn->label() : p.key;
  event(EventKind::peer_connected, fmt::format("{} ({}{}{})", who, p.dialled() ? "outgoing" : "incoming",
                                               how.empty() ? "" : ", ", how));
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
    } else if (reason == CloseReason::crossed_dial) {
      dir_.superseded(*p.listen_address);
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
    if (waited >= kWaitingReportAfter &&
        (last_waiting_report_ == Clock::time_point{} || now - last_waiting_report_ >= kWaitingReportEvery)) {
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

}  // namespace p2p

// Torrent, continued: reaching peers across NATs. Announce answers and rendezvous
// notes make both ends dial at once (a hole punched through port-preserving NATs);
// when direct dials to a peer a relaying tracker gave us keep failing (symmetric
// NATs), both meet at the tracker's relay instead. Runs on the session's io thread.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <fmt/core.h>

#include "base/address.hpp"
#include "tracker_client/tracker_client_async.hpp"
#include "swarm/relay_link.hpp"
#include "swarm/torrent.hpp"

namespace p2p {

using asio::ip::tcp;

namespace {
// Direct dials that fail before a relay is tried: one when a rendezvous timed it (both ends
// dialled at once and still did not meet: a NAT that changes ports), else two.
constexpr int kDialsBeforeRelay = 2;
constexpr int kPunchesBeforeRelay = 1;
// A relay to the same peer is asked for at most this often: a tracker's relay slots are
// few and shared, and a peer that failed to pair is rarely reachable a moment later.
constexpr auto kRelayRetry = std::chrono::seconds(60);
// Asking the tracker for a relay is one tracker request (tracker_client::kTrackerTimeout).
// Waiting at the relay for the other member: longer than the relay itself waits for a
// partner (tracker_limits.hpp, kRelayPartnerTimeout, 15 s), so the relay decides first
// and says why.
constexpr auto kRelayPairTimeout = std::chrono::seconds(20);

std::string host_of(const std::string& tracker) {
  std::string why;
  auto hp = parse_host_port(tracker, why);
  return hp ? hp->host : tracker;
}
}  // namespace

void Torrent::tracker_answered(const std::string& tracker, tracker_client::AnnounceResponse& answer) {
  host_.tracker_answered(tracker, answer);
  if (!dials()) return;
  std::string tracker_ip = host_of(tracker);
  for (const auto& p : answer.peers)
    if (tracker_of_.size() < PeerDirectory::kMaxKnownPeers || tracker_of_.count(p)) tracker_of_[p] = tracker;
  add_peers(answer.peers, PeerDirectory::Source::tracker, {}, tracker_ip);
  // The tracker told these to dial us now: dial them now too, so that both SYNs cross.
  for (const auto& p : answer.told) dir_.rendezvous(p, host_.now());
  if (!answer.told.empty()) maintain_dials();
}

void Torrent::rendezvous_note(const std::string& tracker, const tracker_client::RendezvousNote& note) {
  if (!dials() && !(note.relay_ticket.size() && accepts_peers())) return;
  if (!dialable(note.from, host_of(tracker))) return;
  if (!note.relay_ticket.empty()) {
    asio::co_spawn(host_.io(), relay_accept(tracker, note), asio::detached);
    return;
  }
  if (tracker_of_.size() < PeerDirectory::kMaxKnownPeers || tracker_of_.count(note.from)) tracker_of_[note.from] = tracker;
  dir_.add(note.from, PeerDirectory::Source::tracker);
  dir_.rendezvous(note.from, host_.now());
  maintain_dials();
}

void Torrent::maybe_relay(const wire::PeerAddress& addr) {
  // The downloader asks; a seeder waits for it (both asking would make two relayed connections).
  if (!dials() || state_ != State::running || dir_.gave_up(addr)) return;
  if (dir_.failures(addr) < (dir_.met_by_rendezvous(addr) ? kPunchesBeforeRelay : kDialsBeforeRelay)) return;
  auto from = tracker_of_.find(addr);
  if (from == tracker_of_.end()) return;
  std::uint16_t relay_port = host_.relay_port(from->second);
  if (relay_port == 0) return;
  auto now = host_.now();
  auto tried = relay_tried_.find(addr);
  if (tried != relay_tried_.end() && now - tried->second < kRelayRetry) return;
  relay_tried_[addr] = now;
  dir_.dialling(addr);  // the relay attempt counts as a dial in progress: no direct one meanwhile
  asio::co_spawn(host_.io(), relay_dial(addr, from->second, relay_port), asio::detached);
}

asio::awaitable<void> Torrent::relay_dial(wire::PeerAddress addr, std::string tracker, std::uint16_t relay_port) {
  auto alive = alive_;
  std::string why;
  tcp::socket socket(host_.io());
  try {
    auto offer = co_await tracker_client::request_relay_async(tracker, public_id(), host_.announced_port(), addr,
                                                              tracker_client::kTrackerTimeout);
    if (!*alive) co_return;
    relay_port = offer.relay_port;
    why = co_await open_relay_link(socket, host_of(tracker), relay_port, offer.ticket, RelayRole::dialler,
                                   kRelayPairTimeout);
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!*alive || !dials()) co_return;
  if (!why.empty()) {
    dir_.dial_failed(addr, fmt::format("through the relay: {}", why), host_.now());
    report_failure(addr);
    co_return;
  }
  dir_.connected(addr);
  event(EventKind::notice, fmt::format("{}: connected through the relay of tracker {}", address_label(addr), tracker));
  PeerStream stream = psk_ ? PeerStream::tls_client(std::move(socket), *host_.tls(), *psk_) : PeerStream::plain(std::move(socket));
  auto c = host_.open_connection(std::move(stream), *this, our_handshake());
  c->set_relayed(addr.host);
  attach(c, addr);
  c->start();
}

asio::awaitable<void> Torrent::relay_accept(std::string tracker, tracker_client::RendezvousNote note) {
  auto alive = alive_;
  tcp::socket socket(host_.io());
  std::string why = co_await open_relay_link(socket, host_of(tracker), note.relay_port, note.relay_ticket,
                                             RelayRole::acceptor, kRelayPairTimeout);
  if (!*alive || host_.stopping() || !accepts_peers()) co_return;
  if (!why.empty()) {
    event(EventKind::notice, fmt::format("{} asked to meet at the relay: {}", address_label(note.from), why));
    co_return;
  }
  // From here it is an incoming connection like any other: the dialler's handshake names the torrent.
  auto c = host_.open_connection(PeerStream::incoming(std::move(socket), host_.tls()), host_.incoming_handler(), std::nullopt);
  c->set_relayed(note.from.host);
  c->start();
}

}  // namespace p2p

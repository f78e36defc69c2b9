// The session's private state, shared by session.cpp and the torrents it owns.
// Included only by swarm sources: it pulls in Asio.
#pragma once
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include <map>
#include <memory>

#include "base/hash_pool.hpp"
#include "base/rate_limiter.hpp"
#include "net/local_subnets.hpp"
#include "net/port_mapping.hpp"
#include "net/use_tuple.hpp"
#include "swarm/lan_discovery.hpp"
#include "swarm/peer_connection.hpp"
#include "swarm/piece_buffer_pool.hpp"
#include "swarm/policy/piece_buffer_budget.hpp"
#include "swarm/rendezvous_client.hpp"
#include "swarm/reputation.hpp"
#include "swarm/session.hpp"
#include "swarm/session_snapshot.hpp"
#include "swarm/tls_context.hpp"
#include "swarm/torrent_host.hpp"

namespace p2p {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class Torrent;

// The session as its torrents see it (torrent_host.hpp): session_torrent_host.cpp.
class SessionTorrentHost final : public TorrentHost {
 public:
  explicit SessionTorrentHost(Session::Impl& s) : s_(s) {}
  asio::io_context& io() override;
  HashPool& hashers() override;
  PieceBufferPool& buffers() override;
  Reputation& reputation() override;
  SessionCounters& counters() override;
  SessionObserver& observer() override;
  void note_piece_timing(double hash_seconds, double write_seconds) override;
  Clock::time_point now() const override { return Clock::now(); }
  WallClock::time_point wall_now() const override { return WallClock::now(); }
  const std::string& peer_id() const override;
  std::uint16_t listen_port() const override;
  std::uint16_t announced_port() const override;
  bool came_through_mapping(const std::string& ip) const override;
  bool lan_discovery() const override;
  std::size_t dial_budget() const override;
  bool address_has_room(const std::string& ip) const override;
  std::optional<tcp::endpoint> outgoing_endpoint() const override;
  TlsContext* tls() override;
  std::shared_ptr<PeerConnection> open_connection(PeerStream stream, ConnectionHandler& handler,
                                                  std::optional<wire::Handshake> ours) override;
  ConnectionHandler& incoming_handler() override;
  void forget_connection(PeerConnection& c) override;
  bool inbound_refused(const std::string& ip) const override;
  void note_inbound_ban(const std::string& ip) override;
  void tracker_answered(const std::string& tracker, const tracker_client::AnnounceResponse& answer) override;
  std::uint16_t relay_port(const std::string& tracker) const override;
  bool stopping() const override;
  void torrent_finished() override;

 private:
  Session::Impl& s_;
};

struct Session::Impl final : ConnectionHandler, RendezvousClient::Host {
  SessionOptions opt;
  SessionObserver& observer;
  asio::io_context io;
  HashPool& hashers = HashPool::shared();  // the process's one hashing pool
  std::optional<tcp::acceptor> acceptor;
  std::uint16_t listen_port = 0;
  std::string peer_id;
  RateLimiter up_limit, down_limit;
  Reputation reputation;
  PieceBufferPool buffers;
  PieceBufferBudget buffer_budget;  // sizes `buffers` every tick
  // Private swarms: TLS 1.3 with each torrent's PSK; the server side finds a torrent by PSK identity.
  // Made on first use (tls_context(): a private dial, or the first incoming connection,
  // which may be TLS): ~2 ms of OpenSSL set-up that a process that only dials public
  // swarms never pays.
  std::unique_ptr<TlsContext> tls;
  TlsContext* tls_context();
  std::uint64_t next_conn_id = 1;
  // Every open connection of the process (incoming before its handshake, and
  // those attached to torrents), for the per-process and per-address budgets.
  std::map<std::uint64_t, std::shared_ptr<PeerConnection>> connections;
  std::map<std::string, std::size_t> connections_per_ip;
  std::vector<std::unique_ptr<Torrent>> torrents;   // in the order added
  std::vector<std::unique_ptr<Torrent>> retired;    // removed, destroyed at the next tick
  std::size_t background_jobs = 0;
  RendezvousClient rendezvous{*this};
  SessionCounters counters;
  SessionTorrentHost torrent_host{*this};  // what its torrents may ask of it
  // Per verified piece, smoothed: time to hash it, time to write it (pool threads measure, the io thread keeps).
  double avg_hash_seconds = 0, avg_write_seconds = 0;
  void note_piece_timing(double hash_seconds, double write_seconds) {
    avg_hash_seconds = avg_hash_seconds == 0 ? hash_seconds : 0.9 * avg_hash_seconds + 0.1 * hash_seconds;
    avg_write_seconds = avg_write_seconds == 0 ? write_seconds : 0.9 * avg_write_seconds + 0.1 * write_seconds;
    counters.write_seconds.observe(write_seconds);
  }
  // Incoming peers banned this run, by IP: an address that keeps presenting new
  // peer ids after bans is refused inbound (dialled peers on it are unaffected).
  std::map<std::string, int> inbound_bans_by_ip;
  static constexpr int kInboundBansBeforeRefusal = 3;
  void note_inbound_ban(const std::string& ip) { ++inbound_bans_by_ip[ip]; }
  bool inbound_refused(const std::string& ip) const {
    auto it = inbound_bans_by_ip.find(ip);
    return it != inbound_bans_by_ip.end() && it->second >= kInboundBansBeforeRefusal;
  }
  // Port mapping (session_port_mapping.cpp): the mapper's thread posts each round's status here.
  PortMappingStatus mapping;
  std::vector<Subnet> own_subnets;  // our interfaces' subnets, read when a mapping is granted
  std::unique_ptr<PortMapper> mapper;
  void start_port_mapping();
  void on_mapping(const PortMappingStatus& status);
  // The port trackers are told: the gateway's external port while mapped, else ours.
  std::uint16_t announced_port() const { return mapping.mapped() ? mapping.external_port : listen_port; }
  bool came_through_mapping(const std::string& ip) const { return mapping.mapped() && !in_subnets(ip, own_subnets); }
  // LAN announces (lan_discovery.hpp): on while a listener runs, unless switched off.
  std::unique_ptr<LanDiscovery> lan;
  void start_lan();
  bool stopping = false, interrupted = false, running = false;
  std::function<void()> on_hangup;  // Session::on_hangup
  std::exception_ptr fatal;

  Impl(SessionOptions o, SessionObserver& obs);
  ~Impl() override;

  Torrent* find(const Digest& info_hash) const;
  // The torrent known outside its handshakes by this id (Torrent::public_id()).
  Torrent* find_public(const Digest& public_id) const;

  // ---- connections -------------------------------------------------------------
  std::shared_ptr<PeerConnection> open_connection(PeerStream stream, ConnectionHandler& handler,
                                                  std::optional<wire::Handshake> ours);
  // The private torrent (accepting peers) whose PSK identity this is.
  std::optional<PskMaterial> find_psk(const Digest& identity) const;
  // A connection refused before it could name itself (TLS) or for naming a private swarm
  // in plaintext: reported, and scored as a protocol violation under `key`.
  void note_refusal(const std::string& key, const std::string& text);
  void forget_connection(PeerConnection& c);  // its handler calls this from on_closed
  std::size_t dial_budget() const;
  // Where outgoing connections leave from: the listen endpoint (outgoing_socket.hpp), if listening.
  std::optional<tcp::endpoint> outgoing_endpoint() const;
  // Connections the process may hold: the per-process limit, lowered to what the
  // open-file limit leaves after a reserve for files, the database and dials.
  std::size_t connection_cap() const;
  // Incoming connections stop kDialReserve short of the cap: outgoing dials keep room.
  static constexpr std::size_t kDialReserve = 16;
  static constexpr std::size_t kReservedFds = 64;
  // At the cap: closes the connection that has gone longest without moving payload
  // (policy/idle_eviction.hpp), handshaken or not, in or out; false if all are protected.
  bool displace_idlest();
  std::size_t fd_limit = 1024;
  std::size_t app_fds = 0;  // Session::reserve_descriptors
  int spare_fd = -1;  // held so that, out of descriptors, we can still accept and drop
  bool address_has_room(const std::string& ip) const;

  // ---- life cycle -----------------------------------------------------------------
  void listen();
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> ticker();
  void tick();
  void shutdown();
  void fail(std::exception_ptr e);
  bool finished() const;  // every torrent done and nothing keeps the session up

  // ---- ConnectionHandler: incoming connections before their handshake ------------
  HandshakeAnswer on_handshake(PeerConnection& c, const wire::Handshake& theirs) override;
  void on_message(PeerConnection&, const wire::Message&, std::span<const std::uint8_t>) override {}
  std::span<std::uint8_t> block_destination(PeerConnection&, const wire::Piece&, std::uint32_t) override { return {}; }
  void on_block(PeerConnection&, const BlockRef&, bool) override {}
  BlockSource block_source(PeerConnection&, const wire::Request&) override { return {}; }
  void on_closed(PeerConnection& c, CloseReason reason, const std::string& detail) override;

  // ---- RendezvousClient::Host ----------------------------------------------------------
  asio::io_context& rendezvous_io() override { return io; }
  bool rendezvous_stopping() const override { return stopping; }
  bool rendezvous_unneeded() const override { return mapping.mapped(); }
  std::uint16_t rendezvous_port() const override { return announced_port(); }
  void rendezvous_report(const std::string& line) override { observer.on_event("", EventKind::notice, line); }
  void rendezvous_note(const std::string& tracker, const tracker_client::RendezvousNote& note) override;
};

}  // namespace p2p

// What a torrent may ask of the process it runs in, and nothing more: the shared
// budgets and pools (piece buffers, hashing, reputation, counters), the clock, who we
// are and how we are reached, the dialling and admission budgets, the trackers'
// rendezvous service, and "I am finished". The session implements it
// (session_impl.hpp); unit tests build a torrent against a fake
// (tests/unit/swarm/torrent_host_test.cpp). Every call happens on the io thread.
// Included only by swarm sources: it pulls in Asio (through peer_connection.hpp).
#pragma once
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "format/wire.hpp"
#include "swarm/peer_connection.hpp"

namespace p2p {

class HashPool;
class PieceBufferPool;
class Reputation;
class SessionObserver;
class TlsContext;
struct SessionCounters;
namespace tracker_client {
struct AnnounceResponse;
}

class TorrentHost {
 public:
  using Clock = std::chrono::steady_clock;
  using WallClock = std::chrono::system_clock;

  virtual ~TorrentHost() = default;

  // ---- the process's shared resources ---------------------------------------------------
  virtual asio::io_context& io() = 0;
  virtual HashPool& hashers() = 0;          // the process's hashing threads
  virtual PieceBufferPool& buffers() = 0;   // the piece-buffer memory budget, shared by torrents
  virtual Reputation& reputation() = 0;     // scores and bans, across torrents and runs
  virtual SessionCounters& counters() = 0;  // the process's totals (session snapshot)
  virtual SessionObserver& observer() = 0;  // events, progress, files completed
  // A verified piece's timing (hash, write), measured on a pool thread: the session smooths it.
  virtual void note_piece_timing(double hash_seconds, double write_seconds) = 0;

  // ---- the clock ----------------------------------------------------------------------------
  virtual Clock::time_point now() const = 0;
  virtual WallClock::time_point wall_now() const = 0;  // reputation records and bans (survive restarts)

  // ---- who we are and how we are reached ------------------------------------------------------
  virtual const std::string& peer_id() const = 0;
  virtual std::uint16_t listen_port() const = 0;     // 0: not listening
  virtual std::uint16_t announced_port() const = 0;  // what trackers are told (a mapped port, else ours)
  virtual bool came_through_mapping(const std::string& ip) const = 0;
  virtual bool lan_discovery() const = 0;            // LAN announces may still bring peers

  // ---- dialling and admission ---------------------------------------------------------------
  virtual std::size_t dial_budget() const = 0;       // dials the process may start now
  virtual bool address_has_room(const std::string& ip) const = 0;
  virtual std::optional<asio::ip::tcp::endpoint> outgoing_endpoint() const = 0;
  virtual TlsContext* tls() = 0;                     // private swarms' TLS (made on first use)
  // Registers a new connection with the process's budgets; `handler` hears it.
  virtual std::shared_ptr<PeerConnection> open_connection(PeerStream stream, ConnectionHandler& handler,
                                                          std::optional<wire::Handshake> ours) = 0;
  // Who hears an incoming connection before its handshake names a torrent (a relayed one).
  virtual ConnectionHandler& incoming_handler() = 0;
  virtual void forget_connection(PeerConnection& c) = 0;  // from the torrent's on_closed
  virtual bool inbound_refused(const std::string& ip) const = 0;
  virtual void note_inbound_ban(const std::string& ip) = 0;

  // ---- the trackers' rendezvous service (rendezvous_client.hpp) ---------------------------------
  virtual void tracker_answered(const std::string& tracker, const tracker_client::AnnounceResponse& answer) = 0;
  virtual std::uint16_t relay_port(const std::string& tracker) const = 0;  // 0: that tracker relays nothing

  // ---- life cycle -----------------------------------------------------------------------------
  virtual bool stopping() const = 0;  // the process is shutting down
  // The torrent became finished (Torrent::finished()): the process may end if all are.
  virtual void torrent_finished() = 0;
};

}  // namespace p2p

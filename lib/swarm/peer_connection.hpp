// One TCP connection to a peer: framing, handshake, a reader and a writer
// coroutine. Policy (what to request, whom to serve) belongs to the Handler.
// Included only by network-edge sources (it pulls in Asio).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bitfield.hpp"
#include "swarm/policy/piece_picker.hpp"
#include "swarm/policy/rate_limiter.hpp"
#include "format/wire.hpp"

namespace p2p {

class PeerConnection;

// Implemented by the swarm; every call happens on the connection's io thread.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // Their handshake arrived; return an error code string to refuse (sent to them), or empty.
  virtual std::string on_handshake(PeerConnection& c, const wire::Handshake& theirs) = 0;
  // A header-only or small-payload message (bitfield payload included).
  virtual void on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t> payload) = 0;
  // Where to store an incoming block; an empty span discards it.
  virtual std::span<std::uint8_t> block_destination(PeerConnection& c, const wire::Piece& p, std::uint32_t len) = 0;
  virtual void on_block(PeerConnection& c, const BlockRef& block, bool stored) = 0;
  // Where the requested block's bytes are (sent with sendfile); fd -1 to skip it.
  struct BlockSource {
    int fd = -1;
    std::uint64_t offset = 0;
  };
  virtual BlockSource block_source(PeerConnection& c, const wire::Request& r) = 0;
  virtual void on_closed(PeerConnection& c, const std::string& why) = 0;
};

class PeerConnection : public std::enable_shared_from_this<PeerConnection> {
 public:
  using Clock = std::chrono::steady_clock;

  PeerConnection(asio::ip::tcp::socket socket, ConnectionHandler& handler, std::uint64_t id, bool outgoing,
                 wire::Handshake ours);

  void start();
  void send(const wire::Message& m);                      // header-only message
  void send_with_payload(const wire::Message& m, std::vector<std::uint8_t> payload);
  bool queue_upload(const wire::Request& r);              // false if over the per-peer limit
  void cancel_upload(const wire::Request& r);
  void clear_uploads() { uploads_.clear(); }
  void close(const std::string& why);
  // Shared limiters (owned by the swarm); nullptr = unlimited.
  void set_rate_limiters(RateLimiter* up, RateLimiter* down) {
    up_limit_ = up;
    down_limit_ = down;
  }
  // Bytes/s received since the previous call (the choker samples it every rechoke).
  double sample_download_rate();

  std::uint64_t id() const { return id_; }
  bool outgoing() const { return outgoing_; }
  bool open() const { return open_; }
  bool handshaken() const { return handshaken_; }
  const std::string& label() const { return label_; }  // "127.0.0.1:5000"
  const std::string& remote_ip() const { return remote_ip_; }
  // Who the peer is across connections (reputation, bans, choking): the address it
  // listens on if known (what we dialled, or ip + its handshake's listen_port), else its IP.
  std::string peer_key() const;

  // Protocol state kept by the swarm.
  Bitfield peer_has;
  bool am_choking = true, peer_choking = true;
  bool am_interested = false, peer_interested = false;
  std::vector<BlockRef> outstanding;  // our requests to them, oldest first
  std::optional<BlockRef> receiving;  // the block whose payload is being read into a piece buffer
  wire::Handshake theirs;
  Clock::time_point created = Clock::now();
  Clock::time_point last_received = Clock::now();
  Clock::time_point last_block = Clock::now();
  Clock::time_point last_sent = Clock::now();
  std::uint64_t bytes_downloaded = 0, bytes_uploaded = 0;

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<bool> read_exact(std::span<std::uint8_t> out);
  asio::awaitable<std::string> send_block(const wire::Request& r);
  asio::awaitable<void> throttle(RateLimiter* limiter, std::uint64_t bytes);
  void wake_writer();

  struct OutFrame {
    std::string header;
    std::vector<std::uint8_t> payload;
  };

  asio::ip::tcp::socket socket_;
  ConnectionHandler& handler_;
  std::uint64_t id_;
  bool outgoing_;
  wire::Handshake ours_;
  std::string label_, remote_ip_;
  bool open_ = true, handshaken_ = false, closed_notified_ = false;
  std::string close_reason_;
  asio::steady_timer wake_;
  RateLimiter* up_limit_ = nullptr;
  RateLimiter* down_limit_ = nullptr;
  Clock::time_point rate_mark_time_ = Clock::now();
  std::uint64_t rate_mark_bytes_ = 0;
  std::deque<OutFrame> control_;
  std::deque<wire::Request> uploads_;
  // Read buffer: bytes [rpos_, rend_) are received but not yet parsed.
  std::vector<std::uint8_t> rbuf_;
  std::size_t rpos_ = 0, rend_ = 0;
};

}  // namespace p2p

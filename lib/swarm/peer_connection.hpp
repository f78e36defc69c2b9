// One connection to a peer (plaintext or TLS: a PeerStream): framing, the handshake
// exchange, a reader and a writer coroutine, byte counters. Transport only: what the peer has, choking,
// interest and requests live in its Peer record, owned by its torrent.
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

#include "format/wire.hpp"
#include "swarm/close_reason.hpp"
#include "swarm/peer_stream.hpp"
#include "swarm/policy/piece_picker.hpp"
#include "base/rate_limiter.hpp"

namespace p2p {

class PeerConnection;

// What to answer a handshake: refuse with a code, or accept and (for an
// incoming connection) send our handshake back.
struct HandshakeAnswer {
  std::optional<wire::ErrorCode> refusal;
  wire::Handshake ours;  // sent back on incoming connections when accepted
};

// Implemented by the session (an incoming connection before its handshake) and
// by torrents (after it); every call happens on the io thread.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual HandshakeAnswer on_handshake(PeerConnection& c, const wire::Handshake& theirs) = 0;
  // A header-only or small-payload message (bitfield payload included).
  virtual void on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t> payload) = 0;
  // Where to store an incoming block; an empty span discards it.
  virtual std::span<std::uint8_t> block_destination(PeerConnection& c, const wire::Piece& p, std::uint32_t len) = 0;
  virtual void on_block(PeerConnection& c, const BlockRef& block, bool stored) = 0;
  // Where the requested block's bytes are (sent with sendfile, or pread + TLS); fd -1 to skip it.
  struct BlockSource {
    int fd = -1;
    std::uint64_t offset = 0;
    std::shared_ptr<const void> keep;  // keeps fd open while the block is sent (a tree's file LRU)
  };
  virtual BlockSource block_source(PeerConnection& c, const wire::Request& r) = 0;
  virtual void on_closed(PeerConnection& c, CloseReason reason, const std::string& detail) = 0;
};

class PeerConnection : public std::enable_shared_from_this<PeerConnection> {
 public:
  using Clock = std::chrono::steady_clock;

  // Outgoing: `ours` is sent at once. Incoming: nullopt; the handler's answer to
  // their handshake says what to send (the accepting side learns the info hash first).
  // The stream's TLS handshake (if any) runs first; a refusal closes with CloseReason::tls_refused.
  PeerConnection(PeerStream stream, ConnectionHandler& handler, std::uint64_t id,
                 std::optional<wire::Handshake> ours);

  void start();
  void set_handler(ConnectionHandler& handler) { handler_ = &handler; }
  void send(const wire::Message& m);                      // header-only message
  // `have` for `piece`: at once (hold zero), or held up to `hold` for company: it goes out
  // with the next frame sent, or when the hold is up, so a burst of them costs one write.
  // Those pending when the writer runs leave together: one `haves` frame (up to
  // kMaxHavesPerFrame pieces) to a peer whose handshake said it reads them, else one
  // `have` frame each. N = 32 received 380k `have` frames in 119k writes: a JSON header
  // to parse and a request round each. kCoalesceDelay, the usual hold, is 100 ms, not 20:
  // N = 32 on 2 cores (bench/netns_swarm_bench.sh, every link capped, CPU-bound) sent
  // 165k -> 119k messages and used 19.2 -> 17.4 CPU-s (medians of 3), all done 11.2 ->
  // 10.4 s; N = 8, where a `have`'s delay matters more than its CPU, was unchanged.
  static constexpr auto kCoalesceDelay = std::chrono::milliseconds(100);
  void send_have(std::uint32_t piece, Clock::duration hold);
  void send_with_payload(const wire::Message& m, std::vector<std::uint8_t> payload);
  bool queue_upload(const wire::Request& r);              // false if over the per-peer limit
  void cancel_upload(const wire::Request& r);
  void clear_uploads() { uploads_.clear(); }
  void close(CloseReason reason, const std::string& detail = {});
  // Shared limiters (owned by the session); nullptr = unlimited.
  void set_rate_limiters(RateLimiter* up, RateLimiter* down) {
    up_limit_ = up;
    down_limit_ = down;
  }
  // Bytes/s of payload received since the previous call (the choker samples it every rechoke).
  double sample_download_rate();
  // What the kernel may hold unsent (TCP_NOTSENT_LOWAT), from what the connection sent since
  // the last call (policy/unsent_limit.hpp). The session calls it every tick.
  void tune_unsent_limit(Clock::time_point now);

  std::uint64_t id() const { return id_; }
  bool outgoing() const { return outgoing_; }
  bool open() const { return open_; }
  bool handshaken() const { return handshaken_; }
  bool encrypted() const { return stream_.encrypted(); }
  // TLS only: the info hash whose swarm key the peer proved in the handshake.
  std::optional<Digest> proven_swarm() const { return stream_.proven_swarm(); }
  const wire::Handshake& theirs() const { return theirs_; }
  const std::string& label() const { return label_; }  // "127.0.0.1:5000"
  const std::string& remote_ip() const { return remote_ip_; }  // the socket's peer (a relay, for a relayed one)
  // A connection through a tracker's relay: `peer_ip` is the member at the other end.
  void set_relayed(std::string peer_ip) {
    relayed_ = true;
    peer_ip_ = std::move(peer_ip);
    label_ = peer_ip_ + " via relay " + remote_ip_;
  }
  bool relayed() const { return relayed_; }
  // Who the peer is: its own address, also when relayed (keys, reputation, gossip).
  const std::string& peer_ip() const { return relayed_ ? peer_ip_ : remote_ip_; }
  Clock::time_point created() const { return created_; }
  Clock::time_point last_received() const { return last_received_; }
  Clock::time_point last_block() const { return last_block_; }
  Clock::time_point last_sent() const { return last_sent_; }
  // The last block we stored from it or sent to it; created() if none (IdleEviction).
  Clock::time_point last_payload() const { return last_payload_; }
  bool moved_payload() const { return last_payload_ != created_; }
  void restart_block_clock() { last_block_ = Clock::now(); }  // a first request went out: the stall clock starts
  std::uint64_t payload_received() const { return payload_received_; }
  std::uint64_t payload_sent() const { return payload_sent_; }
  // Dialled connections: seconds from sending our handshake to their answer (one round
  // trip); 0 for accepted ones.
  double handshake_round_trip() const { return handshake_rtt_; }

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<bool> read_exact(std::span<std::uint8_t> out);
  asio::awaitable<std::string> send_block(const wire::Request& r);
  asio::awaitable<void> throttle(RateLimiter* limiter, std::uint64_t bytes);
  asio::awaitable<bool> wait_for_upload_tokens(std::uint64_t bytes);  // false: the connection failed
  asio::awaitable<bool> write_control_frames();  // up to kMaxBatch of control_; false: the write failed
  asio::awaitable<void> refuse(wire::ErrorCode code);
  void wake_writer();

  struct OutFrame {
    std::string header;
    std::vector<std::uint8_t> payload;
  };

  PeerStream stream_;
  ConnectionHandler* handler_;
  std::uint64_t id_;
  bool outgoing_;
  std::optional<wire::Handshake> ours_;
  wire::Handshake theirs_;
  std::string label_, remote_ip_, peer_ip_;
  bool relayed_ = false;
  bool open_ = true, handshaken_ = false, closed_notified_ = false;
  CloseReason close_reason_ = CloseReason::shutting_down;
  std::string close_detail_;
  asio::steady_timer wake_;
  RateLimiter* up_limit_ = nullptr;
  RateLimiter* down_limit_ = nullptr;
  Clock::time_point created_ = Clock::now(), last_received_ = Clock::now(), last_block_ = Clock::now(),
                    last_sent_ = Clock::now(), last_payload_ = created_;
  std::uint64_t payload_received_ = 0, payload_sent_ = 0;
  Clock::time_point handshake_sent_{};
  double handshake_rtt_ = 0;
  void set_unsent_limit(int bytes);
  int unsent_limit_ = 0;
  Clock::time_point unsent_mark_time_ = Clock::now();
  std::uint64_t unsent_mark_bytes_ = 0;
  Clock::time_point rate_mark_time_ = Clock::now();
  std::uint64_t rate_mark_bytes_ = 0;
  std::deque<OutFrame> control_;
  std::vector<asio::const_buffer> control_bufs_;  // write_control_frames()'s gather list, reused
  std::vector<std::uint32_t> haves_;   // send_have()'s pieces, not yet framed
  void frame_haves();                  // haves_ -> frames at the back of control_
  std::string take_control_frames();   // the leading frames without payload, as one string
  bool urgent_ = false;                // control_ holds a frame that must not wait
  Clock::time_point soon_due_{};       // when held `have`s must leave, {} if none
  void hold_until(Clock::time_point due);
  std::deque<wire::Request> uploads_;
  // Read buffer: bytes [rpos_, rend_) are received but not yet parsed.
  std::vector<std::uint8_t> rbuf_;
  std::size_t rpos_ = 0, rend_ = 0;
};

}  // namespace p2p

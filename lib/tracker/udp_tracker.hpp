// The UDP tracker (BEP 15) beside the HTTP one, on the same port number and the
// same io_context thread: connect, announce, scrape, error over the same
// SwarmStore and BtPolicy as the BitTorrent HTTP dialect. Connection ids are an
// HMAC of the address and the minute (no per-client state); answers to an address
// that has not proven it receives (by echoing a connection id) are never larger
// than twice its request, so the tracker cannot amplify a spoofed flood.
// Datagrams are read and answered in batches (recvmmsg/sendmmsg on Linux); with a
// store that answers at once (the embedded one) a datagram costs no coroutine frame.
#pragma once
#include <array>
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "base/task.hpp"
#include "tracker/bt_swarm.hpp"
#include "tracker/metrics.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

// connection id = first 8 bytes of HMAC-SHA256(period key, address), where the period
// key = HMAC-SHA256(secret, period number). Valid in the period it was issued and the
// next: 60 to 120 s (BEP 15 lets clients use one for 60 s). The two live period keys
// are kept as keyed OpenSSL contexts, so a check costs one HMAC and no allocation.
class UdpConnectionIds {
 public:
  static constexpr std::int64_t kPeriodSeconds = 60;
  explicit UdpConnectionIds(const std::array<std::uint8_t, 32>& secret);
  ~UdpConnectionIds();
  UdpConnectionIds(UdpConnectionIds&& other) noexcept;
  UdpConnectionIds& operator=(UdpConnectionIds&&) = delete;
  UdpConnectionIds(const UdpConnectionIds&) = delete;
  static UdpConnectionIds random();  // a fresh secret (OpenSSL RAND_bytes)

  std::uint64_t issue(std::span<const std::uint8_t> address, std::int64_t unix_seconds);
  bool valid(std::uint64_t id, std::span<const std::uint8_t> address, std::int64_t unix_seconds);

 private:
  struct PeriodKey;  // an EVP_MAC_CTX keyed with one period's key
  std::uint64_t mac(std::span<const std::uint8_t> address, std::int64_t period);
  PeriodKey& key_of(std::int64_t period);
  std::array<std::uint8_t, 32> secret_;
  std::array<PeriodKey*, 2> keys_{};  // slot period % 2
};

// Requests per address per window; beyond it datagrams are dropped unanswered.
// The table is bounded: when full, unknown addresses wait for the next window.
class UdpRateLimit {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kWindow = std::chrono::seconds(10);
  // Connects and datagrams without a valid connection id: what a spoofed flood is made
  // of. A client connects once a minute or so; 100 per 10 s is a site of many behind a NAT.
  static constexpr std::uint32_t kMaxUnverified = 100;
  // Announces and scrapes from an address that proved it receives: a large NAT's worth
  // of clients with many torrents each, far below what one core answers.
  static constexpr std::uint32_t kMaxVerified = 20'000;
  static constexpr std::size_t kMaxAddresses = 200'000;
  explicit UdpRateLimit(std::uint32_t max_per_window) : max_(max_per_window) {}
  bool allow(std::span<const std::uint8_t> address, Clock::time_point now);

 private:
  std::uint32_t max_;
  Clock::time_point window_start_{};
  std::unordered_map<std::string, std::uint32_t> counts_;
};

class UdpTracker {
 public:
  // `count` records one request in /metrics (endpoint, status).
  UdpTracker(asio::io_context& io, SwarmStore& swarms, const BtPolicy& policy, int interval_seconds,
             std::function<void(Endpoint, int)> count);
  ~UdpTracker();
  // Binds host:port (Error(bind_failed) naming it) and starts the receive loop.
  void start(const std::string& host, std::uint16_t port);
  void stop();
  std::uint16_t port() const;

 private:
  struct Batch;  // datagrams in and answers out, one system call each way
  asio::awaitable<void> receive_loop();
  void handle(std::span<const std::uint8_t> datagram, const asio::ip::udp::endpoint& from);
  void answer_announce(std::uint32_t transaction_id, const AnnounceReply& reply, bool v4_sender, std::string& out);
  Task<void> announce_later(std::uint32_t transaction_id, AnnounceInput in, std::string ip, asio::ip::udp::endpoint to);
  Task<void> scrape(std::uint32_t transaction_id, std::vector<BtHash> hashes, asio::ip::udp::endpoint to);
  // Where an answer made now goes: a slot of the batch that flush() sends.
  std::string& answer_to(const asio::ip::udp::endpoint& to);
  void flush();
  // An answer made later (after a store round trip): sent on its own.
  void send(std::string datagram, const asio::ip::udp::endpoint& to);

  asio::io_context& io_;
  asio::ip::udp::socket socket_;
  SwarmStore& swarms_;
  const BtPolicy& policy_;
  int interval_;
  std::function<void(Endpoint, int)> count_;
  UdpConnectionIds ids_;
  UdpRateLimit unverified_{UdpRateLimit::kMaxUnverified}, verified_{UdpRateLimit::kMaxVerified};
  std::unique_ptr<Batch> batch_;
  std::string v4_, v6_;  // compact peers of the answer being made
};

}  // namespace p2p::tracker

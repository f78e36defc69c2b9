// BEP 15 edge: one receive loop; connect and refusals answered at once, announce
// and scrape after the store (at once for the embedded store, a round trip for Redis).
#include "tracker/udp_tracker.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "base/error.hpp"
#include "format/bt_udp_frames.hpp"
#include "net/use_tuple.hpp"
#include "tracker/bt_announce.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

namespace {

// An answer to an address that has not echoed a connection id is at most this
// many times its request: no amplification of spoofed traffic.
constexpr std::size_t kMaxUnconnectedFactor = 2;
// Announce answers must fit one unfragmented datagram (1,500-byte MTU minus headers).
constexpr std::size_t kMaxAnswerBytes = 1400;

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The sender's address as bytes: 4 for IPv4 (also when mapped into IPv6), else 16.
std::vector<std::uint8_t> address_bytes(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    auto b = a.to_v6().to_bytes();
    return {b.begin() + 12, b.end()};
  }
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  auto b = a.to_v6().to_bytes();
  return {b.begin(), b.end()};
}

}  // namespace

// --- connection ids ---

UdpConnectionIds UdpConnectionIds::random() {
  std::array<std::uint8_t, 32> secret{};
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1)
    throw Error(ExitCode::internal, "udp tracker: RAND_bytes failed for the connection-id secret");
  return UdpConnectionIds(secret);
}

std::uint64_t UdpConnectionIds::mac(std::span<const std::uint8_t> address, std::int64_t period) const {
  std::uint8_t message[8 + 16];
  for (int i = 0; i < 8; ++i) message[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(period) >> (56 - 8 * i));
  std::size_t n = std::min<std::size_t>(address.size(), 16);
  std::memcpy(message + 8, address.data(), n);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), message, 8 + n, md, &md_len) || md_len < 8)
    throw Error(ExitCode::internal, "udp tracker: HMAC-SHA256 failed");
  std::uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | md[i];
  return id;
}

std::uint64_t UdpConnectionIds::issue(std::span<const std::uint8_t> address, std::int64_t unix_seconds) const {
  return mac(address, unix_seconds / kPeriodSeconds);
}

bool UdpConnectionIds::valid(std::uint64_t id, std::span<const std::uint8_t> address, std::int64_t unix_seconds) const {
  std::int64_t period = unix_seconds / kPeriodSeconds;
  return id == mac(address, period) || id == mac(address, period - 1);
}

// --- rate limit ---

bool UdpRateLimit::allow(std::span<const std::uint8_t> address, Clock::time_point now) {
  if (now - window_start_ >= kWindow) {
    counts_.clear();
    window_start_ = now;
  }
  std::string key(reinterpret_cast<const char*>(address.data()), address.size());
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= kMaxAddresses) return false;
    it = counts_.emplace(std::move(key), 0).first;
  }
  return ++it->second <= max_;
}

// --- the edge ---

UdpTracker::UdpTracker(asio::io_context& io, SwarmStore& swarms, const BtPolicy& policy, int interval_seconds,
                       std::function<void(Endpoint, int)> count)
    : io_(io), socket_(io), swarms_(swarms), policy_(policy), interval_(interval_seconds), count_(std::move(count)),
      ids_(UdpConnectionIds::random()) {}

void UdpTracker::start(const std::string& host, std::uint16_t port) {
  try {
    asio::ip::udp::endpoint ep(asio::ip::make_address(host), port);
    socket_.open(ep.protocol());
    socket_.bind(ep);
  } catch (const std::system_error& e) {
    throw Error(ExitCode::bind_failed, fmt::format("cannot listen on udp {}:{}: {}", host, port, e.code().message()));
  }
  asio::co_spawn(io_, receive_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "p2p-tracker: udp receive loop stopped: %s\n", ex.what());
    }
  });
}

void UdpTracker::stop() {
  std::error_code ignored;
  socket_.close(ignored);
}

std::uint16_t UdpTracker::port() const { return socket_.local_endpoint().port(); }

asio::awaitable<void> UdpTracker::receive_loop() {
  std::array<std::uint8_t, bt_udp::kMaxRequest + 1> buffer{};  // one byte more tells an oversized datagram
  asio::ip::udp::endpoint from;
  for (;;) {
    auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buffer), from, kUseTuple);
    if (ec == asio::error::operation_aborted || !socket_.is_open()) co_return;
    if (ec) continue;  // e.g. an ICMP port unreachable reported for an earlier answer
    handle(std::span<const std::uint8_t>(buffer.data(), n), from);
  }
}

void UdpTracker::send(std::string datagram, const asio::ip::udp::endpoint& to) {
  auto held = std::make_shared<std::string>(std::move(datagram));
  socket_.async_send_to(asio::buffer(*held), to, [held](std::error_code, std::size_t) {});
}

void UdpTracker::handle(std::span<const std::uint8_t> datagram, const asio::ip::udp::endpoint& from) {
  std::vector<std::uint8_t> address = address_bytes(from.address());
  std::int64_t now_s = unix_seconds();
  bt_udp::Request req;
  std::string error = bt_udp::parse_request(datagram, req);
  // Beyond its address's limit a datagram is dropped: no answer at all.
  bool verified = error.empty() && req.action != bt_udp::Action::connect && ids_.valid(req.connection_id, address, now_s);
  if (!(verified ? verified_ : unverified_).allow(address, std::chrono::steady_clock::now())) return;
  auto endpoint_of = [](bt_udp::Action a) {
    return a == bt_udp::Action::connect ? Endpoint::udp_connect
           : a == bt_udp::Action::scrape ? Endpoint::udp_scrape : Endpoint::udp_announce;
  };
  // To an unconnected address: an error no larger than kMaxUnconnectedFactor x the request, or none.
  auto refuse_unconnected = [&](std::string_view message) {
    count_(endpoint_of(req.action), 400);
    if (datagram.size() < 16) return;  // no transaction id to answer to
    std::size_t room = datagram.size() * kMaxUnconnectedFactor - 8;
    send(bt_udp::error_reply(req.transaction_id, message.substr(0, room)), from);
  };
  if (!error.empty()) return refuse_unconnected(error);
  if (req.action == bt_udp::Action::connect) {
    count_(Endpoint::udp_connect, 200);
    return send(bt_udp::connect_reply(req.transaction_id, ids_.issue(address, now_s)), from);
  }
  if (!verified) return refuse_unconnected("udp: unknown or expired connection id");

  // From here the sender has proven it receives at its address: full answers.
  auto refuse = [&](Endpoint e, std::string message) {
    count_(e, 400);
    send(bt_udp::error_reply(req.transaction_id, message), from);
  };
  std::string ip = address.size() == 4 ? asio::ip::make_address_v4(std::array<std::uint8_t, 4>{address[0], address[1], address[2], address[3]}).to_string()
                                       : from.address().to_string();
  if (req.action == bt_udp::Action::scrape) {
    std::vector<BtHash> hashes;
    for (const auto& h : req.hashes) hashes.push_back(h);
    start_detached(scrape(req.transaction_id, std::move(hashes), from), [](std::exception_ptr) {});
    return;
  }
  BtHash hash = req.info_hash;
  if (!policy_.allows(hash))
    return refuse(Endpoint::udp_announce, fmt::format("announce: info_hash {} is not served by this tracker", to_hex(hash)));
  // ip is the sender's address; another one would point a swarm at a third party.
  const std::array<std::uint8_t, 4> claimed{static_cast<std::uint8_t>(req.ip >> 24), static_cast<std::uint8_t>(req.ip >> 16),
                                            static_cast<std::uint8_t>(req.ip >> 8), static_cast<std::uint8_t>(req.ip)};
  if (req.ip != 0 && !(address.size() == 4 && std::equal(claimed.begin(), claimed.end(), address.begin())))
    return refuse(Endpoint::udp_announce, "announce: the ip field differs from the sender's address");
  if (req.port == 0) return refuse(Endpoint::udp_announce, "announce: port must be in 1-65535, got 0");
  AnnounceInput in;
  in.info_hash = bt_swarm_key(hash);
  in.peer_id = req.peer_id;
  in.port = req.port;
  in.left = req.left;
  in.event = req.event == 1 ? Event::completed : req.event == 2 ? Event::started : req.event == 3 ? Event::stopped
                                                                                                  : Event::periodic;
  // Peers of the sender's family only; as many as fit one unfragmented datagram.
  std::size_t per_peer = address.size() + 2;
  int fit = static_cast<int>((kMaxAnswerBytes - 20) / per_peer);
  int want = req.num_want < 0 ? limits::kDefaultNumwant : req.num_want;
  in.numwant = std::min({want, limits::kMaxNumwant, fit});
  start_detached(announce(req.transaction_id, in, std::move(ip), from), [](std::exception_ptr) {});
}

Task<void> UdpTracker::announce(std::uint32_t transaction_id, AnnounceInput in, std::string ip,
                                asio::ip::udp::endpoint to) {
  in.ip = ip;  // the frame owns it for the store call
  try {
    AnnounceReply reply = co_await swarms_.announce(in, Clock::now());
    if (reply.result.status != AnnounceStatus::ok) {
      count_(Endpoint::udp_announce, 503);
      send(bt_udp::error_reply(transaction_id, "announce: the tracker or this swarm is full; try later"), to);
      co_return;
    }
    std::string v4, v6;
    compact_peers(reply.peers, v4, v6);
    bool v4_sender = ip.find(':') == std::string::npos;
    count_(Endpoint::udp_announce, 200);
    send(bt_udp::announce_reply(transaction_id, static_cast<std::uint32_t>(interval_),
                                static_cast<std::uint32_t>(reply.result.leechers),
                                static_cast<std::uint32_t>(reply.result.seeders), v4_sender ? v4 : v6),
         to);
  } catch (const std::exception& e) {  // StoreUnavailable among others
    count_(Endpoint::udp_announce, 503);
    send(bt_udp::error_reply(transaction_id, fmt::format("announce: {}", e.what()).substr(0, 200)), to);
  }
}

Task<void> UdpTracker::scrape(std::uint32_t transaction_id, std::vector<BtHash> hashes, asio::ip::udp::endpoint to) {
  std::vector<Digest> keys;
  for (const BtHash& h : hashes) keys.push_back(bt_swarm_key(h));
  try {
    std::vector<SwarmCounts> counts = co_await swarms_.counts(keys);
    std::vector<bt_udp::ScrapeEntry> entries(hashes.size());
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      if (!policy_.allows(hashes[i])) continue;  // zeros: a whitelisted tracker says nothing of other swarms
      const SwarmCounts& c = counts.at(i);
      entries[i] = {static_cast<std::uint32_t>(c.seeders), static_cast<std::uint32_t>(c.completed),
                    static_cast<std::uint32_t>(c.leechers)};
    }
    count_(Endpoint::udp_scrape, 200);
    send(bt_udp::scrape_reply(transaction_id, entries), to);
  } catch (const std::exception& e) {
    count_(Endpoint::udp_scrape, 503);
    send(bt_udp::error_reply(transaction_id, fmt::format("scrape: {}", e.what()).substr(0, 200)), to);
  }
}

}  // namespace p2p::tracker

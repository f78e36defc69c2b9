// BEP 15 edge: one receive loop reading batches; connect and refusals answered at
// once, announce and scrape after the store (in the same batch for the embedded
// store, after a round trip for Redis).
#include "tracker/udp_tracker.hpp"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#if defined(__linux__)
#include <sys/socket.h>
#endif

#include <algorithm>
#include <cstring>

#include "base/error.hpp"
#include "base/spawn_completion.hpp"
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
struct AddressBytes {
  std::array<std::uint8_t, 16> bytes{};
  std::size_t size = 0;
  std::span<const std::uint8_t> span() const { return {bytes.data(), size}; }
};
AddressBytes address_bytes(const asio::ip::address& a) {
  AddressBytes out;
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    out.size = 4;
    return out;
  }
  auto b = a.to_v6().to_bytes();
  if (a.to_v6().is_v4_mapped()) {
    std::copy(b.begin() + 12, b.end(), out.bytes.begin());
    out.size = 4;
  } else {
    out.bytes = b;
    out.size = 16;
  }
  return out;
}

// Answers queued in one batch before they are sent (sendmmsg), and datagrams read per call.
constexpr std::size_t kBatchSize = 32;
// Batches read per wake-up before the loop lets the HTTP side run.
constexpr int kBatchesPerTurn = 8;

}  // namespace

// --- connection ids ---

struct UdpConnectionIds::PeriodKey {
  std::int64_t period = -1;
  EVP_MAC_CTX* ctx = nullptr;  // keyed with this period's key; re-initialised per id
};

namespace {

EVP_MAC* hmac_algorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) throw Error(ExitCode::internal, "udp tracker: OpenSSL has no HMAC");
  return mac;
}

void hmac_init(EVP_MAC_CTX* ctx, const std::uint8_t* key, std::size_t key_size) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx, key, key_size, key ? params : nullptr) != 1)
    throw Error(ExitCode::internal, "udp tracker: HMAC-SHA256 set-up failed");
}

}  // namespace

UdpConnectionIds::UdpConnectionIds(const std::array<std::uint8_t, 32>& secret) : secret_(secret) {
  for (PeriodKey*& k : keys_) {
    k = new PeriodKey;
    k->ctx = EVP_MAC_CTX_new(hmac_algorithm());
    if (!k->ctx) throw Error(ExitCode::internal, "udp tracker: EVP_MAC_CTX_new failed");
  }
}

UdpConnectionIds::UdpConnectionIds(UdpConnectionIds&& other) noexcept
    : secret_(other.secret_), keys_(std::exchange(other.keys_, {})) {}

UdpConnectionIds::~UdpConnectionIds() {
  for (PeriodKey* k : keys_) {
    if (!k) continue;
    EVP_MAC_CTX_free(k->ctx);
    delete k;
  }
}

UdpConnectionIds UdpConnectionIds::random() {
  std::array<std::uint8_t, 32> secret{};
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1)
    throw Error(ExitCode::internal, "udp tracker: RAND_bytes failed for the connection-id secret");
  return UdpConnectionIds(secret);
}

UdpConnectionIds::PeriodKey& UdpConnectionIds::key_of(std::int64_t period) {
  PeriodKey& k = *keys_[static_cast<std::size_t>(period & 1)];
  if (k.period != period) {  // a new period: derive its key once
    std::uint8_t message[8];
    for (int i = 0; i < 8; ++i) message[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(period) >> (56 - 8 * i));
    unsigned char key[EVP_MAX_MD_SIZE];
    unsigned int key_len = 0;
    if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), message, sizeof message, key, &key_len))
      throw Error(ExitCode::internal, "udp tracker: HMAC-SHA256 failed");
    hmac_init(k.ctx, key, key_len);
    k.period = period;
  }
  return k;
}

std::uint64_t UdpConnectionIds::mac(std::span<const std::uint8_t> address, std::int64_t period) {
  PeriodKey& k = key_of(period);
  hmac_init(k.ctx, nullptr, 0);  // the same key again
  unsigned char md[EVP_MAX_MD_SIZE];
  std::size_t md_len = 0;
  if (EVP_MAC_update(k.ctx, address.data(), std::min<std::size_t>(address.size(), 16)) != 1 ||
      EVP_MAC_final(k.ctx, md, &md_len, sizeof md) != 1 || md_len < 8)
    throw Error(ExitCode::internal, "udp tracker: HMAC-SHA256 failed");
  std::uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | md[i];
  return id;
}

std::uint64_t UdpConnectionIds::issue(std::span<const std::uint8_t> address, std::int64_t unix_seconds) {
  return mac(address, unix_seconds / kPeriodSeconds);
}

bool UdpConnectionIds::valid(std::uint64_t id, std::span<const std::uint8_t> address, std::int64_t unix_seconds) {
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

// Datagrams in and answers out for one turn of the loop. On Linux one recvmmsg and
// one sendmmsg each way; elsewhere one datagram per call.
struct UdpTracker::Batch {
  std::array<std::array<std::uint8_t, bt_udp::kMaxRequest + 1>, kBatchSize> in{};  // one byte more tells an oversized datagram
  std::array<asio::ip::udp::endpoint, kBatchSize> from{};
  std::array<std::string, kBatchSize> out{};
  std::array<asio::ip::udp::endpoint, kBatchSize> to{};
  std::size_t queued = 0;
#if defined(__linux__)
  std::array<iovec, kBatchSize> in_iov{}, out_iov{};
  std::array<mmsghdr, kBatchSize> in_msg{}, out_msg{};
#endif
};

UdpTracker::UdpTracker(asio::io_context& io, SwarmStore& swarms, const BtPolicy& policy, int interval_seconds,
                       std::function<void(Endpoint, int)> count)
    : io_(io), socket_(io), swarms_(swarms), policy_(policy), interval_(interval_seconds), count_(std::move(count)),
      ids_(UdpConnectionIds::random()), batch_(std::make_unique<Batch>()) {}

UdpTracker::~UdpTracker() = default;

void UdpTracker::start(const std::string& host, std::uint16_t port) {
  try {
    asio::ip::udp::endpoint ep(asio::ip::make_address(host), port);
    socket_.open(ep.protocol());
    socket_.bind(ep);
    socket_.non_blocking(true);  // the loop reads until the kernel has nothing more
    // Room for a burst from many clients (the kernel caps it at net.core.rmem_max).
    std::error_code ignored;
    socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ignored);
  } catch (const std::system_error& e) {
    throw Error(ExitCode::bind_failed, fmt::format("cannot listen on udp {}:{}: {}", host, port, e.code().message()));
  }
  asio::co_spawn(io_, receive_loop(), log_and_go_on("p2p-tracker: udp receive loop stopped"));
}

void UdpTracker::stop() {
  std::error_code ignored;
  socket_.close(ignored);
}

std::uint16_t UdpTracker::port() const { return socket_.local_endpoint().port(); }

asio::awaitable<void> UdpTracker::receive_loop() {
  Batch& b = *batch_;
  int errors_in_a_row = 0;
  for (;;) {
    auto [ec] = co_await socket_.async_wait(asio::ip::udp::socket::wait_read, kUseTuple);
    if (ec == asio::error::operation_aborted || !socket_.is_open()) co_return;
    bool more = true;  // the kernel may hold more datagrams
    while (more) {
      for (int turn = 0; more && turn < kBatchesPerTurn; ++turn) {
        std::size_t n = 0;
#if defined(__linux__)
        for (std::size_t i = 0; i < kBatchSize; ++i) {
          b.in_iov[i] = {b.in[i].data(), b.in[i].size()};
          b.in_msg[i].msg_hdr = {};
          b.in_msg[i].msg_hdr.msg_name = b.from[i].data();
          b.in_msg[i].msg_hdr.msg_namelen = static_cast<socklen_t>(b.from[i].capacity());
          b.in_msg[i].msg_hdr.msg_iov = &b.in_iov[i];
          b.in_msg[i].msg_hdr.msg_iovlen = 1;
        }
        int got = ::recvmmsg(socket_.native_handle(), b.in_msg.data(), kBatchSize, MSG_DONTWAIT, nullptr);
        if (got > 0) n = static_cast<std::size_t>(got);
        // An error reported for an earlier answer (ICMP port unreachable) is consumed by
        // the call that reports it; datagrams may still wait behind it.
        bool reported = got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && ++errors_in_a_row < 16;
        for (std::size_t i = 0; i < n; ++i) {
          b.from[i].resize(b.in_msg[i].msg_hdr.msg_namelen);
          handle(std::span<const std::uint8_t>(b.in[i].data(), b.in_msg[i].msg_len), b.from[i]);
        }
        if (got >= 0) errors_in_a_row = 0;
#else
        std::error_code rec;
        std::size_t size = socket_.receive_from(asio::buffer(b.in[0]), b.from[0], 0, rec);
        if (!rec) {
          n = 1;
          handle(std::span<const std::uint8_t>(b.in[0].data(), size), b.from[0]);
        }
        bool reported = rec && rec != asio::error::would_block && ++errors_in_a_row < 16;
        if (!rec) errors_in_a_row = 0;
        if (n == 1) n = kBatchSize;  // one at a time: go on until the kernel has none
#endif
        flush();
        // Fewer than a full batch: nothing more queued now (the next datagram wakes the wait).
        more = n == kBatchSize || reported;
        if (!socket_.is_open()) co_return;
      }
      if (more) co_await asio::post(io_, asio::use_awaitable);  // let the HTTP side run, then go on
      if (!socket_.is_open()) co_return;
    }
  }
}

std::string& UdpTracker::answer_to(const asio::ip::udp::endpoint& to) {
  Batch& b = *batch_;
  if (b.queued == kBatchSize) flush();
  b.to[b.queued] = to;
  return b.out[b.queued++];
}

void UdpTracker::flush() {
  Batch& b = *batch_;
  std::size_t sent = 0;
#if defined(__linux__)
  for (std::size_t i = 0; i < b.queued; ++i) {
    b.out_iov[i] = {b.out[i].data(), b.out[i].size()};
    b.out_msg[i].msg_hdr = {};
    b.out_msg[i].msg_hdr.msg_name = b.to[i].data();
    b.out_msg[i].msg_hdr.msg_namelen = static_cast<socklen_t>(b.to[i].size());
    b.out_msg[i].msg_hdr.msg_iov = &b.out_iov[i];
    b.out_msg[i].msg_hdr.msg_iovlen = 1;
  }
  while (sent < b.queued) {
    int done = ::sendmmsg(socket_.native_handle(), b.out_msg.data() + sent, static_cast<unsigned>(b.queued - sent), MSG_DONTWAIT);
    if (done > 0) {
      sent += static_cast<std::size_t>(done);
      continue;
    }
    if (done < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENOBUFS) ++sent;  // skip the one that failed (e.g. unreachable)
    else break;  // the send buffer is full: the rest go asynchronously
  }
#endif
  for (std::size_t i = sent; i < b.queued; ++i) send(b.out[i], b.to[i]);
  b.queued = 0;
}

void UdpTracker::send(std::string datagram, const asio::ip::udp::endpoint& to) {
  if (!socket_.is_open()) return;
  auto held = std::make_shared<std::string>(std::move(datagram));
  socket_.async_send_to(asio::buffer(*held), to, [held](std::error_code, std::size_t) {});
}

void UdpTracker::handle(std::span<const std::uint8_t> datagram, const asio::ip::udp::endpoint& from) {
  AddressBytes address = address_bytes(from.address());
  std::int64_t now_s = unix_seconds();
  bt_udp::Request req;
  std::string error = bt_udp::parse_request(datagram, req);
  // Beyond its address's limit a datagram is dropped: no answer at all.
  bool verified = error.empty() && req.action != bt_udp::Action::connect && ids_.valid(req.connection_id, address.span(), now_s);
  if (!(verified ? verified_ : unverified_).allow(address.span(), std::chrono::steady_clock::now())) return;
  auto endpoint_of = [](bt_udp::Action a) {
    return a == bt_udp::Action::connect ? Endpoint::udp_connect
           : a == bt_udp::Action::scrape ? Endpoint::udp_scrape : Endpoint::udp_announce;
  };
  // To an unconnected address: an error no larger than kMaxUnconnectedFactor x the request, or none.
  auto refuse_unconnected = [&](std::string_view message) {
    count_(endpoint_of(req.action), 400);
    if (datagram.size() < 16) return;  // no transaction id to answer to
    std::size_t room = datagram.size() * kMaxUnconnectedFactor - 8;
    bt_udp::error_reply(answer_to(from), req.transaction_id, message.substr(0, room));
  };
  if (!error.empty()) return refuse_unconnected(error);
  if (req.action == bt_udp::Action::connect) {
    count_(Endpoint::udp_connect, 200);
    return bt_udp::connect_reply(answer_to(from), req.transaction_id, ids_.issue(address.span(), now_s));
  }
  if (!verified) return refuse_unconnected("udp: unknown or expired connection id");

  // From here the sender has proven it receives at its address: full answers.
  auto refuse = [&](Endpoint e, std::string_view message) {
    count_(e, 400);
    bt_udp::error_reply(answer_to(from), req.transaction_id, message);
  };
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
  bool v4_sender = address.size == 4;
  if (req.ip != 0 && !(v4_sender && std::equal(claimed.begin(), claimed.end(), address.bytes.begin())))
    return refuse(Endpoint::udp_announce, "announce: the ip field differs from the sender's address");
  if (req.port == 0) return refuse(Endpoint::udp_announce, "announce: port must be in 1-65535, got 0");
  // The sender's address in text, as the store keeps it (no allocation: fits the small-string buffer for IPv4).
  char text[64];
  std::size_t text_len = 0;
  if (v4_sender) {
    auto r = fmt::format_to_n(text, sizeof text, "{}.{}.{}.{}", address.bytes[0], address.bytes[1], address.bytes[2],
                              address.bytes[3]);
    text_len = r.size;
  } else {
    std::string t = from.address().to_string();
    text_len = std::min(t.size(), sizeof text);
    std::memcpy(text, t.data(), text_len);
  }
  AnnounceInput in;
  in.info_hash = bt_swarm_key(hash);
  in.peer_id = req.peer_id;
  in.ip = std::string_view(text, text_len);
  in.port = req.port;
  in.left = req.left;
  in.event = req.event == 1 ? Event::completed : req.event == 2 ? Event::started : req.event == 3 ? Event::stopped
                                                                                                  : Event::periodic;
  // Peers of the sender's family only; as many as fit one unfragmented datagram.
  std::size_t per_peer = address.size + 2;
  int fit = static_cast<int>((kMaxAnswerBytes - 20) / per_peer);
  int want = req.num_want < 0 ? limits::kDefaultNumwant : req.num_want;
  in.numwant = std::min({want, limits::kMaxNumwant, fit});
  if (!swarms_.answers_at_once()) {  // a round trip: the answer goes out on its own, later
    std::string ip(in.ip);
    start_detached(announce_later(req.transaction_id, in, std::move(ip), from), [](std::exception_ptr) {});
    return;
  }
  AnnounceReply reply;
  try {
    reply = run_now(swarms_.announce(in, Clock::now()));
  } catch (const std::exception& e) {
    count_(Endpoint::udp_announce, 503);
    return bt_udp::error_reply(answer_to(from), req.transaction_id, fmt::format("announce: {}", e.what()).substr(0, 200));
  }
  answer_announce(req.transaction_id, reply, v4_sender, answer_to(from));
}

void UdpTracker::answer_announce(std::uint32_t transaction_id, const AnnounceReply& reply, bool v4_sender,
                                 std::string& out) {
  if (reply.result.status != AnnounceStatus::ok) {
    count_(Endpoint::udp_announce, 503);
    return bt_udp::error_reply(out, transaction_id, "announce: the tracker or this swarm is full; try later");
  }
  v4_.clear();
  v6_.clear();
  compact_peers(reply.peers, v4_, v6_);
  count_(Endpoint::udp_announce, 200);
  bt_udp::announce_reply(out, transaction_id, static_cast<std::uint32_t>(interval_),
                         static_cast<std::uint32_t>(reply.result.leechers), static_cast<std::uint32_t>(reply.result.seeders),
                         v4_sender ? v4_ : v6_);
}

Task<void> UdpTracker::announce_later(std::uint32_t transaction_id, AnnounceInput in, std::string ip,
                                      asio::ip::udp::endpoint to) {
  in.ip = ip;  // the frame owns it for the store call
  bool v4_sender = ip.find(':') == std::string::npos;
  std::string out;
  try {
    AnnounceReply reply = co_await swarms_.announce(in, Clock::now());
    answer_announce(transaction_id, reply, v4_sender, out);
  } catch (const std::exception& e) {  // StoreUnavailable among others
    count_(Endpoint::udp_announce, 503);
    bt_udp::error_reply(out, transaction_id, fmt::format("announce: {}", e.what()).substr(0, 200));
  }
  send(std::move(out), to);
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

// PeerConnection over a real loopback TCP connection, the other end a plain blocking socket
// that speaks the wire format: what leaves while the upload limiter holds a block back.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <thread>

#include "base/rate_limiter.hpp"
#include "format/wire.hpp"
#include "swarm/peer_connection.hpp"
#include "test_support.hpp"

using namespace p2p;

namespace {

constexpr std::uint32_t kLimitedBlock = 16 * 1024;

// Serves blocks of one file and queues every request it is sent, as a torrent that
// unchokes everyone would; records nothing else.
class FileServingHandler final : public ConnectionHandler {
 public:
  explicit FileServingHandler(int fd) : fd_(fd) {}
  HandshakeAnswer on_handshake(PeerConnection&, const wire::Handshake&) override { return {}; }
  void on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t>) override {
    if (const auto* r = std::get_if<wire::Request>(&m)) c.queue_upload(*r);
  }
  std::span<std::uint8_t> block_destination(PeerConnection&, const wire::Piece&, std::uint32_t) override { return {}; }
  void on_block(PeerConnection&, const BlockRef&, bool) override {}
  BlockSource block_source(PeerConnection&, const wire::Request& r) override { return {fd_, r.begin, nullptr}; }
  void on_closed(PeerConnection&, CloseReason, const std::string&) override {}

 private:
  int fd_;
};

// The far end: a blocking socket with a receive timeout, reading and writing whole frames.
class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~RawPeer() { ::close(fd_); }
  void send(const wire::Message& m) {
    std::string frame = wire::encode(m);
    REQUIRE(::write(fd_, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()));
  }
  // Bytes are waiting to be read at this moment.
  bool readable() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }
  // The next frame's header and payload; fails the test on a timeout or a closed socket.
  std::pair<wire::Header, std::string> read_frame() {
    std::array<std::uint8_t, wire::kPrefixBytes> prefix{};
    read_exact(prefix.data(), prefix.size());
    std::string header(wire::decode_header_length(prefix), '\0');
    read_exact(header.data(), header.size());
    wire::Header h = wire::decode_header(header);
    std::string payload(h.payload_len, '\0');
    read_exact(payload.data(), payload.size());
    return {h, payload};
  }

 private:
  void read_exact(void* out, std::size_t n) {
    auto* p = static_cast<char*>(out);
    while (n > 0) {
      ssize_t got = ::read(fd_, p, n);
      REQUIRE(got > 0);
      p += got;
      n -= static_cast<std::size_t>(got);
    }
  }
  int fd_ = -1;
};

wire::Handshake handshake_from(char digit) {
  wire::Handshake h;
  h.peer_id = std::string(40, digit);
  return h;
}

}  // namespace

TEST_CASE("a request leaves while the upload limiter holds a block back", "[peer_connection]") {
  test::TempDir dir;
  std::string content = test::random_bytes(kLimitedBlock, 7);
  test::write_file(dir / "f.bin", content);
  int fd = ::open((dir / "f.bin").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  RawPeer raw(acceptor.local_endpoint().port());
  FileServingHandler handler(fd);
  // 8 KiB/s: the block waits ~1.9 s for its tokens (the bucket starts with 100 ms' worth).
  RateLimiter limiter(kLimitedBlock / 2);
  auto conn = std::make_shared<PeerConnection>(PeerStream::plain(acceptor.accept()), handler, 1, handshake_from('a'));
  conn->set_rate_limiters(&limiter, nullptr);
  conn->start();
  std::thread loop([&] { io.run(); });
  // However the test ends (a failed REQUIRE throws), the connection closes and the loop is joined.
  struct Stop {
    asio::io_context& io;
    std::shared_ptr<PeerConnection>& conn;
    asio::executor_work_guard<asio::io_context::executor_type>& work;
    std::thread& loop;
    int fd;
    ~Stop() {
      asio::post(io, [c = conn] { c->close(CloseReason::internal_error, "test over"); });
      work.reset();
      loop.join();
      ::close(fd);
    }
  } stop{io, conn, work, loop, fd};

  auto [first, first_payload] = raw.read_frame();
  CHECK(std::holds_alternative<wire::Handshake>(first.message));
  raw.send(handshake_from('b'));
  raw.send(wire::Request{0, 0, kLimitedBlock});
  // Well inside the block's wait for tokens, the connection asks the far end for a block.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  asio::post(io, [&] { conn->send(wire::Request{3, 0, kLimitedBlock}); });

  auto [second, second_payload] = raw.read_frame();
  const auto* request = std::get_if<wire::Request>(&second.message);
  REQUIRE(request != nullptr);
  CHECK(*request == wire::Request{3, 0, kLimitedBlock});
  // It came on its own, not in the same write as the block the limiter held back (which
  // carries the frames waiting when it leaves).
  CHECK_FALSE(raw.readable());

  // Then the block, asked for 0.2 s before that request: the limiter did hold it back.
  auto [third, third_payload] = raw.read_frame();
  const auto* piece = std::get_if<wire::Piece>(&third.message);
  REQUIRE(piece != nullptr);
  CHECK(piece->piece == 0);
  CHECK(third_payload == content);
}

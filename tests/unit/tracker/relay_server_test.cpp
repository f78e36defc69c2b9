// RelayServer in-process on 127.0.0.1 with a real io_context (on its own
// thread, as in the tracker) and blocking clients: pairing, byte-exact
// forwarding both ways, half-close, every refusal with its error frame and
// timing, the per-swarm rate cap measured, the per-address pair cap, stop().
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <future>
#include <random>
#include <stdexcept>
#include <thread>

#include "format/relay_frames.hpp"
#include "tracker/metrics.hpp"
#include "tracker/relay_server.hpp"

using namespace p2p;
using namespace p2p::tracker;
using namespace std::chrono_literals;
using Role = relay::Role;
using SteadyClock = std::chrono::steady_clock;

namespace {

const std::string kSwarm(64, 'a');

// The relay on its own io thread; tickets are issued and counters read on that
// thread (they belong to it), through on_io().
class RelayFixture {
 public:
  explicit RelayFixture(RelayOptions o = {}, std::chrono::milliseconds ticket_ttl = tracker::limits::kRelayTicketTtl)
      : tickets_(tracker::limits::kMaxRelayTickets, ticket_ttl) {
    o.host = "127.0.0.1";
    o.port = 0;
    server_ = std::make_unique<RelayServer>(io_, tickets_, o);
    server_->start();
    port_ = server_->port();  // read before the io thread runs: the acceptor is that thread's
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RelayFixture() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] { server_->stop(); });
    thread_.join();  // io.run() returns once every connection's coroutine has finished
  }

  template <typename F>
  auto on_io(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  std::string issue() {
    return on_io([this] { return tickets_.issue(kSwarm, RelayTickets::Clock::now()); });
  }
  RelayCounters counters() {
    return on_io([this] { return server_->counters(); });
  }
  std::uint16_t port() const { return port_; }

 private:
  asio::io_context io_{1};
  RelayTickets tickets_;
  std::unique_ptr<RelayServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A blocking loopback client; every read gives up after 20 s so a broken relay
// fails the test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error(std::string("connect to the relay failed: ") + std::strerror(errno));
    timeval tv{20, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  void hello(const std::string& ticket, Role role) { REQUIRE(send(relay::encode_hello({ticket, role}))); }
  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }
  void shutdown_both() { ::shutdown(fd_, SHUT_RDWR); }

  // Up to n bytes; fewer only at the end of the stream. Throws on a timeout.
  std::string read(std::size_t n) {
    std::string out;
    char buf[65536];
    while (out.size() < n) {
      ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got == 0) break;
      if (got < 0) {
        if (errno == ECONNRESET) break;
        throw std::runtime_error(std::string("read from the relay: ") + std::strerror(errno));
      }
      out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
  }
  std::string read_to_end() { return read(SIZE_MAX); }
  bool at_end() { return read(1).empty(); }

  // One answer frame from the relay.
  relay::Answer answer() {
    std::string prefix = read(4);
    REQUIRE(prefix.size() == 4);
    std::array<std::uint8_t, 4> p{};
    std::memcpy(p.data(), prefix.data(), 4);
    auto n = relay::decode_length(p, relay::kMaxAnswerHeaderBytes);
    REQUIRE(n);
    std::string header = read(*n);
    REQUIRE(header.size() == *n);
    std::string problem;
    auto a = relay::decode_answer(header, problem);
    INFO(problem);
    REQUIRE(a);
    return *a;
  }
  // Expects the error frame, then the end of the stream; returns the message.
  std::string refusal() {
    auto a = answer();
    CHECK_FALSE(a.ready);
    CHECK(at_end());
    return a.refusal;
  }

 private:
  int fd_ = -1;
};

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

}  // namespace

TEST_CASE("relay: two members pair up and 16 MiB go each way byte-exact, ends half-closed", "[relay]") {
  RelayOptions o;
  o.caps = RelayCaps{0, 0, 8, 8};  // uncapped: this test is about bytes, not rates
  RelayFixture f(o);
  auto ticket = f.issue();
  Client a(f.port()), b(f.port());
  a.hello(ticket, Role::dialler);
  b.hello(ticket, Role::acceptor);
  CHECK(a.answer().ready);
  CHECK(b.answer().ready);

  const std::size_t n = 16 << 20;
  std::string ab(n, '\0'), ba(n, '\0');
  std::mt19937_64 rng(12345);
  for (auto& c : ab) c = static_cast<char>(rng());
  for (auto& c : ba) c = static_cast<char>(rng());
  // Each side sends everything and then half-closes; each reads to the end:
  // the end arrives only if the relay passed the half-close on.
  auto send_a = std::async(std::launch::async, [&] { bool ok = a.send(ab); a.shutdown_send(); return ok; });
  auto send_b = std::async(std::launch::async, [&] { bool ok = b.send(ba); b.shutdown_send(); return ok; });
  auto got_b = std::async(std::launch::async, [&] { return b.read_to_end(); });
  auto got_a = std::async(std::launch::async, [&] { return a.read_to_end(); });
  CHECK(send_a.get());
  CHECK(send_b.get());
  std::string at_b = got_b.get(), at_a = got_a.get();
  CHECK(at_b.size() == n);
  CHECK(at_a.size() == n);
  CHECK(at_b == ab);
  CHECK(at_a == ba);

  // The pair is over once both directions ended; the counters say what happened.
  RelayCounters c;
  for (int i = 0; i < 100; ++i) {
    c = f.counters();
    if (c.pairs_active == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(c.pairs_active == 0);
  CHECK(c.pairs_total == 1);
  CHECK(c.waiting == 0);
  CHECK(c.bytes_relayed == 2 * n);
  CHECK(c.refusals_total() == 0);
  std::string text = render_relay_metrics(c);
  CHECK(text.find("p2p_tracker_relay_bytes_total 33554432\n") != std::string::npos);
  CHECK(text.find("p2p_tracker_relay_pairs_total 1\n") != std::string::npos);
}

TEST_CASE("relay: a half-close goes through and the other direction keeps working", "[relay]") {
  RelayFixture f;
  auto ticket = f.issue();
  Client a(f.port()), b(f.port());
  b.hello(ticket, Role::acceptor);  // the acceptor may come first
  a.hello(ticket, Role::dialler);
  CHECK(b.answer().ready);
  CHECK(a.answer().ready);
  REQUIRE(a.send("from a"));
  a.shutdown_send();
  CHECK(b.read(6) == "from a");
  CHECK(b.at_end());  // a's half-close arrived as the end of b's stream
  REQUIRE(b.send("still from b"));  // b -> a still open
  CHECK(a.read(12) == "still from b");
  b.shutdown_send();
  CHECK(a.at_end());
}

TEST_CASE("relay: unknown, expired and reused tickets are refused at once with the error frame", "[relay]") {
  RelayOptions o;
  o.partner_timeout = 500ms;
  RelayFixture f(o, 300ms);

  SECTION("unknown") {
    Client c(f.port());
    auto t0 = SteadyClock::now();
    c.hello(std::string(64, '0'), Role::dialler);
    CHECK(c.refusal().find("ticket unknown, expired or already used") != std::string::npos);
    CHECK(seconds_since(t0) < 0.5);
  }
  SECTION("expired") {
    auto ticket = f.issue();
    std::this_thread::sleep_for(400ms);
    Client c(f.port());
    c.hello(ticket, Role::dialler);
    CHECK(c.refusal().find("ticket unknown, expired or already used as dialler") != std::string::npos);
  }
  SECTION("reused by the same role while its first use waits") {
    auto ticket = f.issue();
    Client first(f.port()), again(f.port());
    first.hello(ticket, Role::dialler);
    again.hello(ticket, Role::dialler);
    CHECK(again.refusal().find("already used as dialler") != std::string::npos);
  }
  SECTION("a third connection after a pair used the ticket") {
    auto ticket = f.issue();
    Client a(f.port()), b(f.port());
    a.hello(ticket, Role::dialler);
    b.hello(ticket, Role::acceptor);
    CHECK(a.answer().ready);
    CHECK(b.answer().ready);
    for (Role r : {Role::dialler, Role::acceptor}) {
      Client third(f.port());
      third.hello(ticket, r);
      CHECK_FALSE(third.refusal().empty());
    }
    REQUIRE(a.send("pair unharmed"));  // the refusals did not touch the pair
    CHECK(b.read(13) == "pair unharmed");
  }
  CHECK(f.counters().refused(RelayRefusal::bad_ticket) >= 1);
}

TEST_CASE("relay: malformed and oversized hellos are refused at once", "[relay]") {
  RelayFixture f;
  auto frame = [](const std::string& header) {
    auto n = static_cast<std::uint32_t>(header.size());
    return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                       static_cast<char>(n)} + header;
  };
  struct Case {
    std::string bytes, expect;
  };
  std::vector<Case> cases{
      {std::string("\xff\xff\xff\xff", 4) + "garbage", "header length 4294967295 is outside 1-1024"},
      {std::string("\0\0\x04\x01", 4) + std::string(1025, '{'), "header length 1025 is outside 1-1024"},
      {std::string("\0\0\0\0", 4), "header length 0 is outside 1-1024"},
      {frame("this is not json"), "not JSON"},
      {frame(R"({"type":"handshake","protocol":"p2p-share"})"), "expected a relay_hello"},
      {frame(R"({"type":"relay_hello","ticket":"abc","role":"dialler"})"), "ticket"},
      {frame(R"({"type":"relay_hello","ticket":")" + std::string(64, 'a') + R"(","role":"seeder"})"), "role"},
  };
  for (const auto& c : cases) {
    INFO(c.expect);
    Client client(f.port());
    auto t0 = SteadyClock::now();
    REQUIRE(client.send(c.bytes));
    std::string why = client.refusal();
    CHECK(why.find("bad relay_hello") == 0);
    CHECK(why.find(c.expect) != std::string::npos);
    CHECK(seconds_since(t0) < 1.0);
  }
  CHECK(f.counters().refused(RelayRefusal::bad_hello) == cases.size());
}

TEST_CASE("relay: a hello that never comes is refused after 5 s", "[relay]") {
  RelayFixture f;  // the default, documented hello timeout
  REQUIRE(tracker::limits::kRelayHelloTimeout == 5s);
  Client silent(f.port()), half(f.port());
  auto t0 = SteadyClock::now();
  REQUIRE(half.send(std::string("\0\0\0\x40{\"type\"", 12)));  // a hello that stops half-way
  // Read on another thread without assertions (Catch is not thread-safe); checked below.
  auto late = std::async(std::launch::async, [&] { return half.read_to_end(); });
  CHECK(silent.refusal().find("no relay_hello within 5000 ms") != std::string::npos);
  double waited = seconds_since(t0);
  CHECK(waited >= 4.9);
  CHECK(waited < 6.5);
  std::string late_bytes = late.get();  // the error frame, then the end of the stream
  CHECK(late_bytes.find(R"("code":"relay_refused")") != std::string::npos);
  CHECK(late_bytes.find("no relay_hello within 5000 ms") != std::string::npos);
  CHECK(f.counters().refused(RelayRefusal::hello_timeout) == 2);
}

TEST_CASE("relay: a partner that never comes: refused after the partner timeout", "[relay]") {
  REQUIRE(RelayOptions{}.partner_timeout == 15s);  // the documented wait
  RelayOptions o;
  o.partner_timeout = 1500ms;  // shortened so the test is quick
  RelayFixture f(o);
  auto ticket = f.issue();
  Client alone(f.port());
  auto t0 = SteadyClock::now();
  alone.hello(ticket, Role::dialler);
  CHECK(alone.refusal().find("the other member did not come within 1500 ms") != std::string::npos);
  double waited = seconds_since(t0);
  CHECK(waited >= 1.45);
  CHECK(waited < 2.5);
  auto c = f.counters();
  CHECK(c.refused(RelayRefusal::no_partner) == 1);
  CHECK(c.waiting == 0);
  CHECK(c.pairs_total == 0);
}

TEST_CASE("relay: the per-swarm cap holds a pair to its rate", "[relay]") {
  const double cap = 4 << 20;
  RelayOptions o;
  o.caps = RelayCaps{0, static_cast<std::uint64_t>(cap), 8, 8};
  RelayFixture f(o);
  auto ticket = f.issue();
  Client a(f.port()), b(f.port());
  a.hello(ticket, Role::dialler);
  b.hello(ticket, Role::acceptor);
  REQUIRE(a.answer().ready);
  REQUIRE(b.answer().ready);

  std::atomic<bool> done{false};
  auto sender = std::async(std::launch::async, [&] {
    std::string chunk(256 * 1024, 'x');
    while (!done && a.send(chunk)) {
    }
  });
  auto t0 = SteadyClock::now();
  std::size_t received = 0;
  while (seconds_since(t0) < 2.5) received += b.read(64 * 1024).size();
  double elapsed = seconds_since(t0);
  done = true;
  a.shutdown_both();  // unblocks the sender
  sender.get();
  double rate = static_cast<double>(received) / elapsed;
  std::printf("relay per-swarm cap %.2f MiB/s: measured %.2f MiB/s over %.2f s (%.2f x the cap)\n", cap / (1 << 20),
              rate / (1 << 20), elapsed, rate / cap);
  CHECK(rate >= 0.8 * cap);
  CHECK(rate <= 1.1 * cap);
}

TEST_CASE("relay: an address takes part in at most max_pairs_per_address pairs", "[relay]") {
  RelayOptions o;
  o.caps = RelayCaps{0, 0, 64, 2};
  RelayFixture f(o);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 2; ++i) {  // two pairs from 127.0.0.1 (both ends: counted once per pair)
    auto ticket = f.issue();
    held.push_back(std::make_unique<Client>(f.port()));
    held.back()->hello(ticket, Role::dialler);
    held.push_back(std::make_unique<Client>(f.port()));
    held.back()->hello(ticket, Role::acceptor);
    CHECK(held[held.size() - 2]->answer().ready);
    CHECK(held.back()->answer().ready);
  }
  auto ticket = f.issue();
  Client third(f.port());
  third.hello(ticket, Role::dialler);
  CHECK(third.refusal().find("127.0.0.1 takes part in 2 relayed pairs already") != std::string::npos);
  CHECK(f.counters().refused(RelayRefusal::pairs_per_address) == 1);

  // A pair that ends gives its slot back.
  held[0]->shutdown_send();
  held[1]->shutdown_send();
  CHECK(held[0]->at_end());
  CHECK(held[1]->at_end());
  for (int i = 0; i < 200 && f.counters().pairs_active != 1; ++i) std::this_thread::sleep_for(10ms);
  auto t = f.issue();
  Client again(f.port()), partner(f.port());
  again.hello(t, Role::dialler);
  partner.hello(t, Role::acceptor);
  CHECK(again.answer().ready);
  CHECK(partner.answer().ready);
}

TEST_CASE("relay: the pair cap refuses the first member of one pair too many", "[relay]") {
  RelayOptions o;
  o.caps = RelayCaps{0, 0, 1, 8};
  o.partner_timeout = 2s;
  RelayFixture f(o);
  auto t1 = f.issue(), t2 = f.issue();
  Client waiting(f.port());
  waiting.hello(t1, Role::dialler);  // a waiting member holds a pair slot
  Client over(f.port());
  over.hello(t2, Role::dialler);
  CHECK(over.refusal().find("carries 1 pairs already") != std::string::npos);
  CHECK(f.counters().refused(RelayRefusal::pairs) == 1);
}

TEST_CASE("relay: stop() closes waiting members and relayed pairs, and the loop ends", "[relay]") {
  RelayFixture f;
  auto t1 = f.issue(), t2 = f.issue();
  Client a(f.port()), b(f.port()), waiting(f.port());
  a.hello(t1, Role::dialler);
  b.hello(t1, Role::acceptor);
  REQUIRE(a.answer().ready);
  REQUIRE(b.answer().ready);
  waiting.hello(t2, Role::acceptor);
  for (int i = 0; i < 100 && f.counters().waiting == 0; ++i) std::this_thread::sleep_for(10ms);
  auto t0 = SteadyClock::now();
  f.stop();  // returns only when io.run() has: every coroutine finished
  CHECK(seconds_since(t0) < 2.0);
  CHECK(a.read_to_end().empty());
  CHECK(b.read_to_end().empty());
  std::string rest = waiting.read_to_end();  // at most the best-effort refusal, then the end
  CHECK(rest.find("relay_ready") == std::string::npos);
}

TEST_CASE("relay: a waiting member that hangs up gives its pair slot back at once", "[relay]") {
  RelayOptions o;
  o.caps = RelayCaps{0, 0, 1, 8};
  RelayFixture f(o);  // the default 15 s partner wait: the slot must come back long before
  auto t1 = f.issue();
  {
    Client gone(f.port());
    gone.hello(t1, Role::dialler);
    for (int i = 0; i < 100 && f.counters().waiting == 0; ++i) std::this_thread::sleep_for(10ms);
    REQUIRE(f.counters().waiting == 1);
  }  // closed here
  for (int i = 0; i < 200 && f.counters().waiting != 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(f.counters().waiting == 0);
  auto t2 = f.issue();
  Client a(f.port()), b(f.port());
  a.hello(t2, Role::dialler);
  b.hello(t2, Role::acceptor);
  CHECK(a.answer().ready);
  CHECK(b.answer().ready);
}

TEST_CASE("relay: bytes a member sends before relay_ready are forwarded, not lost", "[relay]") {
  RelayFixture f;
  auto ticket = f.issue();
  Client a(f.port()), b(f.port());
  REQUIRE(a.send(relay::encode_hello({ticket, Role::dialler}) + "early bytes"));
  std::this_thread::sleep_for(100ms);  // a waits with its early bytes unread by the relay
  b.hello(ticket, Role::acceptor);
  CHECK(a.answer().ready);
  CHECK(b.answer().ready);
  CHECK(b.read(11) == "early bytes");
}

TEST_CASE("relay: a pair with no byte either way for the idle timeout is closed; traffic keeps it open", "[relay]") {
  REQUIRE(RelayOptions{}.idle_timeout == 120s);  // the documented timeout
  RelayOptions o;
  o.idle_timeout = 600ms;
  RelayFixture f(o);
  auto ticket = f.issue();
  Client a(f.port()), b(f.port());
  a.hello(ticket, Role::dialler);
  b.hello(ticket, Role::acceptor);
  REQUIRE(a.answer().ready);
  REQUIRE(b.answer().ready);
  auto t0 = SteadyClock::now();
  for (int i = 0; i < 5; ++i) {  // 1.5 s of a byte every 300 ms: more than twice the timeout, still open
    std::this_thread::sleep_for(300ms);
    REQUIRE(a.send("x"));
    CHECK(b.read(1) == "x");
  }
  auto quiet = SteadyClock::now();
  CHECK(b.at_end());  // then silence: closed
  CHECK(a.at_end());
  double waited = seconds_since(quiet);
  CHECK(waited >= 0.55);
  CHECK(waited < 1.5);
  CHECK(seconds_since(t0) > 1.4);
}

TEST_CASE("relay: over the connection cap a connection is refused at once", "[relay]") {
  RelayOptions o;
  o.max_connections = 2;
  RelayFixture f(o);
  Client one(f.port()), two(f.port());
  std::this_thread::sleep_for(100ms);  // both accepted, waiting for their hello, before the third comes
  auto t0 = SteadyClock::now();
  Client third(f.port());
  CHECK(third.refusal().find("too many connections") != std::string::npos);
  CHECK(seconds_since(t0) < 1.0);
  CHECK(f.counters().refused(RelayRefusal::connections) == 1);
}

// Relay internals, on the tracker's one io thread (no locks). Per connection a
// coroutine: the hello (raced with a timer), the ticket, the caps; the first
// member of a ticket parks on a timer until its partner arrives; the partner's
// coroutine then relays the pair: two forwarding loops (one 64 KiB buffer each,
// read -> wait for the caps -> write, so nothing queues) raced with an idle watchdog.
#include "tracker/relay_server.hpp"

#include <array>
#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <unordered_map>
#include <unordered_set>

#include "base/address.hpp"
#include "base/error.hpp"
#include "base/spawn_completion.hpp"
#include "format/relay_frames.hpp"
#include "net/use_tuple.hpp"

namespace p2p::tracker {

using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

namespace {

// After a refusal the socket is drained this long (or until the client closes)
// before it is closed: closing with unread input would send a reset, which may
// destroy the error frame before the client reads it.
constexpr auto kRefusalLinger = std::chrono::seconds(1);
constexpr std::size_t kRefusalDrainBytes = 64 * 1024;

// One accepted socket.
struct Conn {
  Conn(tcp::socket s, std::string a) : socket(std::move(s)), address(std::move(a)), wake(socket.get_executor()) {}
  tcp::socket socket;
  std::string address;  // the peer's IP (IPv4-mapped shown as IPv4)
  asio::steady_timer wake;  // the first member waits here; its partner (or stop()) cancels it
  std::shared_ptr<Conn> partner;  // set by the partner when it takes this waiting member
  std::string partner_refused;    // set instead when the partner came but was over a cap
};

// A relayed pair's shared state.
struct Pair {
  std::string swarm;
  std::shared_ptr<Conn> a, b;
  Clock::time_point last_activity;
  void close() {
    asio::error_code ignored;
    a->socket.close(ignored);
    b->socket.close(ignored);
  }
};

asio::awaitable<void> sleep_for(Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(kUseTuple);
}

std::string normalized_ip(const tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  return addr.to_string();
}

// Completes with true when a waiting member hangs up (or its socket fails);
// never completes otherwise (early bytes are left for the pair to forward).
asio::awaitable<bool> hung_up(Conn& c) {
  for (;;) {
    auto [ec] = co_await c.socket.async_wait(tcp::socket::wait_read, kUseTuple);
    if (ec) co_return ec != asio::error::operation_aborted;
    std::array<char, 1> byte{};
    asio::error_code e;
    c.socket.non_blocking(true, e);
    std::size_t n = c.socket.receive(asio::buffer(byte), tcp::socket::message_peek, e);
    if (e == asio::error::would_block || e == asio::error::try_again) continue;
    if (e || n == 0) co_return true;
    asio::steady_timer park(c.socket.get_executor(), Clock::time_point::max());
    co_await park.async_wait(kUseTuple);  // until the partner or the timeout cancels us
    co_return false;
  }
}

struct HelloResult {
  std::optional<relay::Hello> hello;
  std::string problem;
};

// Reads exactly one hello frame and nothing after it (bytes a member sends
// early stay in the socket and are forwarded once the pair is ready).
asio::awaitable<HelloResult> read_hello(tcp::socket& s) {
  std::array<std::uint8_t, relay::kPrefixBytes> prefix{};
  auto [ec, n] = co_await asio::async_read(s, asio::buffer(prefix), kUseTuple);
  if (ec) co_return HelloResult{std::nullopt, "the connection ended before a hello"};
  auto length = relay::decode_length(prefix, relay::kMaxHelloHeaderBytes);
  if (!length) {
    std::uint32_t raw = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
                        (std::uint32_t{prefix[2]} << 8) | prefix[3];
    co_return HelloResult{std::nullopt,
                          fmt::format("hello header length {} is outside 1-{}", raw, relay::kMaxHelloHeaderBytes)};
  }
  std::string header(*length, '\0');  // at most 1 KiB: checked above
  auto [ec2, n2] = co_await asio::async_read(s, asio::buffer(header), kUseTuple);
  if (ec2) co_return HelloResult{std::nullopt, "the connection ended inside the hello"};
  HelloResult r;
  r.hello = relay::decode_hello(header, r.problem);
  co_return r;
}

}  // namespace

struct RelayServer::Impl {
  Impl(asio::io_context& io, RelayTickets& tickets, RelayOptions options)
      : io(io), acceptor(io), tickets(tickets), options(std::move(options)), quota(this->options.caps) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Conn> c);
  asio::awaitable<void> admit(std::shared_ptr<Conn> c);
  asio::awaitable<void> relay_pair(Pair& pair);
  asio::awaitable<void> forward(Pair& pair, Conn& from, Conn& to);
  asio::awaitable<void> idle_watchdog(Pair& pair);
  asio::awaitable<void> refuse(Conn& c, RelayRefusal reason, std::string_view why);

  asio::io_context& io;
  tcp::acceptor acceptor;
  RelayTickets& tickets;
  RelayOptions options;
  RelayQuota quota;
  RelayCounters counters;
  std::unordered_map<std::string, std::shared_ptr<Conn>> waiting;  // ticket -> its first member
  std::unordered_set<Conn*> live;  // every connection whose serve() runs (what stop() closes)
  bool stopping = false;
};

asio::awaitable<void> RelayServer::Impl::accept_loop() {
  const std::size_t cap = options.max_connections != 0 ? options.max_connections
                                                       : limits::kMaxRelayConnections + 2 * options.caps.max_pairs;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (stopping || !acceptor.is_open()) co_return;
    if (ec) {  // out of descriptors, or reset before accept: pause briefly, keep serving
      co_await sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    asio::error_code e2;
    auto remote = socket.remote_endpoint(e2);
    if (e2) continue;  // already gone
    socket.set_option(tcp::no_delay(true), e2);  // relayed TLS records should not wait for Nagle
    if (live.size() >= cap) {  // refused without a linger: a flood must not hold descriptors
      counters.refuse(RelayRefusal::connections);
      const std::string frame = relay::encode_refusal("the relay has too many connections; retry later");
      socket.non_blocking(true, e2);
      socket.write_some(asio::buffer(frame), e2);
      socket.close(e2);
      continue;
    }
    auto c = std::make_shared<Conn>(std::move(socket), normalized_ip(remote));
    asio::co_spawn(io, serve(c), log_and_go_on("p2p-tracker: relay connection ended by an internal error"));
  }
}

// live holds c while this runs; erased explicitly (not by a guard), so a frame
// destroyed with its io_context never touches a server that is gone.
asio::awaitable<void> RelayServer::Impl::serve(std::shared_ptr<Conn> c) {
  live.insert(c.get());
  try {
    co_await admit(c);
  } catch (...) {
    live.erase(c.get());
    throw;
  }
  live.erase(c.get());
}

asio::awaitable<void> RelayServer::Impl::admit(std::shared_ptr<Conn> c) {
  auto raced = co_await (read_hello(c->socket) || sleep_for(options.hello_timeout));
  if (raced.index() == 1)
    co_return co_await refuse(*c, RelayRefusal::hello_timeout,
                              fmt::format("no relay_hello within {} ms", options.hello_timeout.count()));
  HelloResult r = std::get<0>(std::move(raced));
  if (!r.hello) co_return co_await refuse(*c, RelayRefusal::bad_hello, "bad relay_hello: " + r.problem);
  if (stopping) co_return co_await refuse(*c, RelayRefusal::stopping, "the tracker is stopping");

  auto swarm = tickets.redeem(r.hello->ticket, r.hello->role, Clock::now());
  if (!swarm)
    co_return co_await refuse(*c, RelayRefusal::bad_ticket,
                              fmt::format("ticket unknown, expired or already used as {}", relay::role_name(r.hello->role)));

  auto found = waiting.find(r.hello->ticket);
  if (found != waiting.end()) {  // the partner is waiting: take it and relay the pair here
    std::shared_ptr<Conn> first = found->second;
    waiting.erase(found);
    --counters.waiting;
    if (quota.join_pair(c->address, first->address) != RelayLimit::none) {
      // Both are told at once, rather than the first waiting out its timeout.
      std::string why = fmt::format("{} takes part in {} relayed pairs already", c->address, quota.pairs_of(c->address));
      first->partner_refused = "the other member was refused: " + why;
      first->wake.cancel();
      co_return co_await refuse(*c, RelayRefusal::pairs_per_address, why);
    }
    first->partner = c;
    first->wake.cancel();
    Pair pair{*swarm, first, c, Clock::now()};
    co_await relay_pair(pair);
    quota.close_pair(pair.swarm, first->address);
    quota.leave_pair(c->address, first->address);
    co_return;
  }

  switch (quota.open_pair(*swarm, c->address)) {
    case RelayLimit::pairs:
      co_return co_await refuse(*c, RelayRefusal::pairs,
                                fmt::format("the relay carries {} pairs already, its cap", options.caps.max_pairs));
    case RelayLimit::pairs_per_address:
      co_return co_await refuse(*c, RelayRefusal::pairs_per_address,
                                fmt::format("{} takes part in {} relayed pairs already", c->address,
                                            quota.pairs_of(c->address)));
    case RelayLimit::none: break;
  }
  // Wait for the partner; it cancels the timer and takes over this connection.
  // A member that hangs up meanwhile gives its slot back at once.
  waiting.emplace(r.hello->ticket, c);
  ++counters.waiting;
  c->wake.expires_after(options.partner_timeout);
  auto ended = co_await (c->wake.async_wait(kUseTuple) || hung_up(*c));
  if (c->partner) co_return;  // relayed (or being relayed) by the partner's coroutine
  if (auto w = waiting.find(r.hello->ticket); w != waiting.end() && w->second == c) {
    waiting.erase(w);
    --counters.waiting;
  }
  quota.close_pair(*swarm, c->address);
  if (!c->partner_refused.empty())
    co_return co_await refuse(*c, RelayRefusal::pairs_per_address, c->partner_refused);
  if (ended.index() == 1 && std::get<1>(ended)) {
    asio::error_code ignored;
    c->socket.close(ignored);
    co_return;
  }
  if (stopping) co_return co_await refuse(*c, RelayRefusal::stopping, "the tracker is stopping");
  co_await refuse(*c, RelayRefusal::no_partner,
                  fmt::format("the other member did not come within {} ms", options.partner_timeout.count()));
}

asio::awaitable<void> RelayServer::Impl::relay_pair(Pair& pair) {
  ++counters.pairs_active;
  ++counters.pairs_total;
  // The answer fits any send buffer: each write finishes at once or the socket is dead.
  const std::string ready = relay::encode_ready();
  auto [e1, n1] = co_await asio::async_write(pair.a->socket, asio::buffer(ready), kUseTuple);
  auto [e2, n2] = co_await asio::async_write(pair.b->socket, asio::buffer(ready), kUseTuple);
  if (!e1 && !e2 && !stopping) {
    pair.last_activity = Clock::now();
    co_await ((forward(pair, *pair.a, *pair.b) && forward(pair, *pair.b, *pair.a)) || idle_watchdog(pair));
  }
  pair.close();
  --counters.pairs_active;
}

// One direction: read what arrived, wait as long as the caps say, write it all,
// repeat. The end of input is passed on as a half-close; an error ends both.
asio::awaitable<void> RelayServer::Impl::forward(Pair& pair, Conn& from, Conn& to) {
  std::unique_ptr<char[]> buffer(new char[limits::kRelayBufferBytes]);
  asio::steady_timer pace(io);
  for (;;) {
    auto [ec, n] = co_await from.socket.async_read_some(asio::buffer(buffer.get(), limits::kRelayBufferBytes), kUseTuple);
    if (ec == asio::error::eof) {
      asio::error_code ignored;
      to.socket.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (ec) break;
    auto now = Clock::now();
    pair.last_activity = now;
    if (auto wait = quota.reserve_bytes(pair.swarm, n, now); wait.count() > 0) {
      pace.expires_after(wait);
      auto [cancelled] = co_await pace.async_wait(kUseTuple);
      if (cancelled) break;
    }
    auto [wec, written] = co_await asio::async_write(to.socket, asio::buffer(buffer.get(), n), kUseTuple);
    if (wec) break;
    counters.bytes_relayed += written;
    pair.last_activity = Clock::now();
  }
  pair.close();  // a reset, a failed write or a stop: the other direction ends too
}

asio::awaitable<void> RelayServer::Impl::idle_watchdog(Pair& pair) {
  asio::steady_timer timer(io);
  for (;;) {
    timer.expires_at(pair.last_activity + options.idle_timeout);
    auto [ec] = co_await timer.async_wait(kUseTuple);
    if (ec) co_return;  // both directions finished first
    if (Clock::now() - pair.last_activity >= options.idle_timeout) co_return;
  }
}

// The error frame, written without waiting (it fits an empty send buffer), then
// a half-close and a short drain so the client gets to read it.
asio::awaitable<void> RelayServer::Impl::refuse(Conn& c, RelayRefusal reason, std::string_view why) {
  counters.refuse(reason);
  const std::string frame = relay::encode_refusal(why);
  asio::error_code ignored;
  c.socket.non_blocking(true, ignored);
  c.socket.write_some(asio::buffer(frame), ignored);
  c.socket.shutdown(tcp::socket::shutdown_send, ignored);
  if (!stopping) {
    auto drain = [&c]() -> asio::awaitable<void> {
      std::array<char, 4096> sink;
      for (std::size_t total = 0; total < kRefusalDrainBytes;) {
        auto [ec, n] = co_await c.socket.async_read_some(asio::buffer(sink), kUseTuple);
        if (ec) co_return;
        total += n;
      }
    };
    co_await (drain() || sleep_for(kRefusalLinger));
  }
  c.socket.close(ignored);
}

RelayServer::RelayServer(asio::io_context& io, RelayTickets& tickets, RelayOptions options)
    : impl_(std::make_unique<Impl>(io, tickets, std::move(options))) {
  auto& o = impl_->options;
  try {
    tcp::resolver resolver(io);
    auto results = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive | tcp::resolver::numeric_service);
    tcp::endpoint ep = results.begin()->endpoint();
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::system_error& e) {
    throw Error(ExitCode::bind_failed,
                fmt::format("cannot listen for the relay on {}:{}: {}", o.host, o.port, e.code().message()));
  }
}

RelayServer::~RelayServer() = default;

std::string RelayServer::local_address() const {
  auto ep = impl_->acceptor.local_endpoint();
  return format_host_port(ep.address().to_string(), ep.port());
}

std::uint16_t RelayServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void RelayServer::start() {
  asio::co_spawn(impl_->io, impl_->accept_loop(), rethrow_from_run);  // the accept loop failing is fatal
}

void RelayServer::stop() {
  impl_->stopping = true;
  asio::error_code ignored;
  impl_->acceptor.close(ignored);
  for (Conn* c : impl_->live) {
    c->wake.cancel();
    c->socket.close(ignored);
  }
}

const RelayCounters& RelayServer::counters() const { return impl_->counters; }
const RelayCaps& RelayServer::caps() const { return impl_->options.caps; }
void RelayServer::set_caps(const RelayCaps& caps) {
  impl_->options.caps = caps;
  impl_->quota.set_caps(caps);
}

}  // namespace p2p::tracker

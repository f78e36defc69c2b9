// HTTP server internals. Each connection runs one coroutine and one timer:
// serve() reads, parses, asks the handler, answers; the watchdog timer closes the
// connection when its deadline passes (header, body, write or idle timeout),
// so a silent client costs one timer and never blocks anyone else. While the
// handler prepares an answer there is no deadline: the handler owns that wait.
// At the connection cap a newcomer displaces the connection that has held its
// slot longest without a request in hand (idle keep-alive, headers or a body
// still coming, or a streamed answer): sockets held open by someone else never lock out a
// person loading the page (displace_idlest).
#include "net/http_server.hpp"

#include <array>
#include <asio.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/address.hpp"
#include "base/error.hpp"
#include "base/fd_limit.hpp"
#include "base/spawn_completion.hpp"
#include "net/http_request_parser.hpp"
#include "net/use_tuple.hpp"

namespace p2p::net {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kRefused =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 40\r\n"
    "Connection: close\r\n\r\n{\"error\":\"too many connections; retry\"}";
constexpr std::string_view kTimeout =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: 55\r\n"
    "Connection: close\r\n\r\n{\"error\":\"request not received in time; connection closed\"}";

// Servers hold many idle keep-alive sockets: use what the hard limit allows.
std::size_t fd_budget() {
  std::size_t limit = raise_fd_limit();
  return limit > limits::kReservedFds ? limit - limits::kReservedFds : 16;
}

}  // namespace

class Connection;

struct HttpServer::Impl {
  Impl(asio::io_context& io, HttpHandler& handler, HttpOptions options)
      : io(io), acceptor(io), handler(handler), options(std::move(options)) {}

  asio::awaitable<void> accept_loop();
  // Closes the connection that has held its slot longest without a request in hand
  // (Connection::holding_since); false if every connection has one.
  bool displace_idlest();
  void admit(tcp::socket socket, const tcp::endpoint& remote, std::size_t cap);

  asio::io_context& io;
  tcp::acceptor acceptor;
  HttpHandler& handler;
  HttpOptions options;
  std::size_t open_connections = 0;
  // Bodies being received (the memory budget) and large uploads per address.
  std::size_t body_bytes_in_flight = 0;
  std::unordered_map<std::string, std::size_t> large_uploads_by_ip;
  std::unordered_set<Connection*> live;
  bool stopping = false;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl& server, std::string remote_ip)
      : socket_(std::move(socket)), server_(server), remote_ip_(std::move(remote_ip)),
        buffer_(new char[limits::kReadBufferBytes]), parser_(*this), wake_(socket_.get_executor()),
        watchdog_(socket_.get_executor()) {
    head_.reserve(256);
  }
  ~Connection() {
    if (response_.stream) response_.stream->mark_closed();  // the handler may still hold it
  }

  asio::awaitable<void> run() {
    server_.live.insert(this);
    ++server_.open_connections;
    phase_ = Phase::headers;  // a client that connects and sends nothing gets 408
    idle_since_ = Clock::now();
    deadline_ = idle_since_ + server_.options.header_timeout;
    arm_watchdog();
    co_await serve();
    watchdog_.cancel();
    release_body();
    close();
    if (!displaced_) {
      server_.live.erase(this);
      --server_.open_connections;
    }
  }

  // Since when it holds its slot without a request in hand: waiting for one (idle
  // keep-alive, or its headers or body still coming: since it went idle) or streaming
  // an answer (a live page's events, which reconnect: since the stream began). nullopt
  // while a request is being answered or written: never displaced. One order for all,
  // the oldest first: ranking kinds first would let someone fill the slots with the
  // kind ranked last and make every newcomer displace the one before (a person's
  // page load among them) before its request is read.
  std::optional<Clock::time_point> holding_since() const {
    if (response_.stream) return stream_since_;
    if (phase_ == Phase::idle || phase_ == Phase::headers || phase_ == Phase::body) return idle_since_;
    return std::nullopt;
  }
  // Closed for a newcomer: its slot is given up now (the coroutine ends later).
  void displace() {
    if (displaced_) return;
    displaced_ = true;
    server_.live.erase(this);
    --server_.open_connections;
    close();
  }

  void close() {
    wake_.cancel();  // a streamed answer waiting for data notices the close
    asio::error_code ignored;
    socket_.close(ignored);  // sends the FIN (a shutdown first would be one more system call)
  }

 private:
  enum class Phase { idle, headers, body, handling, writing };

  asio::awaitable<void> serve();
  // The deadline: a timer re-armed to deadline_ whenever it fires early; when it is
  // past, the connection is closed, which ends whatever serve() waits on. A plain
  // callback, not a second coroutine raced against serve(): no frame, no cancellation
  // state per connection.
  void arm_watchdog() {
    watchdog_.expires_at(deadline_);
    watchdog_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->watchdog_fired();
    });
  }
  void watchdog_fired();
  asio::awaitable<bool> respond(bool keep_alive);
  asio::awaitable<bool> stream_answer();
  asio::awaitable<void> write_error(int status, std::string_view message);
  static void answered(void* self) {
    auto* c = static_cast<Connection*>(self);
    c->answered_ = true;
    c->wake_.cancel();  // resumes respond() if it is waiting
  }

  // Request parsing; its hooks move the connection's phase and deadline and
  // let the handler choose the body limit.
  class Parser final : public HttpRequestParser {
   public:
    explicit Parser(Connection& c) : c_(c) {}

   private:
    void message_begun() override {
      c_.phase_ = Phase::headers;
      c_.deadline_ = Clock::now() + c_.server_.options.header_timeout;
    }
    void headers_complete() override {
      c_.phase_ = Phase::body;
      c_.deadline_ = Clock::now() + limits::kBodyTimeout;
    }
    std::size_t body_limit(std::string_view method, std::string_view url) const override {
      return c_.server_.handler.body_limit(method, url);
    }
    std::optional<HttpRefusal> refuse_body(std::string_view method, std::string_view url,
                                           std::uint64_t declared) override {
      return c_.server_.handler.refuse_body(method, url, c_.remote_ip_, declared);
    }
    bool admit_body(std::uint64_t declared) override {
      auto& srv = c_.server_;
      if (declared < limits::kLargeBodyBytes) return true;
      auto& mine = srv.large_uploads_by_ip[c_.remote_ip_];
      if (mine >= limits::kMaxLargeUploadsPerAddress ||
          srv.body_bytes_in_flight + declared > limits::kMaxBodyBytesInFlight) {
        if (mine == 0) srv.large_uploads_by_ip.erase(c_.remote_ip_);
        return false;
      }
      ++mine;
      c_.large_upload_ = true;
      return true;
    }
    bool reserve_body(std::size_t n) override {
      auto& srv = c_.server_;
      if (srv.body_bytes_in_flight + n > limits::kMaxBodyBytesInFlight) return false;
      srv.body_bytes_in_flight += n;
      c_.body_reserved_ += n;
      return true;
    }
    Connection& c_;
  };

  // Gives the body's share of the budget back, and its memory.
  void release_body() {
    server_.body_bytes_in_flight -= body_reserved_;
    body_reserved_ = 0;
    if (large_upload_) {
      auto it = server_.large_uploads_by_ip.find(remote_ip_);
      if (it != server_.large_uploads_by_ip.end() && --it->second == 0) server_.large_uploads_by_ip.erase(it);
      large_upload_ = false;
    }
    parser_.release_body_memory();
  }

  tcp::socket socket_;
  HttpServer::Impl& server_;
  std::string remote_ip_;
  std::unique_ptr<char[]> buffer_;
  Parser parser_;
  Phase phase_ = Phase::idle;
  std::size_t body_reserved_ = 0;
  bool large_upload_ = false;
  Clock::time_point deadline_;
  Clock::time_point idle_since_, stream_since_;
  bool displaced_ = false;
  asio::steady_timer wake_;  // parked at max while the handler works; cancel() = answered
  asio::steady_timer watchdog_;
  bool answered_ = false;

  std::string head_;
  HttpResponse response_;
};

asio::awaitable<void> Connection::serve() {
  std::size_t begin = 0, end = 0;
  for (;;) {
    if (begin == end) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer_.get(), limits::kReadBufferBytes), kUseTuple);
      if (ec) co_return;  // closed by the client, by a timeout or by stop()
      begin = 0;
      end = n;
    }
    begin += parser_.execute(buffer_.get() + begin, end - begin);
    auto status = parser_.status();
    if (status == HttpRequestParser::Status::complete) {
      bool keep_alive = parser_.keep_alive() && !server_.stopping;
      bool written = co_await respond(keep_alive);
      release_body();
      if (!written || !keep_alive || server_.stopping) co_return;
      parser_.next_request();
      phase_ = Phase::idle;
      idle_since_ = Clock::now();
      deadline_ = idle_since_ + server_.options.idle_timeout;
      continue;
    }
    if (status == HttpRequestParser::Status::failed) {
      co_await write_error(parser_.error_status(), parser_.error_message());
      co_return;  // the parser cannot resynchronise after an error
    }
    if (parser_.take_continue()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(kContinue), kUseTuple);
      if (ec) co_return;
    }
  }
}

// Returns false if the answer could not be written (connection is done).
asio::awaitable<bool> Connection::respond(bool keep_alive) {
  HttpRequest request{parser_.method(), parser_.url(), parser_.body(), remote_ip_, parser_.headers()};
  response_.reset();
  phase_ = Phase::handling;
  deadline_ = Clock::time_point::max();
  answered_ = false;
  server_.handler.handle(request, response_, HttpDone(&Connection::answered, this));
  while (!answered_) {
    // The handler answers later (e.g. after a database round trip). The
    // response and request stay ours until then, even if stop() closed the socket.
    wake_.expires_at(Clock::time_point::max());
    co_await wake_.async_wait(kUseTuple);
  }
  head_.clear();
  auto o = std::back_inserter(head_);
  if (response_.stream) co_return co_await stream_answer();
  fmt::format_to(o, "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n", response_.status,
                 status_reason(response_.status), response_.content_type, response_.body.size(),
                 keep_alive ? "keep-alive" : "close");
  if (!response_.allow.empty()) fmt::format_to(o, "Allow: {}\r\n", response_.allow);
  if (!response_.content_disposition.empty())
    fmt::format_to(o, "Content-Disposition: {}\r\n", response_.content_disposition);
  head_.append("Cache-Control: no-store\r\n\r\n");
  phase_ = Phase::writing;
  deadline_ = Clock::now() + server_.options.header_timeout;
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(response_.body)};
  auto [ec, n] = co_await asio::async_write(socket_, buffers, kUseTuple);
  co_return !ec;
}

// A streamed answer: the head and first body, then whatever the handler queues,
// until it ends the stream, the client goes, or the server stops. Each write
// has the write deadline; between writes there is none (the stream may be quiet).
asio::awaitable<bool> Connection::stream_answer() {
  auto stream = response_.stream;
  stream_since_ = Clock::now();
  fmt::format_to(std::back_inserter(head_), "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nConnection: close\r\n"
                 "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n\r\n",
                 response_.status, status_reason(response_.status), response_.content_type);
  head_ += response_.body;
  stream->set_wake([this] { wake_.cancel(); });
  std::string chunk = std::move(head_);
  for (;;) {
    if (!chunk.empty()) {
      phase_ = Phase::writing;
      deadline_ = Clock::now() + server_.options.header_timeout;
      auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(chunk), kUseTuple);
      if (ec) break;
    }
    phase_ = Phase::handling;
    deadline_ = Clock::time_point::max();
    if (stream->has_queued()) {
      chunk = stream->take();
      continue;
    }
    if (stream->closed() || server_.stopping || !socket_.is_open()) break;
    chunk.clear();
    wake_.expires_at(Clock::time_point::max());
    co_await wake_.async_wait(kUseTuple);
    if (stream->has_queued()) chunk = stream->take();
  }
  stream->mark_closed();
  response_.stream.reset();
  co_return false;  // the connection ends with the stream (written or not)
}

asio::awaitable<void> Connection::write_error(int status, std::string_view message) {
  error_response(response_, status, message);
  server_.handler.on_server_answer(status);
  head_ = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                      status, status_reason(status), response_.body.size());
  phase_ = Phase::writing;
  deadline_ = Clock::now() + server_.options.header_timeout;
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(response_.body)};
  co_await asio::async_write(socket_, buffers, kUseTuple);
}

void Connection::watchdog_fired() {
  if (!socket_.is_open()) return;  // serve() is over
  if (deadline_ > Clock::now()) return arm_watchdog();  // the deadline moved on meanwhile
  server_.handler.on_event(HttpEvent::timeout);
  if (phase_ == Phase::headers || phase_ == Phase::body) {
    // Best effort and never blocking: the send buffer is empty while we read.
    asio::error_code ignored;
    socket_.non_blocking(true, ignored);
    socket_.write_some(asio::buffer(kTimeout), ignored);
    server_.handler.on_server_answer(408);
  }
  close();  // serve()'s read or write ends with an error: the connection is done
}

// Waits until connections are pending, then takes all of them (a batch per turn) before
// waiting again: one wake-up per burst, not one per connection. The wait only wakes on
// new readiness (edge-triggered), so it is entered only once accept said would_block.
asio::awaitable<void> HttpServer::Impl::accept_loop() {
  constexpr int kAcceptsPerTurn = 32;
  const std::size_t cap = std::min(options.max_connections, fd_budget());
  bool drained = true;
  for (;;) {
    bool pause = false;
    if (drained) {
      auto [wait_ec] = co_await acceptor.async_wait(tcp::acceptor::wait_read, kUseTuple);
      if (stopping || !acceptor.is_open()) co_return;
      pause = static_cast<bool>(wait_ec);
    }
    drained = false;
    for (int i = 0; !pause && i < kAcceptsPerTurn; ++i) {
      tcp::endpoint remote;
      asio::error_code ec;
      tcp::socket socket = acceptor.accept(remote, ec);  // non-blocking: would_block when none is left
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        drained = true;
        break;
      }
      if (ec) {
        // Out of descriptors: free the idlest connection's so the pending one gets in on the
        // next accept. Else (or a connection reset before accept) pause briefly.
        if ((ec == asio::error::no_descriptors || ec == std::errc::too_many_files_open_in_system) && displace_idlest())
          continue;
        pause = true;
      } else {
        admit(std::move(socket), remote, cap);
      }
    }
    if (pause) {
      // Pause briefly, keep serving; then accept again (what is pending is still there).
      asio::steady_timer timer(io, std::chrono::milliseconds(50));
      co_await timer.async_wait(kUseTuple);
    } else if (!drained) {
      co_await asio::post(io, asio::use_awaitable);  // a full turn: let the connections run, then go on
    }
    if (stopping || !acceptor.is_open()) co_return;
  }
}

bool HttpServer::Impl::displace_idlest() {
  Connection* victim = nullptr;
  Clock::time_point oldest = Clock::time_point::max();
  for (Connection* c : live)
    if (auto since = c->holding_since(); since && *since < oldest) victim = c, oldest = *since;
  if (!victim) return false;
  handler.on_event(HttpEvent::displaced);
  victim->displace();
  return true;
}

void HttpServer::Impl::admit(tcp::socket socket, const tcp::endpoint& remote, std::size_t cap) {
  asio::error_code ignored;
  if (open_connections >= cap && !displace_idlest()) {
    handler.on_event(HttpEvent::connection_refused);
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(kRefused), ignored);
    socket.close(ignored);
    return;
  }
#if !defined(__linux__)
  socket.set_option(tcp::no_delay(true), ignored);  // Linux: inherited from the acceptor
#endif
  auto addr = remote.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  auto conn = std::make_shared<Connection>(std::move(socket), *this, addr.to_string());
  asio::co_spawn(io, [conn]() -> asio::awaitable<void> { co_await conn->run(); },
                 log_and_go_on("http server: connection ended by an internal error"));
}

HttpServer::HttpServer(asio::io_context& io, HttpHandler& handler, HttpOptions options)
    : impl_(std::make_unique<Impl>(io, handler, std::move(options))) {
  auto& o = impl_->options;
  try {
    tcp::resolver resolver(io);
    auto results = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive | tcp::resolver::numeric_service);
    tcp::endpoint ep = results.begin()->endpoint();
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
#if defined(__linux__)
    // One write per answer; don't let Nagle hold it. Accepted sockets inherit it on Linux.
    impl_->acceptor.set_option(tcp::no_delay(true));
#endif
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    impl_->acceptor.non_blocking(true);  // accept_loop takes every pending connection per wake-up
  } catch (const std::system_error& e) {
    throw Error(ExitCode::bind_failed, fmt::format("cannot listen on {}:{}: {}", o.host, o.port, e.code().message()));
  }
}

HttpServer::~HttpServer() = default;

std::string HttpServer::local_address() const {
  auto ep = impl_->acceptor.local_endpoint();
  return format_host_port(ep.address().to_string(), ep.port());
}

std::size_t HttpServer::open_connections() const { return impl_->open_connections; }

void HttpServer::start() {
  asio::co_spawn(impl_->io, impl_->accept_loop(), rethrow_from_run);  // the accept loop failing is fatal
}

void HttpServer::stop() {
  impl_->stopping = true;
  asio::error_code ignored;
  impl_->acceptor.close(ignored);
  for (Connection* c : impl_->live) c->close();
}

}  // namespace p2p::net

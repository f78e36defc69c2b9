// HTTP server internals. Each connection runs two coroutines raced with ||:
// serve() reads, parses, answers; watchdog() closes the connection when its
// deadline passes (header, body, write or idle timeout), so a silent client
// costs one timer and never blocks anyone else.
#include "tracker_http.hpp"

#include <http_parser.h>
#include <sys/resource.h>

#include <array>
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <unordered_set>

#include "error.hpp"
#include "tracker_api.hpp"
#include "tracker_limits.hpp"

namespace p2p::tracker {

using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

namespace {

// Per connection: 10,000 idle keep-alive connections cost 40 MiB of buffers.
constexpr std::size_t kReadBufferBytes = 4 * 1024;
// Bodies are only for POST /publish; other requests may carry at most this.
constexpr std::size_t kMaxOtherBodyBytes = 64 * 1024;

constexpr std::string_view kRefused =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 51\r\n"
    "Connection: close\r\n\r\n{\"error\":\"too many connections to the tracker; retry\"}";
constexpr std::string_view kTimeout =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: 55\r\n"
    "Connection: close\r\n\r\n{\"error\":\"request not received in time; connection closed\"}";

std::size_t fd_budget() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  // Use what the hard limit allows; trackers hold many idle keep-alive sockets.
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  return rl.rlim_cur > limits::kReservedFds ? static_cast<std::size_t>(rl.rlim_cur) - limits::kReservedFds : 16;
}

}  // namespace

class Connection;

struct HttpServer::Impl {
  Impl(asio::io_context& io, Api& api, HttpOptions options) : io(io), acceptor(io), api(api), options(std::move(options)) {}

  asio::awaitable<void> accept_loop();

  asio::io_context& io;
  tcp::acceptor acceptor;
  Api& api;
  HttpOptions options;
  std::size_t open_connections = 0;
  std::unordered_set<Connection*> live;
  bool stopping = false;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl& server, std::string remote_ip)
      : socket_(std::move(socket)), server_(server), remote_ip_(std::move(remote_ip)),
        buffer_(new char[kReadBufferBytes]) {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    head_.reserve(256);
  }

  asio::awaitable<void> run() {
    server_.live.insert(this);
    ++server_.open_connections;
    phase_ = Phase::headers;  // a client that connects and sends nothing gets 408
    deadline_ = Clock::now() + server_.options.header_timeout;
    co_await (serve() || watchdog());
    close();
    server_.live.erase(this);
    --server_.open_connections;
  }

  void close() {
    asio::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  enum class Phase { idle, headers, body, writing };

  asio::awaitable<void> serve();
  asio::awaitable<void> watchdog();
  asio::awaitable<bool> respond(bool keep_alive);
  asio::awaitable<void> write_error(int status, std::string_view message);
  void reset_request();

  // http_parser callbacks (C API): data points back at the connection.
  static Connection& self(http_parser* p) { return *static_cast<Connection*>(p->data); }
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, std::size_t n);
  static int on_header_field(http_parser* p, const char* at, std::size_t n);
  static int on_header_value(http_parser* p, const char* at, std::size_t n);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t n);
  static int on_message_complete(http_parser* p);
  static const http_parser_settings& settings();
  int reject(int status, std::string message) {
    reject_status_ = status;
    reject_message_ = std::move(message);
    return -1;
  }
  bool count_header_bytes(std::size_t n) {
    header_bytes_ += n;
    return header_bytes_ <= limits::kMaxHeaderBytes;
  }

  tcp::socket socket_;
  HttpServer::Impl& server_;
  std::string remote_ip_;
  std::unique_ptr<char[]> buffer_;
  http_parser parser_{};
  Phase phase_ = Phase::idle;
  Clock::time_point deadline_;

  // The request being parsed.
  std::string url_, body_, field_, expect_;
  bool in_value_ = false, headers_done_ = false, want_continue_ = false;
  std::size_t header_bytes_ = 0, body_limit_ = 0;
  int reject_status_ = 0;
  std::string reject_message_;

  std::string head_;
  Response response_;
};

const http_parser_settings& Connection::settings() {
  static const http_parser_settings s = [] {
    http_parser_settings x{};
    x.on_message_begin = &Connection::on_message_begin;
    x.on_url = &Connection::on_url;
    x.on_header_field = &Connection::on_header_field;
    x.on_header_value = &Connection::on_header_value;
    x.on_headers_complete = &Connection::on_headers_complete;
    x.on_body = &Connection::on_body;
    x.on_message_complete = &Connection::on_message_complete;
    return x;
  }();
  return s;
}

int Connection::on_message_begin(http_parser* p) {
  Connection& c = self(p);
  c.phase_ = Phase::headers;
  c.deadline_ = Clock::now() + c.server_.options.header_timeout;
  return 0;
}

int Connection::on_url(http_parser* p, const char* at, std::size_t n) {
  Connection& c = self(p);
  if (c.url_.size() + n > limits::kMaxUrlBytes)
    return c.reject(414, fmt::format("request target longer than {} bytes", limits::kMaxUrlBytes));
  if (!c.count_header_bytes(n))
    return c.reject(431, fmt::format("request headers larger than {} bytes", limits::kMaxHeaderBytes));
  c.url_.append(at, n);
  return 0;
}

int Connection::on_header_field(http_parser* p, const char* at, std::size_t n) {
  Connection& c = self(p);
  if (!c.count_header_bytes(n))
    return c.reject(431, fmt::format("request headers larger than {} bytes", limits::kMaxHeaderBytes));
  if (c.in_value_) c.field_.clear();
  c.in_value_ = false;
  // Only short names matter to us (Expect); longer ones need not be kept.
  for (std::size_t i = 0; i < n && c.field_.size() < 32; ++i)
    c.field_.push_back(static_cast<char>(at[i] | 0x20));
  return 0;
}

int Connection::on_header_value(http_parser* p, const char* at, std::size_t n) {
  Connection& c = self(p);
  if (!c.count_header_bytes(n))
    return c.reject(431, fmt::format("request headers larger than {} bytes", limits::kMaxHeaderBytes));
  c.in_value_ = true;
  if (c.field_ == "expect" && c.expect_.size() < 32) c.expect_.append(at, std::min<std::size_t>(n, 32));
  return 0;
}

int Connection::on_headers_complete(http_parser* p) {
  Connection& c = self(p);
  c.headers_done_ = true;
  c.phase_ = Phase::body;
  c.deadline_ = Clock::now() + limits::kBodyTimeout;
  c.body_limit_ = std::string_view(c.url_).starts_with("/publish") ? limits::kMaxBodyBytes : kMaxOtherBodyBytes;
  const bool sized = !(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX;
  if (sized && p->content_length > c.body_limit_)
    return c.reject(413, fmt::format("request body of {} bytes is larger than the {} allowed for {}",
                                     p->content_length, c.body_limit_, c.url_.substr(0, 64)));
  if (c.expect_ == "100-continue" || c.expect_ == "100-Continue") c.want_continue_ = true;
  return 0;
}

int Connection::on_body(http_parser* p, const char* at, std::size_t n) {
  Connection& c = self(p);
  if (c.body_.size() + n > c.body_limit_)
    return c.reject(413, fmt::format("request body larger than the {} bytes allowed", c.body_limit_));
  c.body_.append(at, n);
  return 0;
}

int Connection::on_message_complete(http_parser* p) {
  // Pause so execute() returns here: the answer goes out before the next
  // pipelined request is parsed, in order.
  http_parser_pause(p, 1);
  return 0;
}

void Connection::reset_request() {
  url_.clear();
  body_.clear();
  field_.clear();
  expect_.clear();
  in_value_ = headers_done_ = want_continue_ = false;
  header_bytes_ = 0;
  reject_status_ = 0;
  reject_message_.clear();
}

asio::awaitable<void> Connection::serve() {
  std::size_t begin = 0, end = 0;
  for (;;) {
    if (begin == end) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer_.get(), kReadBufferBytes), use_tuple);
      if (ec) co_return;  // closed by the client, by a timeout or by stop()
      begin = 0;
      end = n;
    }
    std::size_t parsed = http_parser_execute(&parser_, &settings(), buffer_.get() + begin, end - begin);
    begin += parsed;
    auto err = HTTP_PARSER_ERRNO(&parser_);
    if (err == HPE_PAUSED) {
      bool keep_alive = http_should_keep_alive(&parser_) != 0 && !server_.stopping;
      if (!co_await respond(keep_alive) || !keep_alive) co_return;
      http_parser_pause(&parser_, 0);
      reset_request();
      phase_ = Phase::idle;
      deadline_ = Clock::now() + server_.options.idle_timeout;
      continue;
    }
    if (err != HPE_OK) {
      if (reject_status_ != 0) {
        co_await write_error(reject_status_, reject_message_);
      } else if (err == HPE_HEADER_OVERFLOW) {
        co_await write_error(431, fmt::format("request headers larger than {} bytes", limits::kMaxHeaderBytes));
      } else {
        co_await write_error(400, fmt::format("malformed HTTP request: {} ({})", http_errno_description(err),
                                              http_errno_name(err)));
      }
      co_return;  // the parser cannot resynchronise after an error
    }
    if (want_continue_) {
      want_continue_ = false;
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(kContinue), use_tuple);
      if (ec) co_return;
    }
  }
}

// Returns false if the answer could not be written (connection is done).
asio::awaitable<bool> Connection::respond(bool keep_alive) {
  Clock::time_point now = Clock::now();
  Request request{http_method_str(static_cast<http_method>(parser_.method)), url_, body_, remote_ip_};
  server_.api.handle(request, now, response_);
  head_.clear();
  auto o = std::back_inserter(head_);
  fmt::format_to(o, "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n", response_.status,
                 status_reason(response_.status), response_.content_type, response_.body.size(),
                 keep_alive ? "keep-alive" : "close");
  if (!response_.allow.empty()) fmt::format_to(o, "Allow: {}\r\n", response_.allow);
  head_.append("Cache-Control: no-store\r\n\r\n");
  phase_ = Phase::writing;
  deadline_ = now + server_.options.header_timeout;
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(response_.body)};
  auto [ec, n] = co_await asio::async_write(socket_, buffers, use_tuple);
  co_return !ec;
}

asio::awaitable<void> Connection::write_error(int status, std::string_view message) {
  error_response(response_, status, message);
  server_.api.metrics().count_request(Endpoint::other, status);
  head_ = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                      status, status_reason(status), response_.body.size());
  phase_ = Phase::writing;
  deadline_ = Clock::now() + server_.options.header_timeout;
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(response_.body)};
  co_await asio::async_write(socket_, buffers, use_tuple);
}

asio::awaitable<void> Connection::watchdog() {
  asio::steady_timer timer(socket_.get_executor());
  for (;;) {
    timer.expires_at(deadline_);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;  // serve() finished first and cancelled us
    if (deadline_ <= Clock::now()) break;
  }
  server_.api.metrics().count_timeout();
  if (phase_ == Phase::headers || phase_ == Phase::body) {
    // Best effort and never blocking: the send buffer is empty while we read.
    asio::error_code ignored;
    socket_.non_blocking(true, ignored);
    socket_.write_some(asio::buffer(kTimeout), ignored);
    server_.api.metrics().count_request(Endpoint::other, 408);
  }
}

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  const std::size_t cap = std::min(options.max_connections, fd_budget());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (stopping || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or a connection reset before accept: pause briefly, keep serving.
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    if (open_connections >= cap) {
      api.metrics().count_connection_refused();
      asio::error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(kRefused), ignored);
      socket.close(ignored);
      continue;
    }
    asio::error_code e2;
    socket.set_option(tcp::no_delay(true), e2);  // one write per answer; don't let Nagle hold it
    auto remote = socket.remote_endpoint(e2);
    if (e2) continue;  // already gone
    auto addr = remote.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    auto conn = std::make_shared<Connection>(std::move(socket), *this, addr.to_string());
    asio::co_spawn(io, [conn]() -> asio::awaitable<void> { co_await conn->run(); },
                   [](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       std::fprintf(stderr, "p2p-tracker: connection ended by an internal error: %s\n", ex.what());
                     }
                   });
  }
}

HttpServer::HttpServer(asio::io_context& io, Api& api, HttpOptions options)
    : impl_(std::make_unique<Impl>(io, api, std::move(options))) {
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
    throw Error(ExitCode::bind_failed, fmt::format("cannot listen on {}:{}: {}", o.host, o.port, e.code().message()));
  }
  api.attach_connection_count(&impl_->open_connections);
}

HttpServer::~HttpServer() { impl_->api.attach_connection_count(nullptr); }

std::string HttpServer::local_address() const {
  auto ep = impl_->acceptor.local_endpoint();
  auto host = ep.address().to_string();
  return ep.address().is_v6() ? fmt::format("[{}]:{}", host, ep.port()) : fmt::format("{}:{}", host, ep.port());
}

void HttpServer::start() {
  asio::co_spawn(impl_->io, impl_->accept_loop(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // the accept loop failing is fatal: surface it from run()
  });
}

void HttpServer::stop() {
  impl_->stopping = true;
  asio::error_code ignored;
  impl_->acceptor.close(ignored);
  for (Connection* c : impl_->live) c->close();
}

}  // namespace p2p::tracker

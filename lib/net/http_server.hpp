// A generic HTTP/1.1 server: an Asio accept loop and one coroutine per
// connection, requests parsed by http_parser (never by hand), keep-alive,
// pipelining, size limits and timeouts. What to answer is an HttpHandler's
// business; answers may come later (the connection waits, others go on).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "net/http_handler.hpp"
#include "net/http_limits.hpp"

namespace asio {
class io_context;
}

namespace p2p::net {

struct HttpOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 0;  // 0 = any free port
  std::chrono::milliseconds header_timeout{limits::kDefaultHeaderTimeout};
  std::chrono::milliseconds idle_timeout{limits::kDefaultIdleTimeout};
  std::size_t max_connections = limits::kMaxConnections;  // also capped by RLIMIT_NOFILE
};

class HttpServer {
 public:
  // Binds and listens at once; throws Error(bind_failed) "cannot listen on H:P: why".
  HttpServer(asio::io_context& io, HttpHandler& handler, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::string local_address() const;  // "HOST:PORT" as bound
  void start();                       // begins accepting on the io_context
  // Stops accepting and closes every connection; answers still being prepared
  // by the handler are awaited (and then fail to send).
  void stop();
  std::size_t open_connections() const;

  struct Impl;  // opaque: keeps Asio out of this header

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace p2p::net

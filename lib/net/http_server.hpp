// The tracker's HTTP/1.1 server: an Asio accept loop and one coroutine per
// connection, requests parsed by http_parser (never by hand), keep-alive,
// pipelining, size limits and timeouts. Answers come from tracker::Api.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace asio {
class io_context;
}

namespace p2p::tracker {

class Api;

struct HttpOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 0;  // 0 = any free port
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{30'000};
  std::size_t max_connections = 10'000;  // also capped by RLIMIT_NOFILE
};

class HttpServer {
 public:
  // Binds and listens at once; throws Error(bind_failed) "cannot listen on H:P: why".
  HttpServer(asio::io_context& io, Api& api, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::string local_address() const;  // "HOST:PORT" as bound
  void start();                       // begins accepting on the io_context
  void stop();                        // stops accepting and closes every connection

  struct Impl;  // opaque: keeps Asio out of this header

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace p2p::tracker

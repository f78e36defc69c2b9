// The HTTP/1.1 client of the project (trackers, p2p-seed ctl talking to a node):
// one request per connection ("Connection: close"), the answer parsed with
// http_parser, the whole exchange bounded by a deadline and a body size.
// This header has no Asio; the coroutine form is in net/http_exchange.hpp.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace p2p::net {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// Why a call got no answer: what went wrong, how far it got, whether the deadline passed.
struct HttpCallFailure {
  std::string error;
  std::string step = "connecting";
  bool timed_out = false;
};

// The request's bytes. `host_port` goes in the Host header; a POST carries
// `body` as application/json; `bearer` adds "Authorization: Bearer ...".
std::string http_request_text(std::string_view host_port, std::string_view method, std::string_view target,
                              std::string_view body, std::string_view bearer = {});

// Blocking, on a private io_context: the answer (whatever its status) within
// `timeout`, or nullopt with `failure` filled. Never throws for network trouble;
// Error(usage) if host_port is not HOST:PORT.
std::optional<HttpAnswer> http_call(const std::string& host_port, std::string_view method, const std::string& target,
                                    std::string_view body, std::string_view bearer, std::chrono::milliseconds timeout,
                                    std::size_t max_body_bytes, HttpCallFailure& failure);

}  // namespace p2p::net

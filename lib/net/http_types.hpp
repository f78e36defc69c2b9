// What an HTTP/1.1 handler sees and answers: a parsed request (views into the
// server's buffers, valid until the answer is complete) and a response the
// server serialises. No sockets here, so handlers are unit-tested on values.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace p2p::net {

inline constexpr std::string_view kJsonType = "application/json";

struct HttpHeader {
  std::string_view name;  // lower-case
  std::string_view value;
};

struct HttpRequest {
  std::string_view method;     // as sent: "GET", "POST", ...
  std::string_view target;     // path and query as sent
  std::string_view body;
  std::string_view remote_ip;  // numeric; IPv4-mapped IPv6 shown as IPv4
  std::span<const HttpHeader> headers;

  // The first header with this (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_case_name) const {
    for (const auto& h : headers)
      if (h.name == lower_case_name) return h.value;
    return std::nullopt;
  }
};

struct HttpResponse {
  int status = 200;
  std::string_view content_type = kJsonType;  // static text
  std::string body;                           // reused between requests to keep its capacity
  std::string_view allow;                     // Allow header for 405 (static text)
  void reset() {
    status = 200;
    content_type = kJsonType;
    body.clear();
    allow = {};
  }
};

// Fills `out` with {"error": message} (JSON-escaped, any bytes) and the status.
void error_response(HttpResponse& out, int status, std::string_view message);
// "OK", "Not Found", ... ; "Unknown" for statuses this server never sends.
std::string_view status_reason(int status);

}  // namespace p2p::net

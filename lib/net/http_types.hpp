// What an HTTP/1.1 handler sees and answers: a parsed request (views into the
// server's buffers, valid until the answer is complete) and a response the
// server serialises. No sockets here, so handlers are unit-tested on values.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

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

// A response whose body keeps coming after the head (Server-Sent Events): the
// handler keeps the shared_ptr and send()s; the server writes what is queued,
// in order, and ends the connection once end() is called or the client leaves
// (then closed() turns true and the handler drops it). One thread: the server's.
class HttpStream {
 public:
  // Bytes queued beyond this (a client that stopped reading) end the stream.
  static constexpr std::size_t kMaxQueuedBytes = 1024 * 1024;

  void send(std::string_view data) {
    if (closed_) return;
    if (queued_.size() + data.size() > kMaxQueuedBytes) return end();
    queued_.append(data);
    if (wake_) wake_();
  }
  void end() {
    closed_ = true;
    if (wake_) wake_();
  }
  bool closed() const { return closed_; }

  // ---- the server's side ----
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }
  bool has_queued() const { return !queued_.empty(); }
  std::string take() { return std::exchange(queued_, {}); }
  void mark_closed() {
    closed_ = true;
    wake_ = nullptr;
  }

 private:
  std::string queued_;
  std::function<void()> wake_;
  bool closed_ = false;
};

struct HttpResponse {
  int status = 200;
  std::string_view content_type = kJsonType;  // static text
  std::string body;                           // reused between requests to keep its capacity
  std::string_view allow;                     // Allow header for 405 (static text)
  std::string_view content_disposition;       // e.g. attachment; filename="x" (empty: none)
  // Set by the handler for a streamed answer: `body` is sent first, then what
  // the stream queues; no Content-Length, the connection closes at its end.
  std::shared_ptr<HttpStream> stream;
  void reset() {
    status = 200;
    content_type = kJsonType;
    body.clear();
    allow = {};
    content_disposition = {};
    stream.reset();
  }
};

// A request refused before its body is read: the status and the error message.
struct HttpRefusal {
  int status = 0;
  std::string message;
};

// Fills `out` with {"error": message} (JSON-escaped, any bytes) and the status.
void error_response(HttpResponse& out, int status, std::string_view message);
// "OK", "Not Found", ... ; "Unknown" for statuses this server never sends.
std::string_view status_reason(int status);

}  // namespace p2p::net

// The contract between the HTTP server and what it serves (the tracker's API
// today, a control API of the seeder and downloader later): the handler picks
// body limits per request target, answers requests now or later, and hears of
// what the server answered on its own (408, 413, 503 ...) so it can count it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "net/http_types.hpp"

namespace p2p::net {

// Completion of one answer: call exactly once, on the server's event-loop
// thread, after filling the response. Two words, no allocation.
class HttpDone {
 public:
  HttpDone(void (*fn)(void*), void* context) : fn_(fn), context_(context) {}
  void operator()() const { fn_(context_); }

 private:
  void (*fn_)(void*);
  void* context_;
};

enum class HttpEvent {
  connection_refused,  // over the connection cap: answered 503 and closed
  timeout,             // header, body, write or idle deadline passed
  displaced,           // at the connection cap, closed to admit a newcomer (it was idle longest)
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;

  // Largest body accepted for this request; checked against Content-Length
  // before the body is read (413), and again while it arrives.
  virtual std::size_t body_limit(std::string_view method, std::string_view target) const = 0;
  // A refusal of a body of `declared` bytes from `remote_ip` before any of it is
  // read (answered with its status, then the connection closes); nullopt to read it.
  virtual std::optional<HttpRefusal> refuse_body(std::string_view /*method*/, std::string_view /*target*/,
                                                 std::string_view /*remote_ip*/, std::uint64_t /*declared*/) {
    return std::nullopt;
  }

  // Answers `request` into `response` and then calls done(), either before
  // returning or later. The request's views and the response stay valid until
  // done() is called; the connection waits for it, so it must always come.
  virtual void handle(const HttpRequest& request, HttpResponse& response, HttpDone done) = 0;

  // The server answered `status` by itself (malformed or oversized request, 408).
  virtual void on_server_answer(int /*status*/) {}
  virtual void on_event(HttpEvent /*event*/) {}
};

}  // namespace p2p::net

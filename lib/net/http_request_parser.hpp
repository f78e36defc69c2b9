// HTTP/1.1 request parsing without a socket: http_parser (never by hand) plus
// URL, header and body limits. The server feeds it what it reads; unit tests
// and the fuzzer feed it buffers.
#pragma once
#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_types.hpp"

namespace p2p::net {

class HttpRequestParser {
 public:
  enum class Status {
    need_more,  // everything given was consumed; feed more bytes
    complete,   // a whole request is ready (method/url/headers/body); parsing paused
    failed,     // malformed or over a limit: answer error_status() and close
  };

  HttpRequestParser();
  virtual ~HttpRequestParser() = default;
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Parses from `data`; returns how many bytes were consumed. Stops right after
  // a complete request, so pipelined requests are answered in order.
  std::size_t execute(const char* data, std::size_t n);
  Status status() const;

  // The complete request (valid while status() == complete).
  std::string_view method() const;
  const std::string& url() const { return url_; }
  const std::string& body() const { return body_; }
  std::span<const HttpHeader> headers() const { return header_views_; }
  bool keep_alive() const;  // as the client asked (HTTP version, Connection header)

  // After failed: the status and message the server answers before closing.
  int error_status() const;
  std::string error_message() const;

  // True once after the headers of a request that sent "Expect: 100-continue".
  bool take_continue();
  // After a complete request has been answered: resume with the next one.
  void next_request();
  // Frees a large body's memory (not just its length) once it has been answered.
  void release_body_memory();

 protected:
  // Hooks for the connection's timeouts: the first byte of a request arrived /
  // its headers are complete (the body, if any, follows).
  virtual void message_begun() {}
  virtual void headers_complete() {}
  // The body size allowed for this request, asked once its headers are in.
  virtual std::size_t body_limit(std::string_view method, std::string_view url) const;
  // The handler's own refusal of a body of `declared` bytes before any of it is
  // read (the tracker: an address over its publish budget gets 429), if any.
  virtual std::optional<HttpRefusal> refuse_body(std::string_view /*method*/, std::string_view /*url*/,
                                                 std::uint64_t /*declared*/) {
    return std::nullopt;
  }
  // Whether a body of `declared` bytes (the limit, if the length is not declared)
  // may start now; false answers 503 before any of it is read.
  virtual bool admit_body(std::uint64_t /*declared*/) { return true; }
  // Called before `n` more body bytes are kept; false answers 503 (memory budget).
  virtual bool reserve_body(std::size_t /*n*/) { return true; }

 private:
  struct Field {
    std::string name, value;
  };
  static HttpRequestParser& self(http_parser* p) { return *static_cast<HttpRequestParser*>(p->data); }
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
  bool count_header_bytes(std::size_t n);

  http_parser parser_{};
  std::string url_, body_;
  // Fields are reused between requests (count_ says how many are live) so a
  // keep-alive connection stops allocating after its first request.
  std::vector<Field> fields_;
  std::size_t field_count_ = 0;
  std::vector<HttpHeader> header_views_;
  bool in_value_ = false, want_continue_ = false;
  std::size_t header_bytes_ = 0, body_limit_ = 0;
  int reject_status_ = 0;
  std::string reject_message_;
};

}  // namespace p2p::net

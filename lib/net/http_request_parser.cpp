// HTTP request parsing: http_parser callbacks, header fields and limits.
#include "net/http_request_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

#include "net/http_limits.hpp"

namespace p2p::net {

HttpRequestParser::HttpRequestParser() {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

const http_parser_settings& HttpRequestParser::settings() {
  static const http_parser_settings s = [] {
    http_parser_settings x{};
    x.on_message_begin = &HttpRequestParser::on_message_begin;
    x.on_url = &HttpRequestParser::on_url;
    x.on_header_field = &HttpRequestParser::on_header_field;
    x.on_header_value = &HttpRequestParser::on_header_value;
    x.on_headers_complete = &HttpRequestParser::on_headers_complete;
    x.on_body = &HttpRequestParser::on_body;
    x.on_message_complete = &HttpRequestParser::on_message_complete;
    return x;
  }();
  return s;
}

std::size_t HttpRequestParser::body_limit(std::string_view, std::string_view) const {
  return limits::kDefaultMaxBodyBytes;
}

bool HttpRequestParser::count_header_bytes(std::size_t n) {
  header_bytes_ += n;
  return header_bytes_ <= limits::kMaxHeaderBytes;
}

int HttpRequestParser::on_message_begin(http_parser* p) {
  self(p).message_begun();
  return 0;
}

int HttpRequestParser::on_url(http_parser* p, const char* at, std::size_t n) {
  HttpRequestParser& c = self(p);
  if (c.url_.size() + n > limits::kMaxUrlBytes)
    return c.reject(414, fmt::format("request target longer than {} bytes", limits::kMaxUrlBytes));
  if (!c.count_header_bytes(n))
    return c.reject(431, fmt::format("request headers larger than {} bytes", limits::kMaxHeaderBytes));
  c.url_.append(at, n);
  return 0;
}

int HttpRequestParser::on_header_field(http_parser* p, const char* at, std::size_t n) {
  HttpRequestParser& c = self(p);
  if (!c.count_header_bytes(n))
    return c.reject(431, fmt::format("request headers larger than {} bytes", limits::kMaxHeaderBytes));
  // http_parser may split a name across reads: a new field starts after a value.
  if (c.in_value_ || c.field_count_ == 0) {
    if (c.field_count_ == limits::kMaxHeaderFields)
      return c.reject(431, fmt::format("more than {} request header fields", limits::kMaxHeaderFields));
    if (c.fields_.size() == c.field_count_) c.fields_.emplace_back();
    Field& f = c.fields_[c.field_count_++];
    f.name.clear();
    f.value.clear();
  }
  c.in_value_ = false;
  std::string& name = c.fields_[c.field_count_ - 1].name;
  for (std::size_t i = 0; i < n; ++i) {
    char ch = at[i];
    name.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch | 0x20) : ch);
  }
  return 0;
}

int HttpRequestParser::on_header_value(http_parser* p, const char* at, std::size_t n) {
  HttpRequestParser& c = self(p);
  if (!c.count_header_bytes(n))
    return c.reject(431, fmt::format("request headers larger than {} bytes", limits::kMaxHeaderBytes));
  c.in_value_ = true;
  c.fields_[c.field_count_ - 1].value.append(at, n);
  return 0;
}

int HttpRequestParser::on_headers_complete(http_parser* p) {
  HttpRequestParser& c = self(p);
  c.header_views_.clear();
  for (std::size_t i = 0; i < c.field_count_; ++i)
    c.header_views_.push_back(HttpHeader{c.fields_[i].name, c.fields_[i].value});
  c.headers_complete();
  c.body_limit_ = c.body_limit(c.method(), c.url_);
  const bool sized = !(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX;
  if (sized && p->content_length > c.body_limit_)
    return c.reject(413, fmt::format("request body of {} bytes is larger than the {} allowed for {}",
                                     p->content_length, c.body_limit_, c.url_.substr(0, 64)));
  bool has_body = (p->flags & F_CHUNKED) || (sized && p->content_length > 0);
  if (has_body) {
    if (auto refusal = c.refuse_body(c.method(), c.url_, sized ? p->content_length : c.body_limit_))
      return c.reject(refusal->status, std::move(refusal->message));
  }
  if (has_body && !c.admit_body(sized ? p->content_length : c.body_limit_))
    return c.reject(503, "too many uploads in progress from this address or in all; retry shortly");
  // Room for the declared body at once (admitted above, within its limit): growing it by
  // doubling would copy megabytes on the event loop.
  if (sized && p->content_length > 0) c.body_.reserve(static_cast<std::size_t>(p->content_length));
  for (const auto& h : c.header_views_) {
    std::string_view v = h.value;
    if (h.name == "expect" && v.size() == 12 && (v == "100-continue" || v == "100-Continue")) c.want_continue_ = true;
  }
  return 0;
}

int HttpRequestParser::on_body(http_parser* p, const char* at, std::size_t n) {
  HttpRequestParser& c = self(p);
  if (c.body_.size() + n > c.body_limit_)
    return c.reject(413, fmt::format("request body larger than the {} bytes allowed", c.body_limit_));
  if (!c.reserve_body(n))
    return c.reject(503, "the server is receiving too many uploads at once; retry shortly");
  c.body_.append(at, n);
  return 0;
}

int HttpRequestParser::on_message_complete(http_parser* p) {
  // Pause so execute() returns here: the answer goes out before the next
  // pipelined request is parsed, in order.
  http_parser_pause(p, 1);
  return 0;
}

std::size_t HttpRequestParser::execute(const char* data, std::size_t n) {
  return http_parser_execute(&parser_, &settings(), data, n);
}

HttpRequestParser::Status HttpRequestParser::status() const {
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_PAUSED) return Status::complete;
  if (err != HPE_OK) return Status::failed;
  return Status::need_more;
}

std::string_view HttpRequestParser::method() const {
  return http_method_str(static_cast<http_method>(parser_.method));
}

bool HttpRequestParser::keep_alive() const { return http_should_keep_alive(&parser_) != 0; }

int HttpRequestParser::error_status() const {
  if (reject_status_ != 0) return reject_status_;
  return HTTP_PARSER_ERRNO(&parser_) == HPE_HEADER_OVERFLOW ? 431 : 400;
}

std::string HttpRequestParser::error_message() const {
  if (reject_status_ != 0) return reject_message_;
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_HEADER_OVERFLOW) return fmt::format("request headers larger than {} bytes", limits::kMaxHeaderBytes);
  return fmt::format("malformed HTTP request: {} ({})", http_errno_description(err), http_errno_name(err));
}

bool HttpRequestParser::take_continue() {
  bool w = want_continue_;
  want_continue_ = false;
  return w;
}

void HttpRequestParser::release_body_memory() {
  if (body_.capacity() > 64 * 1024) std::string().swap(body_);
}

void HttpRequestParser::next_request() {
  http_parser_pause(&parser_, 0);
  url_.clear();
  body_.clear();
  field_count_ = 0;
  header_views_.clear();
  in_value_ = want_continue_ = false;
  header_bytes_ = 0;
  reject_status_ = 0;
  reject_message_.clear();
}

}  // namespace p2p::net

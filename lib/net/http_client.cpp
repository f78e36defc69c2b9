// HTTP client: the request's bytes, the answer parsed with http_parser (body
// bounded), the exchange as a coroutine, and a blocking call on a private io_context.
#include "net/http_client.hpp"

#include <http_parser.h>

#include <asio.hpp>
#include <fmt/format.h>

#include "base/address.hpp"
#include "base/error.hpp"
#include "net/http_exchange.hpp"
#include "net/use_tuple.hpp"

namespace p2p::net {

using asio::ip::tcp;

namespace {

// Response parsing state shared with the http_parser callbacks.
struct ResponseParser {
  http_parser parser{};
  std::string body;
  bool complete = false;
  bool too_big = false;
  std::size_t max_body = 0;

  explicit ResponseParser(std::size_t max_body_bytes) : max_body(max_body_bytes) {
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = this;
  }
  static ResponseParser& self(http_parser* p) { return *static_cast<ResponseParser*>(p->data); }
  static const http_parser_settings& settings() {
    static const http_parser_settings s = [] {
      http_parser_settings x{};
      x.on_body = [](http_parser* p, const char* at, std::size_t n) {
        auto& r = self(p);
        if (r.body.size() + n > r.max_body) {
          r.too_big = true;
          return -1;
        }
        r.body.append(at, n);
        return 0;
      };
      x.on_message_complete = [](http_parser* p) {
        self(p).complete = true;
        return 0;
      };
      return x;
    }();
    return s;
  }
  // Feeds bytes (n == 0 signals end of stream); returns an error text or "".
  std::string feed(const char* data, std::size_t n) {
    http_parser_execute(&parser, &settings(), data, n);
    if (too_big) return fmt::format("answer larger than {} bytes", max_body);
    auto err = HTTP_PARSER_ERRNO(&parser);
    if (err != HPE_OK) return fmt::format("malformed HTTP answer: {}", http_errno_description(err));
    return {};
  }
};

}  // namespace

std::string http_request_text(std::string_view host_port, std::string_view method, std::string_view target,
                              std::string_view body, std::string_view bearer) {
  std::string request = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: p2p-share\r\nAccept: application/json\r\nConnection: close\r\n",
      method, target, host_port);
  if (!bearer.empty()) request += fmt::format("Authorization: Bearer {}\r\n", bearer);
  if (method == "POST")
    request += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
  request += "\r\n";
  request.append(body);
  return request;
}

asio::awaitable<void> http_exchange(std::string host, std::string port, std::string request, HttpAnswer& answer,
                                    std::string& error, std::string& step, std::size_t max_body_bytes) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, kUseTuple);
  if (rec) {
    error = fmt::format("cannot resolve {}: {}", host, rec.message());
    co_return;
  }
  tcp::socket socket(executor);
  auto [cec, ep] = co_await asio::async_connect(socket, endpoints, kUseTuple);
  if (cec) {
    error = fmt::format("cannot connect: {}", cec.message());
    co_return;
  }
  step = "sending the request";
  auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(request), kUseTuple);
  if (wec) {
    error = fmt::format("cannot send the request: {}", wec.message());
    co_return;
  }
  step = "waiting for the answer";
  ResponseParser parser(max_body_bytes);
  std::array<char, 16 * 1024> buf;
  while (!parser.complete) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), kUseTuple);
    if (ec == asio::error::eof) {
      parser.feed(nullptr, 0);  // end of stream completes a body sent without a length
      if (!parser.complete) {
        error = fmt::format("connection closed before a complete answer ({} body bytes received)", parser.body.size());
        co_return;
      }
      break;
    }
    if (ec) {
      error = fmt::format("connection failed while reading the answer: {}", ec.message());
      co_return;
    }
    error = parser.feed(buf.data(), n);
    if (!error.empty()) co_return;
  }
  answer.status = parser.parser.status_code;
  answer.body = std::move(parser.body);
}


std::optional<HttpAnswer> http_call(const std::string& host_port, std::string_view method, const std::string& target,
                                    std::string_view body, std::string_view bearer, std::chrono::milliseconds timeout,
                                    std::size_t max_body_bytes, HttpCallFailure& failure) {
  std::string why;
  auto hp = parse_host_port(host_port, why);
  if (!hp) throw Error(ExitCode::usage, fmt::format("{:?}: {}", host_port, why));
  asio::io_context io(1);
  HttpAnswer answer;
  bool done = false;
  failure = HttpCallFailure{};
  asio::co_spawn(io,
                 http_exchange(hp->host, std::to_string(hp->port), http_request_text(host_port, method, target, body, bearer),
                               answer, failure.error, failure.step, max_body_bytes),
                 [&](std::exception_ptr e) {
                   done = true;
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     failure.error = ex.what();
                   }
                 });
  io.run_for(timeout);
  failure.timed_out = !done;
  if (!done || !failure.error.empty()) return std::nullopt;
  return answer;
}

}  // namespace p2p::net

// Fuzzes the tracker's request handling without sockets. Byte 0 picks the mode:
//   'q'  the rest is a request target: split_target, Query::parse, percent_decode;
//   'h'  the rest is a raw HTTP/1.1 byte stream: HttpRequestParser (the parser the
//        server uses, with the API's body limits) and every complete request,
//        headers included, through Api::serve;
//   else the rest is requests separated by 0x1e, each "METHOD TARGET\nBODY",
//        through Api::serve.
// State (the embedded store: swarm registry, in-memory SQLite catalog) is fresh
// per input, so a crash reproduces from its input alone. Checks: nothing throws out of the API;
// every status is one the tracker documents; every JSON answer is valid JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "net/http_request_parser.hpp"
#include "tracker/api.hpp"
#include "tracker/embedded_store.hpp"
#include "tracker/query.hpp"

using namespace p2p::tracker;
using p2p::run_now;
using p2p::net::HttpRequestParser;
using p2p::net::kJsonType;
using p2p::net::status_reason;

namespace {

constexpr std::string_view kIps[] = {"10.0.0.1", "192.168.7.9", "::1", "2001:db8::5"};

struct Tracker {
  EmbeddedSwarmStore swarms{42, 30};
  EmbeddedCatalogStore catalog{":memory:"};
  EmbeddedCounterStore counters;
  Api api{swarms, catalog, counters, ApiOptions{30}};
  p2p::net::HttpResponse res;
  Clock::time_point now = Clock::time_point{} + std::chrono::hours(1000);
  std::size_t calls = 0;

  void call(std::string_view method, std::string_view target, std::string_view body,
            std::span<const p2p::net::HttpHeader> headers = {}) {
    now += std::chrono::seconds(7);
    // The embedded store answers at once: run_now throws if that ever changes.
    run_now(api.serve(p2p::net::HttpRequest{method, target, body, kIps[calls++ % 4], headers}, now, res));
    if (status_reason(res.status) == "Unknown") __builtin_trap();
    if (res.status == 405 && res.allow.empty()) __builtin_trap();
    if (res.content_type == kJsonType && !nlohmann::json::accept(res.body)) __builtin_trap();
    if (calls % 5 == 0) run_now(api.expire(now));
  }
};

void fuzz_query(std::string_view target) {
  auto [path, raw] = split_target(target);
  if (path.size() + raw.size() + (path.size() < target.size() ? 1 : 0) != target.size()) __builtin_trap();
  Query q;
  if (q.parse(raw)) {
    for (std::string_view key : {std::string_view("info_hash"), std::string_view("a"), std::string_view(""),
                                 raw.substr(0, raw.find_first_of("=&"))}) {
      auto v = q.get(key);
      std::size_t n = q.count(key), seen = 0;
      q.for_each(key, [&](std::string_view) { ++seen; });
      if (v.has_value() != (n > 0) || seen != n || n > Query::kMaxParams) __builtin_trap();
    }
  } else if (q.error().empty()) {
    __builtin_trap();
  }
  // percent_decode never grows its input, and inverts full percent-encoding.
  std::string out, encoded;
  if (percent_decode(target, out) && out.size() > target.size()) __builtin_trap();
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : target) {
    encoded.push_back('%');
    encoded.push_back(kHex[c >> 4]);
    encoded.push_back(kHex[c & 15]);
  }
  if (!percent_decode(encoded, out) || out != target) __builtin_trap();
}

void fuzz_api(std::string_view input) {
  Tracker t;
  while (!input.empty()) {
    auto sep = input.find('\x1e');
    std::string_view one = input.substr(0, sep);
    input = sep == std::string_view::npos ? std::string_view() : input.substr(sep + 1);
    auto sp = one.find(' ');
    if (sp == std::string_view::npos) continue;
    std::string_view method = one.substr(0, sp), rest = one.substr(sp + 1);
    auto nl = rest.find('\n');
    std::string_view target = rest.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    t.call(method, target, body);
  }
}

// The server's parser with the API's body limits, as net::HttpServer wires them.
class ApiParser final : public HttpRequestParser {
 public:
  explicit ApiParser(const Api& api) : api_(api) {}

 private:
  std::size_t body_limit(std::string_view method, std::string_view url) const override {
    return api_.body_limit(method, url);
  }
  const Api& api_;
};

void fuzz_http(std::string_view stream) {
  Tracker t;
  ApiParser parser(t.api);
  std::size_t at = 0;
  for (int rounds = 0; at < stream.size() && rounds < 1000; ++rounds) {
    std::size_t n = parser.execute(stream.data() + at, stream.size() - at);
    if (n > stream.size() - at) __builtin_trap();
    at += n;
    switch (parser.status()) {
      case HttpRequestParser::Status::complete: {
        t.call(parser.method(), parser.url(), parser.body(), parser.headers());
        bool keep_alive = parser.keep_alive();
        parser.next_request();
        if (!keep_alive) return;
        break;
      }
      case HttpRequestParser::Status::failed: {
        int s = parser.error_status();
        if (s != 400 && s != 413 && s != 414 && s != 431) __builtin_trap();
        if (parser.error_message().empty()) __builtin_trap();
        return;
      }
      case HttpRequestParser::Status::need_more:
        parser.take_continue();
        if (at < stream.size()) __builtin_trap();  // http_parser consumes everything unless paused or failed
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 'q': fuzz_query(rest); break;
    case 'h': fuzz_http(rest); break;
    default: fuzz_api(rest); break;
  }
  return 0;
}

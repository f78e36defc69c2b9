// The node's API over a real (empty) session, without sockets: the token and
// cross-origin checks before any change, the read endpoints, the control token file.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/file_io.hpp"
#include "net/http_server.hpp"
#include "test_support.hpp"
#include "web/node_api.hpp"
#include "web/node_web.hpp"

using namespace p2p;
using namespace p2p::web;

namespace {

class Quiet final : public SessionObserver {
 public:
  void on_listening(const std::string&, std::uint16_t) override {}
  void on_event(const std::string&, EventKind, const std::string&) override { ++events; }
  void on_progress(const TorrentStats&) override {}
  int events = 0;
};

// Sends one request through NodeApi and returns the answer (answered at once for these).
net::HttpResponse call(NodeApi& api, std::string_view method, std::string_view target, std::vector<net::HttpHeader> headers,
                       std::string_view body = {}) {
  net::HttpRequest req{method, target, body, "127.0.0.1", headers};
  net::HttpResponse out;
  bool done = false;
  api.handle(req, out, net::HttpDone([](void* d) { *static_cast<bool*>(d) = true; }, &done));
  REQUIRE(done);
  return out;
}

}  // namespace

TEST_CASE("Host must be numeric or localhost; POSTs must be same-origin", "[web]") {
  CHECK(host_allowed("127.0.0.1:8080"));
  CHECK(host_allowed("localhost:1"));
  CHECK(host_allowed("[::1]:8080"));
  CHECK(host_allowed("192.168.1.5"));
  CHECK_FALSE(host_allowed("evil.example:8080"));  // a DNS-rebinding page's own name
  CHECK_FALSE(host_allowed("127.0.0.1.evil.example:80"));
  CHECK(same_origin(std::nullopt, std::nullopt, "127.0.0.1:8080"));
  CHECK(same_origin("http://127.0.0.1:8080", "same-origin", "127.0.0.1:8080"));
  CHECK_FALSE(same_origin("http://evil.example", std::nullopt, "127.0.0.1:8080"));
  CHECK_FALSE(same_origin(std::nullopt, "cross-site", "127.0.0.1:8080"));
}

TEST_CASE("control token: 64 hex digits, saved with mode 0600, checked as a Bearer header only", "[web]") {
  test::TempDir dir;
  auto t = ControlToken::generate();
  CHECK(t.hex().size() == 64);
  CHECK(ControlToken::generate().hex() != t.hex());
  t.save(dir / "http-token");
  struct stat st {};
  REQUIRE(::stat((dir / "http-token").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read_small_file(dir / "http-token", 100) == t.hex() + "\n");
  CHECK(t.authorizes("Bearer " + t.hex()));
  CHECK(t.authorizes("bearer " + t.hex()));
  CHECK_FALSE(t.authorizes(std::nullopt));
  CHECK_FALSE(t.authorizes(t.hex()));
  CHECK_FALSE(t.authorizes("Bearer " + std::string(64, '0')));
  CHECK_FALSE(t.authorizes("Basic " + t.hex()));
}

TEST_CASE("node API on a session: reads are open, changes need the token and the page's own origin", "[web][session]") {
  test::TempDir dir;
  Quiet quiet;
  NodeWebOptions o;
  o.address = "127.0.0.1:0";
  o.token_file = dir / "http-token";
  o.identity = {"seed", false};
  NodeWeb web(quiet, o);
  SessionOptions so;
  Session session(so, web);
  auto serving = web.attach(session);
  NodeApi api(web);
  std::string host = web.address();
  std::string auth = "Bearer " + web.token().hex();
  CHECK(read_small_file(dir / "http-token", 100) == web.token().hex() + "\n");

  auto page = call(api, "GET", "/", {{"host", host}});
  CHECK(page.status == 200);
  CHECK(page.content_type.starts_with("text/html"));
  CHECK(page.body.find("/assets/app.js") != std::string::npos);
  CHECK(call(api, "GET", "/assets/app.js", {{"host", host}}).content_type.starts_with("text/javascript"));
  CHECK(call(api, "GET", "/assets/nope.js", {{"host", host}}).status == 404);
  CHECK(call(api, "GET", "/", {{"host", "evil.example:1"}}).status == 403);

  auto files = call(api, "GET", "/api/files", {{"host", host}});
  CHECK(files.status == 200);
  CHECK(nlohmann::json::parse(files.body)["files"].empty());
  CHECK(nlohmann::json::parse(files.body)["node"]["can_add"] == false);
  CHECK(call(api, "GET", "/metrics", {{"host", host}}).body.find("p2p_net_recv_payload_bytes_total 0") != std::string::npos);

  std::string target = "/api/files/" + std::string(64, 'a') + "/pause";
  CHECK(call(api, "POST", target, {{"host", host}}).status == 403);  // no token
  CHECK(call(api, "POST", target, {{"host", host}, {"authorization", "Bearer " + std::string(64, '0')}}).status == 403);
  CHECK(call(api, "POST", target, {{"host", host}, {"authorization", auth}, {"origin", "http://evil.example"}}).status == 403);
  CHECK(call(api, "POST", target, {{"host", host}, {"authorization", auth}}).status == 404);  // allowed; no such file
  CHECK(call(api, "POST", "/api/files", {{"host", host}, {"authorization", auth}}, "{\"path\": \"/x\"}").status == 409);
  CHECK(call(api, "POST", "/api/files", {{"host", host}, {"authorization", auth}}, "not json").status == 400);
  CHECK(call(api, "DELETE", "/api/files", {{"host", host}}).status == 405);

  auto events = call(api, "GET", "/events", {{"host", host}});
  CHECK(events.status == 200);
  REQUIRE(events.stream);
  CHECK(events.stream->has_queued());
  std::string first = events.stream->take();
  CHECK(first.find("event: history\n") != std::string::npos);
  CHECK(first.find("event: status\n") != std::string::npos);
}

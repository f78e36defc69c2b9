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

namespace {
// A queue that records what the API asked of it.
class FakeQueue final : public DownloadControl {
 public:
  void add(DownloadRequest r, std::function<void(ActionResult)> done) override {
    added.push_back(r);
    done({201, "queued " + r.info_hash, r.info_hash});
  }
  std::optional<ActionResult> act(const Digest& ih, DownloadAction a) override {
    actions.push_back(a);
    if (to_hex(ih) != std::string(64, 'b')) return std::nullopt;
    return ActionResult{200, "done", to_hex(ih)};
  }
  std::vector<DownloadView> list() const override {
    DownloadView v;
    v.info_hash = std::string(64, 'b');
    v.name = "waiting.bin";
    v.size = 100;
    v.state = "queued";
    v.position = 1;
    return {v};
  }
  std::vector<DownloadRequest> added;
  std::vector<DownloadAction> actions;
};
}  // namespace

TEST_CASE("POST /api/downloads: malformed requests are refused before the queue hears of them", "[web][session]") {
  test::TempDir dir;
  Quiet quiet;
  NodeWebOptions o;
  o.token_file = dir / "http-token";
  o.identity = {"seed", false};
  NodeWeb web(quiet, o);
  Session session(SessionOptions{}, web);
  auto serving = web.attach(session);
  NodeApi api(web);
  std::string host = web.address();
  std::string auth = "Bearer " + web.token().hex();  // headers are views: the strings must outlive them
  std::vector<net::HttpHeader> h{{"host", host}, {"authorization", auth}};

  // Without a queue (p2p-download): 409.
  CHECK(call(api, "POST", "/api/downloads", h, R"({"info_hash": ")" + std::string(64, 'a') + "\"}").status == 409);
  CHECK(call(api, "GET", "/api/downloads", {{"host", host}}).status == 409);

  FakeQueue queue;
  web.set_download_control(&queue, {"127.0.0.1:7000"});
  CHECK(api.body_limit("POST", "/api/downloads") == kMaxMetaUploadBytes);
  CHECK(api.body_limit("POST", "/api/files") < 64 * 1024);
  for (const std::string& bad : std::vector<std::string>{"not json", "[1]", "{}",
                          R"({"meta": "a path, not an object"})", R"({"info_hash": "abc"})",
                          R"({"meta": {}, "meta_path": "/x"})", R"({"meta_path": ""})",
                          R"({"info_hash": ")" + std::string(64, 'a') + R"(", "trackers": "one"})",
                          R"({"info_hash": ")" + std::string(64, 'a') + R"(", "only": [1]})",
                          R"({"meta": {"a": {"b": {"c": {"d": 1}}}}})"}) {
    auto r = call(api, "POST", "/api/downloads", h, bad);
    INFO(bad);
    CHECK(r.status == 400);
    CHECK(r.body.find("POST /api/downloads") != std::string::npos);
  }
  CHECK(queue.added.empty());
  CHECK(call(api, "POST", "/api/downloads", {{"host", host}}, R"({"meta_path": "/x"})").status == 403);  // no token
  CHECK(queue.added.empty());

  auto r = call(api, "POST", "/api/downloads", h,
                R"({"info_hash": ")" + std::string(64, 'A') + R"(", "trackers": ["10.0.0.1:7000"], "only": ["a/*"]})");
  CHECK(r.status == 201);
  REQUIRE(queue.added.size() == 1);
  CHECK(queue.added[0].info_hash == std::string(64, 'a'));  // normalized to lowercase
  CHECK(queue.added[0].trackers == std::vector<std::string>{"10.0.0.1:7000"});
  CHECK(queue.added[0].only == std::vector<std::string>{"a/*"});
  CHECK(call(api, "POST", "/api/downloads", h, R"({"meta": {"name": "x.bin", "size": 1}})").status == 201);
  REQUIRE(queue.added.size() == 2);
  CHECK(nlohmann::json::parse(queue.added[1].meta_text)["name"] == "x.bin");

  // The queue's controls, and /api/files/<ih>/pause reaching it for its downloads.
  std::string b(64, 'b');
  CHECK(call(api, "POST", "/api/downloads/" + b + "/up", h).status == 200);
  CHECK(call(api, "POST", "/api/downloads/" + b + "/sideways", h).status == 404);
  CHECK(call(api, "POST", "/api/downloads/xyz/up", h).status == 400);
  CHECK(call(api, "POST", "/api/files/" + b + "/pause", h).status == 200);
  CHECK(queue.actions == std::vector<DownloadAction>{DownloadAction::up, DownloadAction::pause});
  CHECK(call(api, "POST", "/api/files/" + std::string(64, 'c') + "/remove", h).status == 404);  // not queued, not served

  auto list = nlohmann::json::parse(call(api, "GET", "/api/downloads", {{"host", host}}).body);
  CHECK(list["downloads"][0]["name"] == "waiting.bin");
  auto files = nlohmann::json::parse(call(api, "GET", "/api/files", {{"host", host}}).body);
  CHECK(files["node"]["can_download"] == true);
  CHECK(files["node"]["trackers"][0] == "127.0.0.1:7000");
  REQUIRE(files["files"].size() == 1);  // a queued download is listed with the session's files
  CHECK(files["files"][0]["phase"] == "queued");
  CHECK(files["files"][0]["download"]["position"] == 1);
  CHECK(files["files"][0]["limited_by"]["kind"] == "queue");
}

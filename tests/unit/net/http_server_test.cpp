// The generic HTTP server with a handler of its own (no tracker): answers that
// come later than the request, in order under pipelining; body limits chosen
// per target; header fields reach the handler; server-side answers reported.
#include <catch2/catch.hpp>

#include <asio.hpp>
#include <deque>
#include <thread>

#include "net/http_server.hpp"

using namespace p2p;
using namespace p2p::net;
using namespace std::chrono_literals;

namespace {

// Echoes "METHOD TARGET x-test BODY"; /slow answers 50 ms later (as a store
// round trip would), so a pipelined fast request behind it must still wait.
class TestHandler final : public HttpHandler {
 public:
  explicit TestHandler(asio::io_context& io) : io_(io) {}

  std::size_t body_limit(std::string_view, std::string_view target) const override {
    return target.starts_with("/big") ? 1000 : 10;
  }
  void handle(const HttpRequest& request, HttpResponse& response, HttpDone done) override {
    response.content_type = "text/plain";
    response.body = std::string(request.method) + " " + std::string(request.target) + " " +
                    std::string(request.header("x-test").value_or("-")) + " " + std::string(request.body);
    if (request.target == "/stream") {
      // A streamed answer: one part now, one 20 ms later, then the end.
      response.content_type = "text/event-stream";
      response.body = "first\n";
      response.stream = std::make_shared<HttpStream>();
      streams.push_back(response.stream);
      auto timer = std::make_shared<asio::steady_timer>(io_, 20ms);
      timer->async_wait([timer, s = response.stream](asio::error_code) {
        s->send("second\n");
        s->end();
      });
      return done();
    }
    if (request.target == "/forever") {  // a stream that never ends by itself
      response.content_type = "text/event-stream";
      response.stream = std::make_shared<HttpStream>();
      response.stream->send("hello\n");
      streams.push_back(response.stream);
      return done();
    }
    if (!request.target.starts_with("/slow")) return done();
    auto timer = std::make_shared<asio::steady_timer>(io_, 50ms);
    timer->async_wait([timer, done](asio::error_code) { done(); });
  }
  void on_server_answer(int status) override { server_answers.push_back(status); }
  void on_event(HttpEvent e) override { timeouts += e == HttpEvent::timeout; }

  std::vector<int> server_answers;
  int timeouts = 0;
  std::vector<std::shared_ptr<HttpStream>> streams;

 private:
  asio::io_context& io_;
};

struct LiveServer {
  asio::io_context io;
  TestHandler handler{io};
  HttpServer server{io, handler, HttpOptions{"127.0.0.1", 0, 500ms, 2000ms}};
  std::thread thread;
  std::uint16_t port = 0;

  LiveServer() {
    port = static_cast<std::uint16_t>(std::stoi(server.local_address().substr(server.local_address().rfind(':') + 1)));
    server.start();
    thread = std::thread([this] { io.run(); });
  }
  ~LiveServer() { stop(); }
  // Stops the server and joins its thread: the handler's records may be read after.
  void stop() {
    if (!thread.joinable()) return;
    asio::post(io, [this] { server.stop(); });
    thread.join();
  }
  // Sends raw bytes on one connection and reads until the server closes it.
  std::string exchange(const std::string& bytes) {
    asio::io_context client;
    asio::ip::tcp::socket s(client);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(bytes));
    std::string out;
    asio::error_code ec;
    asio::read(s, asio::dynamic_buffer(out), ec);
    return out;
  }
};

}  // namespace

TEST_CASE("http server: late answers keep pipelined order; headers reach the handler", "[http]") {
  LiveServer srv;
  std::string out = srv.exchange(
      "GET /slow HTTP/1.1\r\nHost: x\r\nX-Test: one\r\n\r\n"
      "POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto slow = out.find("GET /slow one ");
  auto fast = out.find("POST /fast - abc");
  auto end = out.find("GET /end - ");
  REQUIRE(slow != std::string::npos);
  REQUIRE(fast != std::string::npos);
  REQUIRE(end != std::string::npos);
  CHECK(slow < fast);
  CHECK(fast < end);
  CHECK(out.find("Content-Type: text/plain") != std::string::npos);
}

TEST_CASE("http server: the handler's body limit is enforced before the body is read", "[http]") {
  LiveServer srv;
  std::string small = srv.exchange("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
  CHECK(small.starts_with("HTTP/1.1 413"));
  std::string big = srv.exchange("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world");
  CHECK(big.starts_with("HTTP/1.1 200"));
  CHECK(big.find("hello world") != std::string::npos);
  std::string bad = srv.exchange("NOT HTTP\r\n\r\n");
  CHECK(bad.starts_with("HTTP/1.1 400"));
  std::string silent = srv.exchange("GET / HTTP/1.1\r\n");  // never finishes its headers
  CHECK(silent.starts_with("HTTP/1.1 408"));
  srv.stop();
  CHECK(srv.handler.server_answers == std::vector<int>{413, 400, 408});
  CHECK(srv.handler.timeouts == 1);
}

TEST_CASE("http server: a streamed answer is written as it comes, without Content-Length, then the connection closes", "[http]") {
  LiveServer srv;
  std::string out = srv.exchange("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(out.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(out.find("Content-Type: text/event-stream") != std::string::npos);
  CHECK(out.find("Content-Length") == std::string::npos);
  CHECK(out.find("Connection: close") != std::string::npos);
  CHECK(out.ends_with("\r\n\r\nfirst\nsecond\n"));
}

TEST_CASE("http server: a client that leaves a stream, or the server stopping, marks it closed for the handler", "[http]") {
  LiveServer srv;
  {
    asio::io_context client;
    asio::ip::tcp::socket s(client);
    s.connect({asio::ip::make_address("127.0.0.1"), srv.port});
    asio::write(s, asio::buffer(std::string("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::string got;
    asio::error_code ec;
    while (got.find("hello\n") == std::string::npos && !ec) {
      char buf[256];
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
    }
    REQUIRE(got.find("hello\n") != std::string::npos);
  }  // the client hangs up; the server notices at its next write or when stopping
  srv.stop();
  REQUIRE(srv.handler.streams.size() == 1);
  CHECK(srv.handler.streams[0]->closed());
}

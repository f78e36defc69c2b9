// Tracker client against the real tracker HTTP server (in-process, loopback),
// and against broken servers: refused, silent, garbage, error answers.
#include <catch2/catch.hpp>

#include <asio.hpp>
#include <thread>

#include "base/error.hpp"
#include "format/meta.hpp"
#include "test_support.hpp"
#include "storage/meta_creation.hpp"
#include "tracker/api.hpp"
#include "tracker/embedded_store.hpp"
#include "tracker_client/tracker_client.hpp"
#include "net/http_server.hpp"

using namespace p2p;
using namespace p2p::tracker;
using namespace p2p::tracker_client;
using namespace std::chrono_literals;

namespace {

// The real server stack on an ephemeral loopback port, run on a thread.
struct LiveTracker {
  EmbeddedSwarmStore swarms{5, 45};
  EmbeddedCatalogStore catalog{":memory:"};
  EmbeddedCounterStore counters;
  Api api{swarms, catalog, counters, ApiOptions{45}};
  asio::io_context io;
  net::HttpServer server{io, api, net::HttpOptions{"127.0.0.1", 0}};
  std::thread thread;
  std::string address = server.local_address();

  LiveTracker() {
    server.start();
    thread = std::thread([this] { io.run(); });
  }
  ~LiveTracker() {
    asio::post(io, [this] { server.stop(); });
    thread.join();
  }
};

// A server that answers every connection with fixed bytes (or never, if empty).
struct FakeServer {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::string address = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  std::thread thread;
  explicit FakeServer(std::string reply) {
    thread = std::thread([this, reply] {
      asio::error_code ec;
      auto sock = acceptor.accept(ec);
      if (ec) return;
      std::string request;
      asio::read_until(sock, asio::dynamic_buffer(request), "\r\n\r\n", ec);  // unread bytes would make close() a reset
      if (reply.empty()) {
        char c;
        sock.read_some(asio::buffer(&c, 1), ec);  // say nothing until the client gives up
        return;
      }
      asio::write(sock, asio::buffer(reply), ec);
    });
  }
  ~FakeServer() {
    asio::error_code ec;
    acceptor.close(ec);
    thread.join();
  }
};

std::string ok_with(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

bool tracker_error_containing(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == ExitCode::tracker);
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
    return std::string(e.what()).find(needle) != std::string::npos;
  }
  FAIL("no error thrown; wanted one containing " << needle);
  return false;
}

}  // namespace

TEST_CASE("client announces, publishes, looks up and fetches metas", "[tracker]") {
  LiveTracker t;
  test::TempDir dir;
  test::write_file(dir / "song.ogg", test::random_bytes(50000, 3));
  Meta meta = create_meta(dir / "song.ogg", 0, {t.address});
  std::string json = meta_to_json(meta);

  publish_meta(t.address, json, 5s);
  publish_meta(t.address, json, 5s);  // already present is success
  CHECK(lookup_info_hash_by_name(t.address, "song.ogg", 5s) == meta.info_hash_hex());
  Meta fetched = parse_meta(fetch_meta_json(t.address, meta.info_hash_hex(), 5s), "fetched");
  CHECK(fetched.info_hash == meta.info_hash);

  AnnounceRequest seeder{meta.info_hash, random_peer_id(), 7001, AnnounceEvent::started, 0, 0, 0, 50};
  auto r1 = announce(t.address, seeder, 5s);
  CHECK(r1.interval == 45);
  CHECK(r1.peers.empty());
  CHECK(r1.seeders == 1);
  AnnounceRequest leecher{meta.info_hash, random_peer_id(), 7002, AnnounceEvent::started, 50000, 0, 0, 50};
  auto r2 = announce(t.address, leecher, 5s);
  REQUIRE(r2.peers.size() == 1);
  CHECK(r2.peers[0] == wire::PeerAddress{"127.0.0.1", 7001});
  CHECK(r2.leechers == 1);
  leecher.event = AnnounceEvent::stopped;
  CHECK(announce(t.address, leecher, 5s).leechers == 0);
}

TEST_CASE("client reports the tracker's own error text for refusals", "[tracker]") {
  LiveTracker t;
  tracker_error_containing([&] { lookup_info_hash_by_name(t.address, "nothing.bin", 5s); },
                           "HTTP 404 for GET /lookup: lookup: no published file named");
  tracker_error_containing([&] { fetch_meta_json(t.address, std::string(64, 'e'), 5s); }, "HTTP 404");
  tracker_error_containing([&] { publish_meta(t.address, "{\"version\":1}", 5s); }, "HTTP 400 for POST /publish");
  tracker_error_containing([&] { fetch_meta_json(t.address, "zz", 5s); }, "not 64 hex digits");
  tracker_error_containing([&] { announce(t.address, AnnounceRequest{{}, "short", 1, AnnounceEvent::none}, 5s); }, "peer_id must be 40 hex");
}

TEST_CASE("client fails cleanly on refused, silent and garbage servers", "[tracker]") {
  std::string closed_port;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = "127.0.0.1:" + std::to_string(a.local_endpoint().port());
  }
  tracker_error_containing([&] { lookup_info_hash_by_name(closed_port, "x", 2s); }, "cannot connect");
  tracker_error_containing([&] { lookup_info_hash_by_name("not-an-address", "x", 2s); }, "tracker not-an-address");

  {
    FakeServer silent("");
    auto start = std::chrono::steady_clock::now();
    tracker_error_containing([&] { lookup_info_hash_by_name(silent.address, "x", 300ms); }, "no answer within 300 ms");
    CHECK(std::chrono::steady_clock::now() - start < 2s);
  }
  {
    FakeServer garbage("this is not HTTP\r\n\r\n");
    tracker_error_containing([&] { lookup_info_hash_by_name(garbage.address, "x", 2s); }, "malformed HTTP answer");
  }
  {
    FakeServer not_json(ok_with("hello"));
    tracker_error_containing([&] { lookup_info_hash_by_name(not_json.address, "x", 2s); }, "not a JSON object");
  }
  {
    FakeServer bad_peer(ok_with(R"({"interval":10,"peers":[{"ip":"evil.com","port":1}],"seeders":0,"leechers":0})"));
    AnnounceRequest req{{}, std::string(40, 'a'), 1, AnnounceEvent::none};
    tracker_error_containing([&] { announce(bad_peer.address, req, 2s); }, "is not a numeric address");
  }
  {
    FakeServer bad_interval(ok_with(R"({"interval":0,"peers":[],"seeders":0,"leechers":0})"));
    AnnounceRequest req{{}, std::string(40, 'a'), 1, AnnounceEvent::none};
    tracker_error_containing([&] { announce(bad_interval.address, req, 2s); }, "\"interval\" must be an integer");
  }
  {
    FakeServer truncated("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"file\":");
    tracker_error_containing([&] { lookup_info_hash_by_name(truncated.address, "x", 2s); },
                             "connection closed before a complete answer");
  }
}

TEST_CASE("announce events: their words, their deadlines, and the delay before the next announce", "[tracker]") {
  CHECK(std::string(event_word(AnnounceEvent::none)).empty());
  CHECK(std::string(event_word(AnnounceEvent::started)) == "started");
  CHECK(std::string(event_word(AnnounceEvent::completed)) == "completed");
  CHECK(std::string(event_word(AnnounceEvent::stopped)) == "stopped");
  CHECK(announce_timeout(AnnounceEvent::stopped) == kStoppedAnnounceTimeout);
  for (auto e : {AnnounceEvent::none, AnnounceEvent::started, AnnounceEvent::completed})
    CHECK(announce_timeout(e) == kTrackerTimeout);
  CHECK(kStoppedAnnounceTimeout < kTrackerTimeout);
  // Any interval a tracker may send (1 s .. a day) ends up within 5 s .. 1 h.
  CHECK(next_announce_after(1) == 5s);
  CHECK(next_announce_after(45) == 45s);
  CHECK(next_announce_after(3600) == 3600s);
  CHECK(next_announce_after(24 * 3600) == 3600s);
}

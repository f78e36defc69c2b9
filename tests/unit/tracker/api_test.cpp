// Tracker API without sockets: every endpoint's answer and every refusal.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "format/meta.hpp"
#include "published_meta.hpp"
#include "test_support.hpp"
#include "storage/meta_creation.hpp"
#include "tracker/api.hpp"
#include "tracker/embedded_store.hpp"
#include "tracker/tracker_limits.hpp"

using namespace p2p;
using test::meta_json_for;
using namespace p2p::tracker;
using p2p::net::HttpHeader;
using p2p::net::HttpRequest;
using p2p::net::HttpResponse;
using p2p::net::kJsonType;
using nlohmann::json;

namespace {

const std::string H(64, 'a');
const std::string P1(40, '1'), P2(40, '2');

struct Fixture {
  EmbeddedSwarmStore swarm_store{11, 30};
  EmbeddedCatalogStore catalog_store{":memory:"};
  EmbeddedCounterStore counter_store;
  SwarmRegistry& swarms = swarm_store.registry();
  Catalog& catalog = catalog_store.catalog();
  Api api{swarm_store, catalog_store, counter_store, ApiOptions{30}};
  HttpResponse res;
  Clock::time_point now = Clock::now();

  // The embedded store answers at once, so every request completes without an event loop.
  HttpResponse& call(std::string_view method, std::string_view target, std::string_view body = {},
                     std::string_view ip = "10.0.0.1", std::vector<HttpHeader> headers = {}) {
    run_now(api.serve(HttpRequest{method, target, body, ip, headers}, now, res));
    return res;
  }
  json get_json(std::string_view target, int want_status = 200) {
    call("GET", target);
    INFO(target << " -> " << res.body);
    REQUIRE(res.status == want_status);
    CHECK(res.content_type == kJsonType);
    return json::parse(res.body);
  }
  std::string announce_url(const std::string& peer, int port, int left, std::string extra = "") {
    return "/announce?info_hash=" + H + "&peer_id=" + peer + "&port=" + std::to_string(port) +
           "&left=" + std::to_string(left) + extra;
  }
};

}  // namespace

TEST_CASE("announce answers interval, other peers and counts", "[tracker]") {
  Fixture f;
  auto a = f.get_json(f.announce_url(P1, 6881, 0, "&event=started"));
  CHECK(a["interval"] == 30);
  CHECK(a["peers"].empty());
  CHECK(a["seeders"] == 1);
  auto b = f.get_json(f.announce_url(P2, 6882, 10, "&uploaded=0&downloaded=0&numwant=5&compact=1"));
  REQUIRE(b["peers"].size() == 1);
  CHECK(b["peers"][0]["ip"] == "10.0.0.1");
  CHECK(b["peers"][0]["port"] == 6881);
  CHECK(b["leechers"] == 1);
  auto c = f.get_json(f.announce_url(P2, 6882, 10, "&numwant=0"));
  CHECK(c["peers"].empty());
  f.get_json(f.announce_url(P1, 6881, 0, "&event=stopped"));
  auto s = f.get_json("/scrape?info_hash=" + H);
  CHECK(s["files"][H]["seeders"] == 0);
  CHECK(s["files"][H]["leechers"] == 1);
}

TEST_CASE("announce refuses malformed or missing parameters with 400 and a reason", "[tracker]") {
  Fixture f;
  auto bad = [&](const std::string& target, const std::string& needle) {
    auto j = f.get_json(target, 400);
    INFO(j.dump());
    CHECK(j["error"].get<std::string>().find(needle) != std::string::npos);
  };
  const std::string ok_rest = "&peer_id=" + P1 + "&port=1&left=0";
  bad("/announce?peer_id=" + P1 + "&port=1&left=0", "missing parameter info_hash");
  bad("/announce?info_hash=abc" + ok_rest, "info_hash must be 64 hex");
  bad("/announce?info_hash=" + std::string(63, 'a') + "g" + ok_rest, "info_hash must be 64 hex");
  bad("/announce?info_hash=" + H + "&port=1&left=0", "missing parameter peer_id");
  bad("/announce?info_hash=" + H + "&peer_id=xyz&port=1&left=0", "peer_id must be 40 hex");
  bad("/announce?info_hash=" + H + "&peer_id=" + P1 + "&left=0", "missing parameter port");
  bad("/announce?info_hash=" + H + "&peer_id=" + P1 + "&port=0&left=0", "port must be in 1-65535");
  bad("/announce?info_hash=" + H + "&peer_id=" + P1 + "&port=70000&left=0", "port must be an integer");
  bad("/announce?info_hash=" + H + "&peer_id=" + P1 + "&port=-1&left=0", "port must be an integer");
  bad("/announce?info_hash=" + H + "&peer_id=" + P1 + "&port=1", "missing parameter left");
  bad("/announce?info_hash=" + H + ok_rest + "&event=paused", "event must be");
  bad("/announce?info_hash=" + H + ok_rest + "&numwant=lots", "numwant must be");
  bad("/announce?info_hash=" + H + ok_rest + "&uploaded=1.5", "uploaded must be");
  bad("/announce?info_hash=%zz" + ok_rest, "malformed percent-escape");
  CHECK(f.swarms.swarm_count() == 0);
}

TEST_CASE("numwant is capped and percent-encoded values are decoded", "[tracker]") {
  Fixture f;
  for (int i = 0; i < 300; ++i) {
    char id[41];
    std::snprintf(id, sizeof id, "%040x", i);
    f.call("GET", f.announce_url(id, 1000 + i, 5));
  }
  auto j = f.get_json(f.announce_url(P1, 1, 5, "&numwant=100000"));
  CHECK(j["peers"].size() == 200);
  j = f.get_json("/announce?info_hash=" + H + "&peer_id=%31" + std::string(39, '1') + "&port=1&left=5");
  CHECK(j["peers"].size() == 50);  // default numwant; the asker (peer 1..1) is not repeated
}

TEST_CASE("unknown paths are 404, wrong methods 405 with Allow", "[tracker]") {
  Fixture f;
  auto j = f.get_json("/nope", 404);
  CHECK(j["error"].get<std::string>().find("/nope") != std::string::npos);
  f.call("POST", "/announce");
  CHECK(f.res.status == 405);
  CHECK(f.res.allow == "GET");
  f.call("GET", "/publish");
  CHECK(f.res.status == 405);
  CHECK(f.res.allow == "POST");
  f.call("DELETE", "/files");
  CHECK(f.res.status == 405);
}

TEST_CASE("publish, meta, files and lookup work together", "[tracker]") {
  Fixture f;
  test::TempDir dir;
  std::string meta = meta_json_for(dir, "hello world.txt", 40000, 21);
  std::string hash = parse_meta(meta, "t").info_hash_hex();

  f.call("POST", "/publish", meta);
  REQUIRE(f.res.status == 201);
  CHECK(json::parse(f.res.body)["info_hash"] == hash);
  f.call("POST", "/publish", meta);
  CHECK(f.res.status == 200);
  CHECK(json::parse(f.res.body)["created"] == false);

  f.call("GET", "/meta/" + hash);
  REQUIRE(f.res.status == 200);
  CHECK(parse_meta(f.res.body, "served").info_hash_hex() == hash);
  f.get_json("/meta/" + std::string(64, '0'), 404);
  f.get_json("/meta/xyz", 400);

  f.call("GET", "/announce?info_hash=" + hash + "&peer_id=" + P1 + "&port=7001&left=0&event=started");
  f.call("GET", "/announce?info_hash=" + hash + "&peer_id=" + P2 + "&port=7002&left=9&event=started");
  f.call("GET", "/announce?info_hash=" + hash + "&peer_id=" + P2 + "&port=7002&left=0&event=completed");

  auto files = f.get_json("/files");
  REQUIRE(files["files"].size() == 1);
  auto rec = files["files"][0];
  CHECK(rec["name"] == "hello world.txt");
  CHECK(rec["size"] == 40000);
  CHECK(rec["info_hash"] == hash);
  CHECK(rec["seeders"] == 2);
  CHECK(rec["leechers"] == 0);
  CHECK(rec["completed"] == 1);
  CHECK(f.get_json("/files?q=world")["files"].size() == 1);
  CHECK(f.get_json("/files?q=nothing")["files"].empty());
  CHECK(f.get_json("/files?limit=0")["truncated"] == true);

  auto by_name = f.get_json("/lookup?name=hello%20world.txt");
  CHECK(by_name["file"]["info_hash"] == hash);
  CHECK(by_name["peers"].size() == 2);
  CHECK(f.get_json("/lookup?file_name=hello+world.txt")["file"]["info_hash"] == hash);
  CHECK(f.get_json("/lookup?info_hash=" + hash)["file"]["name"] == "hello world.txt");
  f.get_json("/lookup?name=missing.txt", 404);
  f.get_json("/lookup?info_hash=" + std::string(64, 'f'), 404);
  f.get_json("/lookup", 400);
  f.get_json("/lookup?name=a&info_hash=" + hash, 400);
  f.get_json("/lookup?info_hash=12", 400);

  auto scrape = f.get_json("/scrape?info_hash=" + hash + "&info_hash=" + H);
  CHECK(scrape["files"][hash]["completed"] == 1);
  CHECK(scrape["files"][H]["seeders"] == 0);
}

TEST_CASE("publish refuses an empty, invalid or tampered meta with 400 and stores nothing", "[tracker]") {
  Fixture f;
  test::TempDir dir;
  f.call("POST", "/publish", "");
  CHECK(f.res.status == 400);
  f.call("POST", "/publish", "{not json");
  CHECK(f.res.status == 400);
  CHECK(json::parse(f.res.body)["error"].get<std::string>().find("not valid JSON") != std::string::npos);
  auto j = json::parse(meta_json_for(dir, "x.bin", 30000, 22));
  j["name"] = "../etc/passwd";
  f.call("POST", "/publish", j.dump());
  CHECK(f.res.status == 400);
  CHECK(f.catalog.size() == 0);
}

TEST_CASE("publish refuses a private meta with 403 and stores nothing, key included", "[tracker][private]") {
  Fixture f;
  test::TempDir dir;
  auto path = dir / "secret.bin";
  test::write_file(path, test::random_bytes(40000, 5));
  Meta m = create_meta(path, 0, {}, false, true);
  f.call("POST", "/publish", meta_to_json(m));
  CHECK(f.res.status == 403);
  CHECK(json::parse(f.res.body)["error"].get<std::string>().find("private") != std::string::npos);
  CHECK(f.catalog.size() == 0);
  f.call("GET", "/meta/" + m.info_hash_hex());
  CHECK(f.res.status == 404);
  CHECK(f.res.body.find(to_hex(m.swarm_key)) == std::string::npos);
}

TEST_CASE("scrape needs 1..64 valid hashes", "[tracker]") {
  Fixture f;
  f.get_json("/scrape", 400);
  f.get_json("/scrape?info_hash=00", 400);
  std::string many;
  for (int i = 0; i < 65; ++i) many += (i ? "&" : "") + std::string("info_hash=") + H;
  auto j = f.get_json("/scrape?" + many, 400);
  CHECK(j["error"].get<std::string>().find("at most 64") != std::string::npos);
}

TEST_CASE("metrics, stats and the dashboard render", "[tracker]") {
  Fixture f;
  f.call("GET", f.announce_url(P1, 1, 0));
  f.call("GET", "/nope");
  f.call("GET", "/metrics");
  REQUIRE(f.res.status == 200);
  CHECK(f.res.content_type.starts_with("text/plain"));
  CHECK(f.res.body.find("p2p_tracker_requests_total{endpoint=\"announce\",status=\"200\"} 1") != std::string::npos);
  CHECK(f.res.body.find("p2p_tracker_requests_total{endpoint=\"other\",status=\"404\"} 1") != std::string::npos);
  CHECK(f.res.body.find("p2p_tracker_announce_duration_seconds_count 1") != std::string::npos);
  CHECK(f.res.body.find("p2p_tracker_swarms 1") != std::string::npos);
  auto stats = f.get_json("/stats");
  CHECK(stats["peers"] == 1);
  CHECK(stats["swarms"] == 1);
  f.call("GET", "/");
  CHECK(f.res.status == 200);
  CHECK(f.res.content_type.starts_with("text/html"));
  CHECK(f.res.body.find("setInterval(refresh, 2000)") != std::string::npos);
  CHECK(f.res.body.find("http") == std::string::npos);  // no external resources
}

TEST_CASE("expiry drops peers after two intervals", "[tracker]") {
  Fixture f;
  f.call("GET", f.announce_url(P1, 1, 0));
  CHECK(run_now(f.api.expire(f.now + std::chrono::seconds(59))) == 0);
  CHECK(run_now(f.api.expire(f.now + std::chrono::seconds(61))) == 1);
  CHECK(f.swarms.peer_count() == 0);
  CHECK(run_now(f.api.gauges()).expired_peers == 1);
}

TEST_CASE("publish answers an owner token once; withdraw needs it", "[tracker]") {
  Fixture f;
  test::TempDir dir;
  std::string meta = meta_json_for(dir, "mine.bin", 30000, 31);
  std::string hash = parse_meta(meta, "t").info_hash_hex();
  f.call("POST", "/publish", meta);
  REQUIRE(f.res.status == 201);
  std::string token = json::parse(f.res.body)["owner_token"];
  CHECK(token.size() == 64);
  f.call("POST", "/publish", meta);
  CHECK(json::parse(f.res.body).contains("owner_token") == false);  // only the first publisher learns it

  const std::string target = "/withdraw?info_hash=" + hash;
  auto withdraw = [&](std::vector<HttpHeader> headers) { return f.call("POST", target, {}, "10.0.0.1", headers).status; };
  CHECK(withdraw({}) == 403);
  CHECK(f.res.body.find("Authorization") != std::string::npos);
  CHECK(withdraw({{"authorization", "Bearer " + std::string(64, '0')}}) == 403);
  CHECK(f.res.body.find("wrong owner token") != std::string::npos);
  CHECK(withdraw({{"authorization", "Basic " + token}}) == 403);
  CHECK(withdraw({{"authorization", "Bearer " + token.substr(1)}}) == 403);
  CHECK(f.get_json("/lookup?info_hash=" + hash)["file"]["name"] == "mine.bin");  // nothing changed
  f.call("GET", target);
  CHECK(f.res.status == 405);

  CHECK(withdraw({{"authorization", "bearer  " + token + " "}}) == 200);
  CHECK(json::parse(f.res.body)["withdrawn"] == true);
  f.get_json("/lookup?info_hash=" + hash, 404);
  f.get_json("/meta/" + hash, 404);
  CHECK(f.get_json("/files")["count"] == 0);
  CHECK(withdraw({{"authorization", "Bearer " + token}}) == 404);
  f.get_json("/withdraw?info_hash=" + hash, 405);
  f.call("POST", "/withdraw?info_hash=xyz", {}, "10.0.0.1", {{"authorization", "Bearer " + token}});
  CHECK(f.res.status == 400);

  f.call("POST", "/publish", meta);  // published again: a new owner
  CHECK(f.res.status == 201);
  CHECK(json::parse(f.res.body)["owner_token"] != token);
}

TEST_CASE("body limits are per target", "[tracker]") {
  Fixture f;
  CHECK(f.api.body_limit("POST", "/publish") == tracker::limits::kMaxPublishBytes);
  CHECK(f.api.body_limit("POST", "/publish?x=1") == tracker::limits::kMaxPublishBytes);
  CHECK(f.api.body_limit("POST", "/files") == tracker::limits::kMaxOtherBodyBytes);
  CHECK(f.api.body_limit("POST", "/publishing") == tracker::limits::kMaxOtherBodyBytes);
}

TEST_CASE("a withdrawn file's announces answer withdrawn (nobody is added) until it is published again", "[tracker]") {
  Fixture f;
  test::TempDir dir;
  std::string meta = meta_json_for(dir, "gone.bin", 30000, 41);
  std::string hash = parse_meta(meta, "t").info_hash_hex();
  f.call("POST", "/publish", meta);
  std::string token = json::parse(f.res.body)["owner_token"];
  auto announce = [&](const std::string& peer) {
    return f.get_json("/announce?info_hash=" + hash + "&peer_id=" + peer + "&port=7000&left=0");
  };
  CHECK(announce(P1).contains("withdrawn") == false);
  f.call("POST", "/withdraw?info_hash=" + hash, {}, "10.0.0.1", {{"authorization", "Bearer " + token}});
  REQUIRE(f.res.status == 200);
  auto a = announce(P2);
  CHECK(a["withdrawn"] == true);
  CHECK(a["peers"].empty());
  CHECK(f.get_json("/scrape?info_hash=" + hash)["files"][hash]["seeders"] == 1);  // P2 was not added
  CHECK(f.catalog.withdrawn().size() == 1);  // the tombstone is in SQLite
  f.call("POST", "/publish", meta);
  REQUIRE(f.res.status == 201);
  CHECK(announce(P2).contains("withdrawn") == false);
  CHECK(f.catalog.withdrawn().empty());
}

TEST_CASE("two files with one name: both listed, a lookup by the name is 409 naming both ids", "[tracker]") {
  Fixture f;
  test::TempDir dir1, dir2;
  std::string m1 = meta_json_for(dir1, "same.txt", 20000, 51), m2 = meta_json_for(dir2, "same.txt", 25000, 52);
  f.call("POST", "/publish", m1);
  f.call("POST", "/publish", m2);
  CHECK(f.get_json("/files?q=same")["count"] == 2);
  auto err = f.get_json("/lookup?name=same.txt", 409);
  std::string text = err["error"];
  CHECK(text.find(parse_meta(m1, "t").info_hash_hex()) != std::string::npos);
  CHECK(text.find(parse_meta(m2, "t").info_hash_hex()) != std::string::npos);
  CHECK(f.get_json("/lookup?info_hash=" + parse_meta(m1, "t").info_hash_hex())["file"]["name"] == "same.txt");
}

TEST_CASE("rendezvous: a polling member is told to dial an announcer, and relay tickets reach it", "[tracker][rendezvous]") {
  Fixture f;
  std::vector<std::string> probed;
  std::function<void(bool)> probe_done;
  RendezvousOptions options;
  options.probe = [&](const std::string& ip, std::uint16_t port, std::function<void(bool)> done) {
    probed.push_back(ip + ":" + std::to_string(port));
    probe_done = std::move(done);
  };
  int tickets = 0;
  options.issue_relay_ticket = [&](const std::string& swarm) {
    CHECK(swarm == H);
    ++tickets;
    return std::string(64, 'c');
  };
  options.relay_port = 6970;
  f.api.enable_rendezvous(options);

  // Member A (behind a NAT at 10.0.0.1) announces, then polls.
  f.call("GET", f.announce_url(P1, 6881, 0, "&event=started"), {}, "10.0.0.1");
  REQUIRE(f.res.status == 200);
  auto announced = json::parse(f.res.body);
  CHECK(announced["rendezvous"] == true);
  CHECK(announced["relay_port"] == 6970);
  HttpResponse poll;
  bool answered = false;
  auto done_fn = +[](void* flag) { *static_cast<bool*>(flag) = true; };
  std::string_view target = "/rendezvous?port=6881";
  f.api.handle(HttpRequest{"GET", target, {}, "10.0.0.1", {}}, poll, net::HttpDone(done_fn, &answered));
  CHECK_FALSE(answered);  // held
  REQUIRE(probed == std::vector<std::string>{"10.0.0.1:6881"});
  probe_done(false);  // the probe found it cannot be dialled: the poll learns it at once
  REQUIRE(answered);
  auto first = json::parse(poll.body);
  CHECK(first["reachable"] == false);
  CHECK(first["ip"] == "10.0.0.1");
  CHECK(first["notes"].empty());

  // A polls again; B (10.0.0.2) announces and gets A flagged, A's poll gets B's address.
  answered = false;
  f.api.handle(HttpRequest{"GET", target, {}, "10.0.0.1", {}}, poll, net::HttpDone(done_fn, &answered));
  CHECK_FALSE(answered);
  f.call("GET", f.announce_url(P2, 7000, 100, "&event=started"), {}, "10.0.0.2");
  auto b = json::parse(f.res.body);
  REQUIRE(b["peers"].size() == 1);
  CHECK(b["peers"][0]["ip"] == "10.0.0.1");
  CHECK(b["peers"][0]["rendezvous"] == true);
  REQUIRE(answered);
  auto note = json::parse(poll.body);
  REQUIRE(note["notes"].size() == 1);
  CHECK(note["notes"][0]["swarm"] == H);
  CHECK(note["notes"][0]["ip"] == "10.0.0.2");
  CHECK(note["notes"][0]["port"] == 7000);
  CHECK_FALSE(note["notes"][0].contains("relay"));

  // B asks for a relay to A (A polls again meanwhile): both get the same ticket.
  answered = false;
  f.api.handle(HttpRequest{"GET", target, {}, "10.0.0.1", {}}, poll, net::HttpDone(done_fn, &answered));
  auto offer = f.get_json("/relay?swarm=" + H + "&port=7000&to_ip=10.0.0.1&to_port=6881");
  CHECK(offer["ticket"] == std::string(64, 'c'));
  CHECK(offer["relay_port"] == 6970);
  REQUIRE(answered);
  auto relayed = json::parse(poll.body);
  REQUIRE(relayed["notes"].size() == 1);
  CHECK(relayed["notes"][0]["relay"]["ticket"] == std::string(64, 'c'));
  CHECK(relayed["notes"][0]["relay"]["port"] == 6970);
  CHECK(tickets == 1);
  // Nobody waits at 10.0.0.9: no ticket is issued for it.
  f.call("GET", "/relay?swarm=" + H + "&port=7000&to_ip=10.0.0.9&to_port=1");
  CHECK(f.res.status == 404);
  CHECK(tickets == 1);
  f.call("GET", "/relay?swarm=nothex&port=7000&to_ip=10.0.0.1&to_port=6881");
  CHECK(f.res.status == 400);
  // Two seeders are never told about each other.
  answered = false;
  f.api.handle(HttpRequest{"GET", target, {}, "10.0.0.1", {}}, poll, net::HttpDone(done_fn, &answered));
  f.call("GET", f.announce_url(std::string(40, '3'), 7001, 0, "&event=started"), {}, "10.0.0.3");
  CHECK_FALSE(answered);
  f.api.close_polls();
  CHECK(answered);
}

TEST_CASE("rendezvous endpoints are off unless enabled", "[tracker][rendezvous]") {
  Fixture f;
  f.call("GET", "/rendezvous?port=6881");
  CHECK(f.res.status == 404);
  f.call("GET", "/relay?swarm=" + H + "&port=1&to_ip=10.0.0.1&to_port=1");
  CHECK(f.res.status == 404);
  auto a = f.get_json(f.announce_url(P1, 6881, 0, "&event=started"));
  CHECK_FALSE(a.contains("rendezvous"));
}

// The BitTorrent dialect through the Api (no sockets): raw percent-encoded bytes in,
// bencoded answers out, refusals as "failure reason", the whitelist, and the
// separation of 20-byte swarms from the JSON dialect's.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "format/bencode.hpp"
#include "tracker/api.hpp"
#include "tracker/bt_swarm.hpp"
#include "tracker/embedded_store.hpp"
#include "tracker/query.hpp"
#include "tracker/udp_tracker.hpp"

using namespace p2p;
using namespace p2p::tracker;
using p2p::net::HttpRequest;
using p2p::net::HttpResponse;

namespace {

// Every byte percent-encoded, as clients send them.
std::string pct(const std::string& raw) {
  std::string out;
  for (unsigned char c : raw) out += fmt::format("%{:02X}", c);
  return out;
}

const std::string IH = std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\xff", 20);
const std::string PA = "-AR1360-aaaaaaaaaaaa", PB = "-LT2080-bbbbbbbbbbbb";

struct BtFixture {
  EmbeddedSwarmStore swarm_store{11, 30};
  EmbeddedCatalogStore catalog_store{":memory:"};
  EmbeddedCounterStore counter_store;
  Api api{swarm_store, catalog_store, counter_store, ApiOptions{30}};
  BtPolicy policy = BtPolicy::open();
  HttpResponse res;

  HttpResponse& get(std::string_view target, std::string_view ip = "10.0.0.1") {
    run_now(api.serve(HttpRequest{"GET", target, {}, ip, {}}, Clock::now(), res));
    return res;
  }
  bencode::Value bget(const std::string& target, std::string_view ip = "10.0.0.1") {
    get(target, ip);
    INFO(target << " -> " << res.body);
    REQUIRE(res.status == 200);
    return bencode::decode(res.body);
  }
  std::string announce(const std::string& peer, int port, int left, const std::string& extra = "") {
    return "/announce?info_hash=" + pct(IH) + "&peer_id=" + pct(peer) + "&port=" + std::to_string(port) +
           "&left=" + std::to_string(left) + "&uploaded=0&downloaded=0&compact=1" + extra;
  }
  std::string failure(const std::string& target, std::string_view ip = "10.0.0.1") {
    auto v = bget(target, ip);
    REQUIRE(v.find("failure reason"));
    return v.find("failure reason")->as_str();
  }
};

}  // namespace

TEST_CASE("query keeps raw percent-encoded bytes, NUL and 0xff included", "[bt]") {
  Query q;
  const std::string raw = "info_hash=" + pct(IH) + "&peer_id=-AR%00x";  // views point into it
  REQUIRE(q.parse(raw));
  CHECK(*q.get("info_hash") == IH);
  CHECK(q.get("peer_id")->size() == 5);
  CHECK(is_bt_request(q));
  CHECK_FALSE(q.parse("info_hash=%4"));
  CHECK_FALSE(q.parse("info_hash=%zz"));
}

TEST_CASE("bt announce: compact peers, counts, intervals; scrape by raw hash", "[bt]") {
  BtFixture f;
  f.api.enable_bittorrent(f.policy);
  auto a = f.bget(f.announce(PA, 6881, 0, "&event=started&key=abcd"));
  CHECK(a.find("complete")->as_int() == 1);
  CHECK(a.find("interval")->as_int() == 30);
  CHECK(a.find("peers")->as_str().empty());
  auto b = f.bget(f.announce(PB, 6882, 100, "&event=started&numwant=10"), "10.0.0.2");
  CHECK(b.find("incomplete")->as_int() == 1);
  CHECK(b.find("peers")->as_str() == std::string("\x0a\x00\x00\x01\x1a\xe1", 6));
  // An IPv6 member is handed out in peers6 (BEP 7).
  f.bget(f.announce("-LT2080-cccccccccccc", 6883, 0), "2001:db8::1");
  auto c = f.bget(f.announce(PB, 6882, 100, "&numwant=10"), "10.0.0.2");
  REQUIRE(c.find("peers6"));
  CHECK(c.find("peers6")->as_str().size() == 18);
  CHECK(c.find("peers")->as_str().size() == 6);
  f.bget(f.announce(PB, 6882, 0, "&event=completed"), "10.0.0.2");
  auto s = f.bget("/scrape?info_hash=" + pct(IH));
  const auto* file = s.find("files")->find(IH);
  REQUIRE(file);
  CHECK(file->find("complete")->as_int() == 3);
  CHECK(file->find("incomplete")->as_int() == 0);
  CHECK(file->find("downloaded")->as_int() == 1);
  CHECK(f.get("/metrics").body.find("endpoint=\"bt_announce\",status=\"200\"} 5") != std::string::npos);
}

TEST_CASE("bt announce refusals: wrong lengths, forged ip, oversized key, bad event", "[bt]") {
  BtFixture f;
  f.api.enable_bittorrent(f.policy);
  CHECK_THAT(f.failure(f.announce("short", 6881, 0)), Catch::Contains("peer_id must be 20 bytes"));
  CHECK_THAT(f.failure(f.announce(PA, 0, 0)), Catch::Contains("port must be in 1-65535"));
  CHECK_THAT(f.failure(f.announce(PA, 6881, 0, "&ip=192.0.2.9")), Catch::Contains("differs from the address"));
  CHECK_THAT(f.failure(f.announce(PA, 6881, 0, "&key=" + std::string(65, 'k'))), Catch::Contains("key is 65 bytes"));
  CHECK_THAT(f.failure(f.announce(PA, 6881, 0, "&event=exploded")), Catch::Contains("event must be"));
  CHECK_THAT(f.failure("/announce?info_hash=" + pct(IH) + "&port=1&left=0"), Catch::Contains("missing parameter peer_id"));
  CHECK_THAT(f.failure("/scrape?info_hash=" + pct(IH) + "&info_hash=" + pct("abc")), Catch::Contains("20 bytes"));
  // ip= equal to the source address is harmless.
  CHECK_FALSE(f.bget(f.announce(PA, 6881, 0, "&ip=10.0.0.1")).find("failure reason"));
  CHECK(f.get("/metrics").body.find("endpoint=\"bt_announce\",status=\"400\"} 6") != std::string::npos);
}

TEST_CASE("bt dialect is off by default, and 20-byte swarms never meet 32-byte ones", "[bt]") {
  BtFixture f;
  // Off: the JSON dialect answers as it always did.
  f.get(f.announce(PA, 6881, 0));
  CHECK(f.res.status == 400);
  CHECK(f.res.body.find("64 hex digits") != std::string::npos);
  // The JSON dialect refuses a key in the BitTorrent key space.
  BtHash h{};
  std::copy(IH.begin(), IH.end(), h.begin());
  Digest key = bt_swarm_key(h);
  CHECK(bt_hash_of_key(key) == h);
  f.get("/announce?info_hash=" + to_hex(key) + "&peer_id=" + std::string(40, '1') + "&port=1&left=0");
  CHECK(f.res.status == 400);
  CHECK(f.res.body.find("reserved for BitTorrent") != std::string::npos);
  Digest ordinary{};
  ordinary.fill(0x5a);
  CHECK_FALSE(is_bt_swarm_key(ordinary));
}

TEST_CASE("bt whitelist: 40 and 64 hex digits, comments; only listed swarms served", "[bt]") {
  std::string v1(40, 'a');
  std::string v2 = std::string(40, 'b') + std::string(24, 'c');
  auto list = parse_bt_whitelist("# comment\n" + v1 + "\n\n  " + v2 + "\r\n", "list");
  CHECK(list.size() == 2);
  BtHash b{};
  b.fill(0xbb);
  CHECK(list.count(b) == 1);  // v2: the first 20 bytes
  CHECK_THROWS_WITH(parse_bt_whitelist(v1 + "\nxyz\n", "wl.txt"), Catch::Contains("wl.txt:2"));
  CHECK_THROWS_WITH(parse_bt_whitelist(std::string(40, 'g'), "wl.txt"), Catch::Contains("wl.txt:1"));

  auto file = std::filesystem::temp_directory_path() / fmt::format("bt-wl-{}.txt", ::getpid());
  {
    std::ofstream(file) << to_hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(IH.data()), 20))
                        << "\n";
  }
  BtFixture f;
  f.policy = BtPolicy::whitelist(file);
  f.api.enable_bittorrent(f.policy);
  CHECK_FALSE(f.bget(f.announce(PA, 6881, 0)).find("failure reason"));
  std::string other = "/announce?info_hash=" + pct(std::string(20, 'z')) + "&peer_id=" + pct(PA) + "&port=1&left=0";
  CHECK_THAT(f.failure(other), Catch::Contains("not served by this tracker"));
  // SIGHUP's reload: a broken file keeps the old list.
  { std::ofstream(file) << "garbage\n"; }
  CHECK(f.policy.reload().has_value());
  CHECK_FALSE(f.bget(f.announce(PA, 6881, 0)).find("failure reason"));
  { std::ofstream(file) << to_hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("zzzzzzzzzzzzzzzzzzzz"), 20)) << "\n"; }
  CHECK_FALSE(f.policy.reload().has_value());
  CHECK_FALSE(f.bget(other).find("failure reason"));
  CHECK_THAT(f.failure(f.announce(PA, 6881, 0)), Catch::Contains("not served"));
  std::filesystem::remove(file);
}

TEST_CASE("udp connection ids: bound to address and time, not forgeable", "[bt]") {
  std::array<std::uint8_t, 32> secret{};
  secret[0] = 1;
  UdpConnectionIds ids(secret);
  std::array<std::uint8_t, 4> a{10, 0, 0, 1}, b{10, 0, 0, 2};
  std::int64_t t = 1'700'000'000;
  std::uint64_t id = ids.issue(a, t);
  CHECK(ids.valid(id, a, t));
  CHECK(ids.valid(id, a, t + UdpConnectionIds::kPeriodSeconds));         // still in the next period
  CHECK_FALSE(ids.valid(id, a, t + 2 * UdpConnectionIds::kPeriodSeconds + 60));  // expired
  CHECK_FALSE(ids.valid(id, b, t));                                      // another address
  CHECK_FALSE(ids.valid(id ^ 1, a, t));                                  // spoofed
  std::array<std::uint8_t, 32> other{};
  CHECK_FALSE(UdpConnectionIds(other).valid(id, a, t));  // another tracker's secret
}

TEST_CASE("udp connection ids: the cached period keys follow the clock, back and forth", "[bt]") {
  std::array<std::uint8_t, 32> secret{};
  secret[0] = 2;
  UdpConnectionIds ids(secret), fresh(secret);
  std::array<std::uint8_t, 4> a{10, 0, 0, 1};
  std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  std::int64_t t = 1'700'000'000;
  std::uint64_t id = ids.issue(a, t), id6 = ids.issue(v6, t);
  CHECK(id != id6);
  // Periods far ahead take both cached slots; going back derives the first key again.
  CHECK_FALSE(ids.valid(id, a, t + 10 * UdpConnectionIds::kPeriodSeconds));
  CHECK(ids.issue(a, t + 10 * UdpConnectionIds::kPeriodSeconds) == fresh.issue(a, t + 10 * UdpConnectionIds::kPeriodSeconds));
  CHECK(ids.valid(id, a, t));
  CHECK(ids.valid(id6, v6, t + UdpConnectionIds::kPeriodSeconds));
  CHECK(ids.issue(a, t) == fresh.issue(a, t));  // the same secret, the same ids
}

TEST_CASE("udp rate limit: per address, per window, bounded table", "[bt]") {
  UdpRateLimit limit(UdpRateLimit::kMaxUnverified);
  auto now = UdpRateLimit::Clock::now();
  std::array<std::uint8_t, 4> a{10, 0, 0, 1}, b{10, 0, 0, 2};
  for (std::uint32_t i = 0; i < UdpRateLimit::kMaxUnverified; ++i) REQUIRE(limit.allow(a, now));
  CHECK_FALSE(limit.allow(a, now));
  CHECK(limit.allow(b, now));
  CHECK(limit.allow(a, now + UdpRateLimit::kWindow));
}

TEST_CASE("GET /bittorrent lists BitTorrent swarms only, with counts", "[bt]") {
  BtFixture f;
  f.get("/bittorrent");
  CHECK(f.res.body == R"({"mode":"off","swarms":[],"truncated":false})");
  f.api.enable_bittorrent(f.policy);
  f.bget(f.announce(PA, 6881, 0));
  f.get("/announce?info_hash=" + std::string(64, 'a') + "&peer_id=" + std::string(40, '1') + "&port=1&left=0");
  REQUIRE(f.res.status == 200);  // a p2p-share swarm beside it
  auto j = nlohmann::json::parse(f.get("/bittorrent").body);
  REQUIRE(j["swarms"].size() == 1);
  CHECK(j["mode"] == "open");
  CHECK(j["swarms"][0]["info_hash"] == "000102030405060708090a0b0c0d0e0f101112ff");
  CHECK(j["swarms"][0]["seeders"] == 1);
}

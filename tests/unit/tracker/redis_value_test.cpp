// What the Redis store believes of Redis: URLs, replies of the wrong shape or
// out of range, peer records, counter field names. No Redis needed: garbage
// must become StoreUnavailable (503), never a crash or a wrong answer.
#include <catch2/catch.hpp>

#include <set>

#include "base/error.hpp"
#include "tracker/metrics.hpp"
#include "tracker/redis_client.hpp"
#include "tracker/redis_layout.hpp"
#include "tracker/redis_swarm_store.hpp"
#include "tracker/redis_value.hpp"
#include "tracker/tracker_store.hpp"

using namespace p2p;
using namespace p2p::tracker;

namespace {
RedisValue integer(std::int64_t v) {
  RedisValue r;
  r.type = RedisValue::Type::integer;
  r.integer = v;
  return r;
}
RedisValue text(std::string s, RedisValue::Type type = RedisValue::Type::string) {
  RedisValue r;
  r.type = type;
  r.text = std::move(s);
  return r;
}
bool usage_error(std::string_view url, std::string_view needle) {
  try {
    parse_redis_url(url);
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == ExitCode::usage);
    CHECK(std::string(e.what()).find(std::string(url.substr(0, 20))) != std::string::npos);  // names the value
    return std::string(e.what()).find(needle) != std::string::npos;
  }
  return false;
}
}  // namespace

TEST_CASE("redis URLs: host, port, database; anything else is a usage error naming the value", "[tracker]") {
  auto a = parse_redis_url("redis://127.0.0.1:6390/3");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 6390);
  CHECK(a.db == 3);
  CHECK(a.url() == "redis://127.0.0.1:6390/3");
  CHECK(parse_redis_url("redis://cache.internal").port == 6379);
  CHECK(parse_redis_url("redis://[::1]:7000").url() == "redis://[::1]:7000/0");
  CHECK(usage_error("redis://", "no host"));
  CHECK(usage_error("http://x:1", "unknown store"));
  CHECK(usage_error("redis://x:0", "1-65535"));
  CHECK(usage_error("redis://x:65536", "the port"));
  CHECK(usage_error("redis://x:", "empty port"));
  CHECK(usage_error("redis://x:1/db", "database number"));
  CHECK(usage_error("redis://::1:6379", "brackets"));
  CHECK(usage_error("redis://user:pw@x:1", "not supported"));
  CHECK(usage_error("redis://[::1", "unclosed"));
}

TEST_CASE("redis replies of the wrong type, size or range are refused with what was expected", "[tracker]") {
  auto refused = [](auto&& f, std::string_view needle) {
    try {
      f();
    } catch (const StoreUnavailable& e) {
      INFO(e.what());
      return std::string(e.what()).find(needle) != std::string::npos;
    }
    return false;
  };
  CHECK(integer(5).as_int("x", 0, 10) == 5);
  CHECK(text("42").as_int("x", 0, 100) == 42);
  CHECK(refused([] { integer(11).as_int("the thing", 0, 10); }, "the thing unexpectedly: 11 is outside 0-10"));
  CHECK(refused([] { text("4x2").as_int("x", 0, 100); }, "expected an integer"));
  CHECK(refused([] { text("").as_int("x", 0, 100); }, "expected an integer"));
  CHECK(refused([] { text("99999999999999999999").as_int("x", 0, INT64_MAX); }, "expected an integer"));
  CHECK(refused([] { text("ERR boom", RedisValue::Type::error).as_int("x", 0, 1); }, "ERR boom"));
  CHECK(refused([] { integer(1).as_string("x", 10); }, "expected a string"));
  CHECK(refused([] { text(std::string(11, 'a')).as_string("x", 10); }, "11 bytes"));
  CHECK_FALSE(RedisValue{}.as_optional_string("x", 10).has_value());
  RedisValue arr;
  arr.type = RedisValue::Type::array;
  arr.elements.resize(3);
  CHECK(arr.as_array("x", 0, 3).size() == 3);
  CHECK(refused([&] { arr.as_array("x", 4, 8); }, "3 elements, expected 4-8"));
  CHECK(refused([] { integer(1).as_array("x", 0, 8); }, "expected an array"));
  CHECK(refused([] { integer(1).expect_status("MULTI"); }, "expected a status"));
}

TEST_CASE("peer records from Redis are checked field by field", "[tracker]") {
  PeerEntry p = parse_peer_value("1 6881 10.0.0.1");
  CHECK(p.seeder);
  CHECK(p.port == 6881);
  CHECK(p.ip == "10.0.0.1");
  CHECK_FALSE(parse_peer_value("2 7000 ::1").seeder);  // 2 = completed counted, not a seeder
  CHECK(parse_peer_value("3 1 2001:db8::5").seeder);
  for (std::string bad : std::vector<std::string>{"", "1", "1 6881", "4 6881 1.2.3.4", "1 0 1.2.3.4", "1 65536 1.2.3.4", "1 x 1.2.3.4",
                          "1 6881 evil.com", "1 6881 ", "16881 1.2.3.4", std::string("1 1 ") + std::string(80, '1')})
    CHECK_THROWS_AS(parse_peer_value(bad), StoreUnavailable);
}

TEST_CASE("counters add, subtract without going negative, and name every field once", "[tracker]") {
  Counters a, b;
  a.count_request(Endpoint::announce, 200);
  a.count_request(Endpoint::announce, 200);
  a.count_request(Endpoint::withdraw, 403);
  a.observe_announce(std::chrono::microseconds(30));
  b.count_request(Endpoint::announce, 200);
  b.timeouts = 4;
  Counters sum = a;
  sum += b;
  CHECK(sum.requests_total() == 4);
  CHECK(sum.timeouts == 4);
  sum -= a;
  CHECK(sum == b);
  Counters zero;
  zero -= a;  // saturates
  CHECK(zero.empty());
  std::set<std::string> names;
  std::size_t fields = 0;
  a.for_each([&](const std::string& name, std::uint64_t&) {
    names.insert(name);
    ++fields;
  });
  CHECK(names.size() == fields);
  CHECK(names.count("requests:withdraw:403") == 1);
  CHECK(names.count("latency_sum_ns") == 1);
}

TEST_CASE("every Redis key carries the layout's version prefix", "[tracker]") {
  std::string ih(64, 'a');
  for (const std::string& key : {redis_layout::swarm_key(ih), redis_layout::peers_key(ih), redis_layout::swarm_stat_key(ih),
                                 redis_layout::catalog_key(ih), redis_layout::names_key(), redis_layout::swarms_key(),
                                 redis_layout::stats_key(), redis_layout::counters_key(), redis_layout::sweep_lock_key()})
    CHECK(key.starts_with("p2p:v1:"));
  auto scripts = redis_layout::scripts();
  REQUIRE(scripts.size() == redis_layout::kScriptCount);
  for (const auto& s : scripts) CHECK(s.find("ARGV[1]") != std::string::npos);  // the prefix comes from C++
}

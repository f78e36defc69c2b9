// LAN announce codec: round trips, the size limit at the largest announce, splitting into
// datagrams, and every refusal.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "format/lan_announce.hpp"

using namespace p2p;
using namespace p2p::lan;

namespace {
Digest id_of(int n) {
  Digest d{};
  d.fill(static_cast<std::uint8_t>(n));
  d[0] = 0xa0;
  return d;
}

Announce sample(std::size_t swarms) {
  Announce a;
  a.kind = Kind::announce;
  a.node.fill(0x5c);
  a.port = 6881;
  for (std::size_t i = 0; i < swarms; ++i) a.swarms.push_back(id_of(static_cast<int>(i)));
  return a;
}

Refusal refusal_of(const std::string& text) {
  Refusal why{};
  std::string detail;
  auto a = decode(text, why, detail);
  CHECK_FALSE(a);
  CHECK_FALSE(detail.empty());
  return why;
}

std::string valid_json() { return encode(sample(2)); }

std::string with(const std::string& key, const nlohmann::json& value) {
  auto j = nlohmann::json::parse(valid_json());
  j[key] = value;
  return j.dump();
}
}  // namespace

TEST_CASE("an announce and an answer round-trip", "[lan]") {
  for (auto kind : {Kind::announce, Kind::answer}) {
    auto a = sample(3);
    a.kind = kind;
    Refusal why{};
    std::string detail;
    auto back = decode(encode(a), why, detail);
    REQUIRE(back);
    CHECK(*back == a);
    CHECK(why == Refusal::none);
  }
}

TEST_CASE("the field names and values are those docs/PROTOCOL.md lists", "[lan]") {
  auto j = nlohmann::json::parse(encode(sample(1)));
  CHECK(j.size() == 6);
  CHECK(j["protocol"] == "p2p-share-lan");
  CHECK(j["version"] == 1);
  CHECK(j["type"] == "announce");
  CHECK(j["node"] == "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c");
  CHECK(j["port"] == 6881);
  CHECK(j["swarms"].size() == 1);
  CHECK(j["swarms"][0] == to_hex(id_of(0)));
}

TEST_CASE("the largest announce fits one datagram", "[lan]") {
  auto a = sample(kMaxSwarmsPerDatagram);
  a.kind = Kind::answer;  // the longer type name
  a.port = 65535;
  auto text = encode(a);
  CHECK(text.size() <= kMaxDatagramBytes);
  CHECK_THROWS_AS(encode(sample(kMaxSwarmsPerDatagram + 1)), std::invalid_argument);
  CHECK_THROWS_AS(encode(sample(0)), std::invalid_argument);
  auto zero_port = sample(1);
  zero_port.port = 0;
  CHECK_THROWS_AS(encode(zero_port), std::invalid_argument);
  auto twice = sample(1);
  twice.swarms.push_back(twice.swarms[0]);
  CHECK_THROWS_AS(encode(twice), std::invalid_argument);
}

TEST_CASE("many swarms become several datagrams, bounded", "[lan]") {
  std::vector<Digest> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(id_of(i));
  lan::NodeId node{};
  auto all = encode_all(Kind::announce, node, 7000, ids, 8);
  REQUIRE(all.size() == 3);  // 16 + 16 + 8
  std::vector<Digest> seen;
  for (const auto& d : all) {
    Refusal why{};
    std::string detail;
    auto a = decode(d, why, detail);
    REQUIRE(a);
    seen.insert(seen.end(), a->swarms.begin(), a->swarms.end());
  }
  CHECK(seen == ids);
  CHECK(encode_all(Kind::announce, node, 7000, ids, 2).size() == 2);
  CHECK(encode_all(Kind::announce, node, 7000, {}, 8).empty());
}

TEST_CASE("every refusal", "[lan]") {
  CHECK(refusal_of(std::string(kMaxDatagramBytes + 1, ' ')) == Refusal::too_large);
  CHECK(refusal_of("") == Refusal::not_json);
  CHECK(refusal_of("{\"protocol\":") == Refusal::not_json);
  CHECK(refusal_of("[1,2]") == Refusal::not_json);
  CHECK(refusal_of("{\"a\":[[[1]]]}") == Refusal::not_json);  // deeper than kMaxJsonDepth
  std::string many = "{\"x\":[";
  for (int i = 0; i < 60; ++i) many += "1,";
  many += "1]}";
  CHECK(refusal_of(many) == Refusal::not_json);  // more values than kMaxJsonValues
  CHECK(refusal_of(with("protocol", "p2p-share")) == Refusal::not_ours);
  CHECK(refusal_of(with("protocol", 1)) == Refusal::not_ours);
  CHECK(refusal_of(with("version", 2)) == Refusal::other_version);
  CHECK(refusal_of(with("version", -1)) == Refusal::bad_field);
  CHECK(refusal_of(with("version", 1.0)) == Refusal::bad_field);
  CHECK(refusal_of(with("type", "hello")) == Refusal::bad_field);
  CHECK(refusal_of(with("type", nullptr)) == Refusal::bad_field);
  CHECK(refusal_of(with("node", std::string(31, 'a'))) == Refusal::bad_field);
  CHECK(refusal_of(with("node", std::string(32, 'A'))) == Refusal::bad_field);
  CHECK(refusal_of(with("node", std::string(32, 'g'))) == Refusal::bad_field);
  CHECK(refusal_of(with("port", 0)) == Refusal::bad_field);
  CHECK(refusal_of(with("port", 65536)) == Refusal::bad_field);
  CHECK(refusal_of(with("port", "6881")) == Refusal::bad_field);
  CHECK(refusal_of(with("port", -5)) == Refusal::bad_field);
  CHECK(refusal_of(with("swarms", nlohmann::json::array())) == Refusal::bad_field);
  CHECK(refusal_of(with("swarms", "ab")) == Refusal::bad_field);
  CHECK(refusal_of(with("swarms", nlohmann::json::array({std::string(63, 'a')}))) == Refusal::bad_field);
  CHECK(refusal_of(with("swarms", nlohmann::json::array({std::string(64, 'A')}))) == Refusal::bad_field);
  CHECK(refusal_of(with("swarms", nlohmann::json::array({std::string(64, 'a'), std::string(64, 'a')}))) ==
        Refusal::bad_field);
  auto seventeen = nlohmann::json::array();
  for (int i = 0; i < 17; ++i) seventeen.push_back(to_hex(id_of(i)));
  CHECK(refusal_of(with("swarms", seventeen)) == Refusal::too_large);  // 17 ids cannot fit 1,200 bytes
  auto seventeen_short = nlohmann::json::array();
  for (int i = 0; i < 17; ++i) seventeen_short.push_back("a");
  CHECK(refusal_of(with("swarms", seventeen_short)) == Refusal::bad_field);  // the count, before the entries
  auto j = nlohmann::json::parse(valid_json());
  j.erase("node");
  CHECK(refusal_of(j.dump()) == Refusal::bad_field);
}

TEST_CASE("unknown fields are ignored (a later revision may add some)", "[lan]") {
  Refusal why{};
  std::string detail;
  auto a = decode(with("hint", "future"), why, detail);
  REQUIRE(a);
  CHECK(*a == sample(2));
}

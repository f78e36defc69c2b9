// Wire codec: round trips, partial frames, oversized frames and garbage.
#include <catch2/catch.hpp>

#include "base/limits.hpp"
#include "format/wire.hpp"

using namespace p2p;
using namespace p2p::wire;

namespace {
std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
// A valid handshake header without its closing brace, for tests that add an optional field.
std::string handshake_fields() {
  return "{\"type\":\"handshake\",\"protocol\":\"p2p-share\",\"version\":1,\"info_hash\":\"" + std::string(64, 'a') +
         "\",\"peer_id\":\"" + std::string(40, 'b') + "\",\"listen_port\":1";
}

std::string frame(const std::string& json) {
  std::string out(4, '\0');
  auto n = static_cast<std::uint32_t>(json.size());
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  return out + json;
}

Message decode_one(const std::string& wire_bytes) {
  FrameDecoder d;
  d.feed(bytes(wire_bytes));
  auto f = d.next();
  REQUIRE(f);
  return f->message;
}
}  // namespace

TEST_CASE("every message round-trips", "[wire]") {
  Handshake hs;
  hs.info_hash.fill(0xab);
  hs.peer_id = std::string(40, 'c');
  hs.listen_port = 6881;
  std::vector<Message> all{hs,       BitfieldMsg{}, Have{7}, wire::Request{1, 262144, 16384}, Cancel{1, 0, 5},
                           Choke{},  Unchoke{},     Interested{}, NotInterested{}, KeepAlive{},
                           ErrorMsg{"info_hash_mismatch", "wrong file"},
                           Pex{{{"127.0.0.1", 5000}, {"::1", 6000}}, {{"10.0.0.1", 1}}}};
  for (const auto& m : all) {
    INFO(type_name(m));
    CHECK(decode_one(encode(m)) == m);
  }
}

TEST_CASE("piece payload travels raw after the header", "[wire]") {
  std::vector<std::uint8_t> payload{0, 1, 2, 255, 0, 10};
  std::string w = encode(Piece{3, 16384}, static_cast<std::uint32_t>(payload.size()));
  w.append(payload.begin(), payload.end());
  FrameDecoder d;
  d.feed(bytes(w));
  auto f = d.next();
  REQUIRE(f);
  CHECK(f->message == Message{Piece{3, 16384}});
  CHECK(f->payload == payload);
  CHECK_FALSE(d.next());
}

TEST_CASE("frames split at every byte boundary decode the same", "[wire]") {
  std::string w = encode(Have{1}) + encode(Piece{2, 0}, 3) + "xyz" + encode(KeepAlive{});
  for (std::size_t split = 0; split <= w.size(); ++split) {
    FrameDecoder d;
    std::vector<Message> got;
    d.feed(bytes(w.substr(0, split)));
    while (auto f = d.next()) got.push_back(f->message);
    d.feed(bytes(w.substr(split)));
    while (auto f = d.next()) got.push_back(f->message);
    REQUIRE(got.size() == 3);
    CHECK(got[1] == Message{Piece{2, 0}});
  }
}

TEST_CASE("oversized and malformed frames are refused without allocating", "[wire]") {
  std::array<std::uint8_t, 4> huge{0xff, 0xff, 0xff, 0xff};  // a 4 GiB header length
  CHECK_THROWS_AS(decode_header_length(huge), ProtocolError);
  std::array<std::uint8_t, 4> zero{0, 0, 0, 0};
  CHECK_THROWS_AS(decode_header_length(zero), ProtocolError);
  FrameDecoder d;
  d.feed(huge);
  CHECK_THROWS_AS(d.next(), ProtocolError);
  CHECK(d.buffered() == 4);  // nothing else was reserved

  auto bad = [](const std::string& json) {
    INFO(json);
    CHECK_THROWS_AS(decode_header(json), ProtocolError);
  };
  bad("garbage");
  bad("[1,2]");
  bad(R"({"type":"warp"})");
  bad(R"({"type":7})");
  bad(R"({"type":"have"})");
  bad(R"({"type":"have","piece":-1})");
  bad(R"({"type":"have","piece":4294967296})");
  bad(R"({"type":"have","piece":"1"})");
  bad(R"({"type":"request","piece":1,"begin":0})");
  bad(R"({"type":"piece","piece":1,"begin":0})");                 // no payload
  bad(R"({"type":"piece","piece":1,"begin":0,"len":1048577})");   // block over the limit
  bad(R"({"type":"have","piece":1,"len":5})");                    // payload where none is allowed
  bad(R"({"type":"bitfield","len":4294967295})");
  bad(R"({"type":"handshake","protocol":"bittorrent","version":1,"info_hash":")" + std::string(64, 'a') +
      R"(","peer_id":")" + std::string(40, 'b') + R"(","listen_port":1})");
  bad(R"({"type":"handshake","protocol":"p2p-share","version":1,"info_hash":"zz","peer_id":")" +
      std::string(40, 'b') + R"(","listen_port":1})");
  bad(R"({"type":"pex","added":[{"ip":"1.2.3.4; rm -rf","port":1}]})");
  bad(R"({"type":"pex","added":[{"ip":"1.2.3.4","port":0}]})");
  std::string many = R"({"type":"pex","added":[)";
  for (int i = 0; i < 51; ++i) many += std::string(i ? "," : "") + R"({"ip":"1.2.3.4","port":1})";
  bad(many + "]}");
}

TEST_CASE("random garbage never crashes the decoder", "[wire]") {
  std::mt19937 rng(1234);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    if (round % 2) junk = frame(junk);
    FrameDecoder d;
    d.feed(bytes(junk));
    try {
      while (d.next()) {
      }
    } catch (const ProtocolError&) {
    }
  }
  SUCCEED("no crash, no exception other than ProtocolError");
}

TEST_CASE("limits allow the largest legitimate frames", "[wire]") {
  CHECK(limits::kMaxPayloadBytes >= limits::kMaxBlockSize);
  CHECK(limits::kMaxPayloadBytes >= limits::kMaxPieces / 8);
  Pex p;
  for (int i = 0; i < 50; ++i) p.added.push_back({"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65535});
  CHECK(encode(p).size() <= limits::kMaxHeaderBytes);
  CHECK(decode_one(encode(p)) == Message{p});
}

TEST_CASE("error codes round-trip by name; unknown names stay unknown", "[wire]") {
  for (auto c : {wire::ErrorCode::version_mismatch, wire::ErrorCode::unknown_info_hash, wire::ErrorCode::info_hash_mismatch,
                 wire::ErrorCode::self_connection, wire::ErrorCode::banned, wire::ErrorCode::too_many_connections,
                 wire::ErrorCode::protocol_error})
    CHECK(wire::parse_error_code(wire::error_code_name(c)) == c);
  CHECK(wire::parse_error_code("handshake refused") == wire::ErrorCode::unknown);
}

TEST_CASE("a seeder's handshake says so; absent means not a seeder; a non-boolean is refused", "[wire]") {
  Handshake hs;
  hs.info_hash.fill(0x01);
  hs.peer_id = std::string(40, 'd');
  hs.listen_port = 6881;
  CHECK(encode(hs).find("\"seed\"") == std::string::npos);  // old peers see what they always saw
  hs.seed = true;
  auto m = decode_one(encode(hs));
  REQUIRE(std::holds_alternative<Handshake>(m));
  CHECK(std::get<Handshake>(m).seed);
  std::string base = handshake_fields();
  CHECK_FALSE(std::get<Handshake>(decode_one(frame(base + "}"))).seed);
  FrameDecoder d;
  d.feed(bytes(frame(base + ",\"seed\":\"yes\"}")));
  CHECK_THROWS_AS(d.next(), ProtocolError);
  CHECK(parse_error_code("seeding_too") == ErrorCode::seeding_too);
}

TEST_CASE("a handshake's max_requests: said, absent (0: the legacy 256), or refused out of range", "[wire]") {
  Handshake hs;
  hs.info_hash.fill(0x01);
  hs.peer_id = std::string(40, 'd');
  CHECK(encode(hs).find("max_requests") == std::string::npos);
  hs.max_requests = 2048;
  auto m = decode_one(encode(hs));
  REQUIRE(std::holds_alternative<Handshake>(m));
  CHECK(std::get<Handshake>(m).max_requests == 2048);
  std::string base = handshake_fields();
  CHECK(std::get<Handshake>(decode_one(frame(base + "}"))).max_requests == 0);
  for (const char* bad : {"0", "1048577", "-1", "\"many\""}) {
    FrameDecoder d;
    d.feed(bytes(frame(base + ",\"max_requests\":" + bad + "}")));
    CHECK_THROWS_AS(d.next(), ProtocolError);
  }
}

TEST_CASE("a handshake's haves: said, absent (false), or refused when not a boolean", "[wire]") {
  Handshake hs;
  hs.info_hash.fill(0x02);
  hs.peer_id = std::string(40, 'e');
  CHECK(encode(hs).find("haves") == std::string::npos);
  hs.haves = true;
  auto m = decode_one(encode(hs));
  REQUIRE(std::holds_alternative<Handshake>(m));
  CHECK(std::get<Handshake>(m).haves);
  std::string base = handshake_fields();
  CHECK_FALSE(std::get<Handshake>(decode_one(frame(base + "}"))).haves);
  FrameDecoder d;
  d.feed(bytes(frame(base + ",\"haves\":1}")));
  CHECK_THROWS_AS(d.next(), ProtocolError);
}

TEST_CASE("haves: a list of piece indexes round-trips; empty, too long or non-integer lists are refused", "[wire]") {
  Haves h{{0, 7, 4294967295u}};
  auto m = decode_one(encode(h));
  REQUIRE(std::holds_alternative<Haves>(m));
  CHECK(std::get<Haves>(m) == h);
  CHECK(type_name(m) == "haves");

  Haves most;
  for (std::uint32_t i = 0; i < limits::kMaxHavesPerFrame; ++i) most.pieces.push_back(4000000000u + i);
  std::string longest = encode(most);
  CHECK(longest.size() - kPrefixBytes <= limits::kMaxHeaderBytes);  // the largest list fits a header
  CHECK(std::get<Haves>(decode_one(longest)).pieces.size() == limits::kMaxHavesPerFrame);

  std::string too_many = "{\"type\":\"haves\",\"pieces\":[0";
  for (std::size_t i = 1; i <= limits::kMaxHavesPerFrame; ++i) too_many += ",1";
  too_many += "]}";
  for (const std::string& bad : {std::string("{\"type\":\"haves\",\"pieces\":[]}"), std::string("{\"type\":\"haves\"}"),
                                 std::string("{\"type\":\"haves\",\"pieces\":3}"),
                                 std::string("{\"type\":\"haves\",\"pieces\":[1,-2]}"),
                                 std::string("{\"type\":\"haves\",\"pieces\":[1.5]}"),
                                 std::string("{\"type\":\"haves\",\"pieces\":[4294967296]}"),
                                 std::string("{\"type\":\"haves\",\"pieces\":[1],\"len\":4}"), too_many}) {
    INFO(bad.substr(0, 80));
    FrameDecoder d;
    d.feed(bytes(frame(bad)));
    CHECK_THROWS_AS(d.next(), ProtocolError);
  }
}

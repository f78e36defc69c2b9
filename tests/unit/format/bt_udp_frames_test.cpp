// BEP 15 datagrams: field offsets, and refusals of wrong lengths and actions.
#include <catch2/catch.hpp>

#include "format/bt_udp_frames.hpp"

using namespace p2p::bt_udp;

namespace {
void be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::vector<std::uint8_t> header(std::uint64_t connection_id, std::uint32_t action, std::uint32_t tid) {
  std::vector<std::uint8_t> out;
  be(out, connection_id, 8);
  be(out, action, 4);
  be(out, tid, 4);
  return out;
}
}  // namespace

TEST_CASE("udp frames: connect, announce and scrape parse at their offsets", "[bt_udp]") {
  Request r;
  CHECK(parse_request(header(kProtocolId, 0, 77), r).empty());
  CHECK(r.action == Action::connect);
  CHECK(r.transaction_id == 77);
  CHECK_FALSE(parse_request(header(1234, 0, 77), r).empty());  // connect without the protocol id

  auto a = header(0xabcdef, 1, 5);
  for (int i = 0; i < 20; ++i) a.push_back(static_cast<std::uint8_t>(i));       // info hash
  for (int i = 0; i < 20; ++i) a.push_back(static_cast<std::uint8_t>(100 + i));  // peer id
  be(a, 1, 8);  // downloaded
  be(a, 2, 8);  // left
  be(a, 3, 8);  // uploaded
  be(a, 2, 4);  // started
  be(a, 0, 4);  // ip
  be(a, 9, 4);  // key
  be(a, 0xffffffff, 4);  // num_want -1
  be(a, 6881, 2);
  REQUIRE(a.size() == kAnnounceSize);
  CHECK(parse_request(a, r).empty());
  CHECK(r.connection_id == 0xabcdef);
  CHECK(r.info_hash[19] == 19);
  CHECK(r.peer_id[0] == 100);
  CHECK(r.left == 2);
  CHECK(r.event == 2);
  CHECK(r.num_want == -1);
  CHECK(r.port == 6881);
  a.pop_back();
  CHECK_THAT(parse_request(a, r), Catch::Contains("announce is 97 bytes, needs 98"));

  auto s = header(1, 2, 3);
  s.resize(16 + 40, 7);
  CHECK(parse_request(s, r).empty());
  CHECK(r.hashes.size() == 2);
  s.push_back(0);
  CHECK_THAT(parse_request(s, r), Catch::Contains("20-byte info hashes"));
  auto many = header(1, 2, 3);
  many.resize(16 + 20 * kMaxScrapeHashes);
  CHECK(parse_request(many, r).empty());
  many.resize(16 + 20 * (kMaxScrapeHashes + 1));  // beyond one datagram: refused by size
  CHECK_THAT(parse_request(many, r), Catch::Contains("at most"));
}

TEST_CASE("udp frames: short, oversized, unknown action and bad event are refused", "[bt_udp]") {
  Request r;
  CHECK_THAT(parse_request(std::vector<std::uint8_t>(15), r), Catch::Contains("at least 16"));
  CHECK_THAT(parse_request(std::vector<std::uint8_t>(kMaxRequest + 1), r), Catch::Contains("at most 1500"));
  CHECK_THAT(parse_request(header(1, 9, 3), r), Catch::Contains("unknown action 9"));
  auto a = header(1, 1, 3);
  a.resize(kAnnounceSize);
  a[83] = 4;  // event 4
  CHECK_THAT(parse_request(a, r), Catch::Contains("event must be 0-3"));
}

TEST_CASE("udp frames: answers have the BEP 15 layout", "[bt_udp]") {
  CHECK(connect_reply(7, 0x0102030405060708).size() == 16);
  std::string ann = announce_reply(1, 60, 2, 3, std::string(12, 'x'));
  CHECK(ann.size() == 20 + 12);
  CHECK(ann[11] == 60);
  std::vector<ScrapeEntry> e(3);
  CHECK(scrape_reply(1, e).size() == 8 + 36);
  CHECK(error_reply(1, "no") == std::string("\0\0\0\3\0\0\0\1no", 10));
}

TEST_CASE("udp frames: answers written over a reused buffer equal the fresh ones", "[bt_udp]") {
  std::string out;
  announce_reply(out, 9, 1800, 3, 4, std::string(60, 'p'));
  CHECK(out == announce_reply(9, 1800, 3, 4, std::string(60, 'p')));
  connect_reply(out, 7, 0x1122334455667788ULL);  // shorter: nothing of the last answer is left
  CHECK(out == connect_reply(7, 0x1122334455667788ULL));
  CHECK(out.size() == 16);
  error_reply(out, 5, "no");
  CHECK(out == error_reply(5, "no"));
  CHECK(out.size() == 10);
}

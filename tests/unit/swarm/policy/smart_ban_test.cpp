// SmartBan: only the peer whose block differs from the good copy is named.
#include <catch2/catch.hpp>

#include "swarm/policy/smart_ban.hpp"
#include "test_support.hpp"

using namespace p2p;

TEST_CASE("the liar among several senders of one piece is found", "[smart_ban]") {
  std::string good = test::random_bytes(4 * 1024, 5);
  std::string bad = good;
  bad[2 * 1024 + 10] ^= 1;  // block 2 was corrupted
  auto span = [](const std::string& s) { return std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); };
  SmartBan sb;
  sb.piece_failed(7, SmartBan::block_hashes(span(bad), 1024), {"a:1", "b:1", "c:1", "a:1"});
  CHECK(sb.suspected(7));
  auto liars = sb.piece_verified(7, SmartBan::block_hashes(span(good), 1024));
  CHECK(liars == std::vector<std::string>{"c:1"});
  CHECK_FALSE(sb.suspected(7));
  CHECK(sb.piece_verified(7, {}).empty());
}

TEST_CASE("suspects are bounded", "[smart_ban]") {
  SmartBan sb;
  for (std::uint32_t i = 0; i < SmartBan::kMaxSuspectPieces + 10; ++i) sb.piece_failed(i, {}, {});
  CHECK_FALSE(sb.suspected(0));
  CHECK(sb.suspected(SmartBan::kMaxSuspectPieces + 9));
}

// Relay frames: encode/decode round trips and every refusal of a bad hello.
#include <catch2/catch.hpp>

#include <array>

#include "format/relay_frames.hpp"

using namespace p2p;

namespace {
const std::string kTicket(64, 'f');
std::string header_of(const std::string& frame) { return frame.substr(relay::kPrefixBytes); }
}  // namespace

TEST_CASE("a hello round-trips", "[relay]") {
  for (auto role : {relay::Role::dialler, relay::Role::acceptor}) {
    std::string frame = relay::encode_hello({kTicket, role});
    std::array<std::uint8_t, 4> prefix{};
    std::copy_n(frame.begin(), 4, prefix.begin());
    auto n = relay::decode_length(prefix, relay::kMaxHelloHeaderBytes);
    REQUIRE(n);
    CHECK(*n == frame.size() - 4);
    std::string problem;
    auto h = relay::decode_hello(header_of(frame), problem);
    REQUIRE(h);
    CHECK(h->ticket == kTicket);
    CHECK(h->role == role);
  }
}

TEST_CASE("frame lengths outside 1..max are refused", "[relay]") {
  CHECK_FALSE(relay::decode_length(std::array<std::uint8_t, 4>{0, 0, 0, 0}, 1024));
  CHECK_FALSE(relay::decode_length(std::array<std::uint8_t, 4>{0, 0, 4, 1}, 1024));
  CHECK_FALSE(relay::decode_length(std::array<std::uint8_t, 4>{0xff, 0xff, 0xff, 0xff}, 1024));
  CHECK(relay::decode_length(std::array<std::uint8_t, 4>{0, 0, 4, 0}, 1024) == 1024u);
}

TEST_CASE("bad hellos are refused with a reason", "[relay]") {
  for (std::string bad : {std::string("not json"), std::string("[1,2]"), std::string(R"({"type":"handshake"})"),
                          std::string(R"({"type":"relay_hello","role":"dialler"})"),
                          R"({"type":"relay_hello","role":"dialler","ticket":")" + std::string(64, 'F') + "\"}",
                          R"({"type":"relay_hello","role":"dialler","ticket":")" + std::string(63, 'f') + "\"}",
                          R"({"type":"relay_hello","role":"both","ticket":")" + kTicket + "\"}",
                          R"({"type":"relay_hello","ticket":")" + kTicket + "\"}",
                          R"({"type":"relay_hello","role":"dialler","ticket":")" + kTicket + R"(","x":[[[[1]]]]})"}) {
    std::string problem;
    CHECK_FALSE(relay::decode_hello(bad, problem));
    CHECK_FALSE(problem.empty());
  }
  std::string problem;  // unknown fields are room to grow
  CHECK(relay::decode_hello(R"({"type":"relay_hello","role":"acceptor","v":2,"ticket":")" + kTicket + "\"}", problem));
}

TEST_CASE("the relay's answers decode as ready or refused", "[relay]") {
  std::string problem;
  auto ready = relay::decode_answer(header_of(relay::encode_ready()), problem);
  REQUIRE(ready);
  CHECK(ready->ready);
  auto refused = relay::decode_answer(header_of(relay::encode_refusal("no partner")), problem);
  REQUIRE(refused);
  CHECK_FALSE(refused->ready);
  CHECK(refused->refusal == "no partner");
  CHECK(header_of(relay::encode_refusal("x")).find("\"code\":\"relay_refused\"") != std::string::npos);
  CHECK(relay::encode_refusal(std::string(5000, 'x')).size() < relay::kMaxAnswerHeaderBytes);
  CHECK_FALSE(relay::decode_answer(R"({"type":"relay_hello"})", problem));
}

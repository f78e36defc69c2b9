// Swarm keys: HKDF-SHA256 against RFC 5869's vectors, and the derivations a private
// swarm uses (PSK, PSK identity, tracker id) are distinct and bound to the info hash.
#include <catch2/catch.hpp>

#include <string>

#include "format/swarm_key.hpp"

using namespace p2p;

namespace {
std::vector<std::uint8_t> bytes_from_hex(const std::string& h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}
}  // namespace

TEST_CASE("hkdf_sha256 matches RFC 5869 test cases 1 and 3 (first 32 bytes)", "[swarm_key]") {
  std::vector<std::uint8_t> ikm(22, 0x0b);
  auto salt = bytes_from_hex("000102030405060708090a0b0c");
  auto info = bytes_from_hex("f0f1f2f3f4f5f6f7f8f9");
  Digest okm = hkdf_sha256(ikm, salt, std::string(info.begin(), info.end()));
  CHECK(to_hex(okm) == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
  // Test case 3: no salt, no info.
  CHECK(to_hex(hkdf_sha256(ikm, {}, "")) == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
}

TEST_CASE("swarm keys are random; derivations are deterministic, distinct and bound to the info hash", "[swarm_key]") {
  SwarmKey a = generate_swarm_key(), b = generate_swarm_key();
  CHECK(a != b);
  CHECK(a != SwarmKey{});
  Digest ih{};
  ih[0] = 1;
  Digest other = ih;
  other[31] = 7;
  CHECK(swarm_psk(a, ih) == swarm_psk(a, ih));
  CHECK(swarm_psk(a, ih) != swarm_psk(b, ih));
  CHECK(swarm_psk(a, ih) != swarm_psk(a, other));
  CHECK(swarm_psk_identity(a, ih) != swarm_psk_identity(a, other));
  // The identity and the tracker id are public; neither may equal the PSK, each other or the info hash.
  CHECK(swarm_psk_identity(a, ih) != swarm_psk(a, ih));
  CHECK(tracker_swarm_id(a, ih) != swarm_psk(a, ih));
  CHECK(tracker_swarm_id(a, ih) != swarm_psk_identity(a, ih));
  CHECK(tracker_swarm_id(a, ih) != ih);
  CHECK(swarm_psk_identity(a, ih) != ih);
}

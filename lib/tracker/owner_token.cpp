// Owner token generation, parsing and comparison.
#include "tracker/owner_token.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>

#include "base/error.hpp"

namespace p2p::tracker {

namespace {
Digest hash_of(const std::array<std::uint8_t, 32>& raw) { return sha256(std::span<const std::uint8_t>(raw)); }
}  // namespace

OwnerToken new_owner_token() {
  std::array<std::uint8_t, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw Error(ExitCode::internal, "cannot draw random bytes for an owner token (OpenSSL RAND_bytes failed)");
  return OwnerToken{to_hex(raw), hash_of(raw)};
}

std::optional<Digest> owner_token_hash_from_header(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i)  // the scheme name is case-insensitive (RFC 9110)
    if ((value[i] | 0x20) != kScheme[i]) return std::nullopt;
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  std::array<std::uint8_t, 32> raw{};
  if (!from_hex(value, raw)) return std::nullopt;
  return hash_of(raw);
}

bool token_hashes_equal(const Digest& a, const Digest& b) {
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace p2p::tracker

// ControlToken: generation, saving, checking.
#include "web/control_token.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/sha256.hpp"

namespace p2p::web {

ControlToken ControlToken::generate() {
  std::array<std::uint8_t, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw Error(ExitCode::internal, "cannot draw random bytes for the HTTP control token (OpenSSL RAND_bytes failed)");
  return ControlToken(to_hex(raw));
}

void ControlToken::save(const std::filesystem::path& path) const { write_file_atomically(path, hex_ + "\n", 0600); }

bool ControlToken::authorizes(std::optional<std::string_view> value) const {
  if (!value) return false;
  std::string_view v = *value;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer ";
  if (v.size() != kScheme.size() + hex_.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i)  // the scheme is case-insensitive (RFC 9110)
    if ((v[i] | 0x20) != kScheme[i]) return false;
  v.remove_prefix(kScheme.size());
  unsigned char diff = 0;
  for (std::size_t i = 0; i < hex_.size(); ++i) diff |= static_cast<unsigned char>(v[i] ^ hex_[i]);
  return diff == 0;
}

}  // namespace p2p::web

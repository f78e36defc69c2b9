// Hex: encoding, decoding by table, checks.
#include "base/hex.hpp"

#include <array>

namespace p2p {

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2, '0');
  write_hex(bytes, out.data());
  return out;
}

namespace {
// Hex digit values, 0xff for anything else (a table: a meta holds a million digests).
constexpr std::array<std::uint8_t, 256> kHexValue = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(0xff);
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<std::uint8_t>(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = static_cast<std::uint8_t>(10 + c);
  return t;
}();
}  // namespace

bool from_hex(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  std::uint8_t bad = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint8_t hi = kHexValue[static_cast<unsigned char>(hex[2 * i])], lo = kHexValue[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= (hi | lo) & 0xf0;
    out[i] = static_cast<std::uint8_t>(hi << 4 | (lo & 0x0f));
  }
  return bad == 0;
}

bool is_hex(std::string_view s, std::size_t digits, bool lowercase_only) {
  if (s.size() != digits) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (!lowercase_only && c >= 'A' && c <= 'F');
    if (!ok) return false;
  }
  return true;
}

}  // namespace p2p

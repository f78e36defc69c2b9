// Hex text: the one encoder and decoder (digests, tokens, peer ids, SHA-1s, bitfields
// in JSON, escapes), and the checks shared by the wire codec, the tracker client and
// the tracker.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace p2p {

inline constexpr std::string_view kHexDigits = "0123456789abcdef";  // lowercase: the canonical form

// Writes 2 * bytes.size() lowercase hex digits to `out` (no terminator): for writers
// that fill a buffer of their own.
inline void write_hex(std::span<const std::uint8_t> bytes, char* out) {
  for (std::uint8_t b : bytes) {
    *out++ = kHexDigits[b >> 4];
    *out++ = kHexDigits[b & 15];
  }
}

// Lowercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);

// Parses exactly out.size() * 2 hex digits (either case) into out; false on anything else.
bool from_hex(std::string_view hex, std::span<std::uint8_t> out);

// True if `s` is exactly `digits` hex digits; lowercase only if asked (the wire
// protocol's canonical form), else either case.
bool is_hex(std::string_view s, std::size_t digits, bool lowercase_only = false);

}  // namespace p2p

// Bitfield: bit operations and the strict wire-form check.
#include "base/bitfield.hpp"

#include <bit>

namespace p2p {

Bitfield::Bitfield(std::uint32_t size, bool value)
    : bytes_(byte_length(size), value ? 0xff : 0), size_(size), count_(value ? size : 0) {
  if (value && size % 8) bytes_.back() = static_cast<std::uint8_t>(0xff00u >> (size % 8));
}

void Bitfield::set(std::uint32_t index) {
  std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (index & 7));
  if (!(bytes_[index >> 3] & mask)) {
    bytes_[index >> 3] |= mask;
    ++count_;
  }
}

void Bitfield::reset(std::uint32_t index) {
  std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (index & 7));
  if (bytes_[index >> 3] & mask) {
    bytes_[index >> 3] &= static_cast<std::uint8_t>(~mask);
    --count_;
  }
}

bool Bitfield::from_bytes(std::span<const std::uint8_t> bytes, std::uint32_t size, Bitfield& out) {
  if (bytes.size() != byte_length(size)) return false;
  if (size % 8 && (bytes.back() & (0xffu >> (size % 8)))) return false;
  out.size_ = size;
  out.bytes_.assign(bytes.begin(), bytes.end());
  out.count_ = 0;
  for (auto b : out.bytes_) out.count_ += static_cast<std::uint32_t>(std::popcount(b));
  return true;
}

}  // namespace p2p

// A fixed-size set of piece indexes, stored as bits (most significant bit of
// byte 0 is piece 0, as on the wire).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace p2p {

class Bitfield {
 public:
  Bitfield() = default;
  explicit Bitfield(std::uint32_t size, bool value = false);

  std::uint32_t size() const { return size_; }
  bool test(std::uint32_t index) const { return bytes_[index >> 3] & (0x80u >> (index & 7)); }
  void set(std::uint32_t index);
  void reset(std::uint32_t index);
  std::uint32_t count() const { return count_; }
  bool all() const { return count_ == size_; }
  bool none() const { return count_ == 0; }

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  static std::size_t byte_length(std::uint32_t size) { return (std::size_t{size} + 7) / 8; }
  // False if the length is wrong or spare bits past `size` are set.
  static bool from_bytes(std::span<const std::uint8_t> bytes, std::uint32_t size, Bitfield& out);

  bool operator==(const Bitfield& other) const { return size_ == other.size_ && bytes_ == other.bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
  std::uint32_t size_ = 0;
  std::uint32_t count_ = 0;
};

}  // namespace p2p

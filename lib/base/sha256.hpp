// SHA-256 behind a tiny interface (OpenSSL EVP underneath), so nothing else
// includes OpenSSL headers.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "base/hex.hpp"  // to_hex, from_hex: digests travel as hex

namespace p2p {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  Digest finish();  // resets for reuse

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest sha256(std::span<const std::uint8_t> data);
Digest sha256(std::string_view data);

// Fetches OpenSSL's SHA-256 implementation on a thread of its own while its owner does
// something else, and joins that thread when destroyed: the first fetch in a process loads
// the provider (~2 ms here), which otherwise falls on the first hash. Starts nothing once
// the implementation has been fetched. Joined, never detached: a process that exits (a
// meta refused at once) must not do so while OpenSSL is being set up on another thread.
// Not a job on the hashing pool: its owner may itself run on a pool thread, where waiting
// for a job queued behind it could wait for ever.
class Sha256Prefetch {
 public:
  Sha256Prefetch();
  ~Sha256Prefetch();
  Sha256Prefetch(const Sha256Prefetch&) = delete;
  Sha256Prefetch& operator=(const Sha256Prefetch&) = delete;

 private:
  std::thread thread_;
};

// Root of a binary hash tree over `leaves` (as BitTorrent v2, BEP 52, builds over
// piece hashes): the leaf layer is padded with all-zero digests to a power of two,
// each parent is SHA-256(left || right). One leaf is its own root; no leaves give
// the all-zero digest. Cost: one SHA-256 of 64 bytes per leaf, ~1 ms for 4,000 pieces.
Digest merkle_root(std::span<const Digest> leaves);

// Parses exactly 64 hex digits; false on anything else.
bool digest_from_hex(std::string_view hex, Digest& out);

}  // namespace p2p

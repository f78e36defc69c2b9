// Smart ban: when a piece assembled from several peers' blocks fails its hash,
// nobody is punished yet; the failed copy's block hashes and their senders are
// kept, and once a good copy of the piece verifies, the blocks that differ name
// exactly the peers that lied. Pure bookkeeping, bounded.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/sha256.hpp"

namespace p2p {

class SmartBan {
 public:
  static constexpr std::size_t kMaxSuspectPieces = 64;

  static std::vector<Digest> block_hashes(std::span<const std::uint8_t> piece, std::uint32_t block_size);

  // A piece failed; block_source[i] sent block i (empty if unknown).
  void piece_failed(std::uint32_t piece, std::vector<Digest> block_hashes, std::vector<std::string> block_source);
  bool suspected(std::uint32_t piece) const { return suspects_.count(piece) > 0; }
  // A good copy verified: returns the senders of blocks that differ from it (the liars).
  std::vector<std::string> piece_verified(std::uint32_t piece, const std::vector<Digest>& good_hashes);

 private:
  struct Suspect {
    std::vector<Digest> block_hashes;
    std::vector<std::string> block_source;
  };
  std::map<std::uint32_t, Suspect> suspects_;
};

}  // namespace p2p

// SmartBan: compare a failed piece with its good copy, block by block.
#include "swarm/policy/smart_ban.hpp"

#include <algorithm>

namespace p2p {

std::vector<Digest> SmartBan::block_hashes(std::span<const std::uint8_t> piece, std::uint32_t block_size) {
  std::vector<Digest> out;
  for (std::size_t at = 0; at < piece.size(); at += block_size)
    out.push_back(sha256(piece.subspan(at, std::min<std::size_t>(block_size, piece.size() - at))));
  return out;
}

void SmartBan::piece_failed(std::uint32_t piece, std::vector<Digest> hashes, std::vector<std::string> sources) {
  if (!suspects_.count(piece) && suspects_.size() >= kMaxSuspectPieces) suspects_.erase(suspects_.begin());
  suspects_[piece] = Suspect{std::move(hashes), std::move(sources)};
}

std::vector<std::string> SmartBan::piece_verified(std::uint32_t piece, const std::vector<Digest>& good) {
  std::vector<std::string> liars;
  auto it = suspects_.find(piece);
  if (it == suspects_.end()) return liars;
  const auto& s = it->second;
  for (std::size_t b = 0; b < good.size() && b < s.block_hashes.size() && b < s.block_source.size(); ++b)
    if (good[b] != s.block_hashes[b] && !s.block_source[b].empty() &&
        std::find(liars.begin(), liars.end(), s.block_source[b]) == liars.end())
      liars.push_back(s.block_source[b]);
  suspects_.erase(it);
  return liars;
}

}  // namespace p2p

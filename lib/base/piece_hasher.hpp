// Hashes a file's pieces on every core: the one pass that p2p-create, the seeder's
// start-up check and a download's resume each make over a file, split by piece so
// that no single core sets its speed.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "base/file_io.hpp"
#include "base/sha256.hpp"

namespace p2p {

// SHA-256 of every piece of the first `size` bytes of `file` (pieces of `piece_size`
// bytes, the last one short) whose index `wanted` accepts, or of all of them when
// `wanted` is empty (it is called from several threads at once); other entries stay
// all-zero. `threads` workers (0: one per core), each reading 1 MiB at a time so the
// bytes are hashed while still in its cache. Memory: 1 MiB per worker. Rethrows the
// first read error.
std::vector<Digest> hash_pieces(const File& file, std::uint64_t size, std::uint64_t piece_size,
                                const std::function<bool(std::uint32_t)>& wanted = {}, unsigned threads = 0);

}  // namespace p2p

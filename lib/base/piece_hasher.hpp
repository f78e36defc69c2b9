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

// Pieces of many files laid out one after another (a tree: each file starts on a
// piece boundary, its pieces consecutive from first_piece). `open(i)` opens file i
// (it may throw, or return a closed File: then its pieces stay all-zero). Workers
// claim groups of ~1 MiB of one file's pieces, so each file is opened by one worker
// at a time, and a worker holds one descriptor: 20,000 small files cost 20,000
// opens spread over the pool, never 20,000 descriptors or threads. With
// `read_errors_mismatch` a read error (a short file) leaves that group all-zero
// (resume: not verified) instead of failing the whole pass.
struct HashedFile {
  std::uint64_t size = 0;
  std::uint32_t first_piece = 0;
};
std::vector<Digest> hash_file_pieces(const std::vector<HashedFile>& files, std::uint64_t piece_size,
                                     std::uint32_t total_pieces, const std::function<File(std::size_t)>& open,
                                     const std::function<bool(std::uint32_t)>& wanted = {},
                                     bool read_errors_mismatch = false);

}  // namespace p2p

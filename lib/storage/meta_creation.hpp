// Making a meta: reading a file or walking a folder, hashing its pieces on the process's
// hashing pool. The disk and threads of it live here, beside the piece store; format/meta
// keeps the format itself (parse, validate, encode, the info hash), with no I/O.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/sha256.hpp"
#include "format/meta.hpp"

namespace p2p {

struct FileHashes {
  std::uint64_t size = 0;
  std::vector<Digest> pieces;
  Digest file_hash{};  // all-zero unless asked for
};
// Piece hashes on all cores with flat memory (hash_pieces). want_file_hash adds the
// whole-file SHA-256: one more thread reading the file in order alongside, which
// sets the pace (~1 s per GiB at ~1.1 GB/s per core here).
FileHashes hash_file(const std::filesystem::path& path, std::uint64_t piece_size, bool want_file_hash);

// Builds a format-2 Meta for the file at path (piece_size 0 = automatic); with
// whole_file_hash it also records the file's SHA-256 (what `sha256sum` prints).
// With private_swarm, a fresh random swarm key is generated (write the meta with mode 0600:
// meta_file_mode()).
Meta create_meta(const std::filesystem::path& path, std::uint64_t piece_size,
                 const std::vector<std::string>& trackers, bool whole_file_hash = false, bool private_swarm = false);

// Builds a format-3 Meta for the folder at dir: every regular file and empty
// folder under it, walked without following symbolic links. Links and special
// files (fifos, sockets, devices) are skipped; each skip is passed to `warn`
// (one line naming it). Files are hashed on the process's hashing pool, one
// descriptor per worker. Error(input_file) naming an unreadable file or folder.
// The listing part of create_tree_meta (files, sizes, exec bits, empty folders, total
// size; no pieces): what a folder holds now, to compare with a meta made earlier.
Meta scan_tree(const std::filesystem::path& dir, const std::function<void(const std::string&)>& warn);
bool same_listing(const Meta& a, const Meta& b);  // files (path, size, exec) and empty folders equal
Meta create_tree_meta(const std::filesystem::path& dir, std::uint64_t piece_size,
                      const std::vector<std::string>& trackers, bool private_swarm,
                      const std::function<void(const std::string&)>& warn);

}  // namespace p2p

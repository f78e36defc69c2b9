// The .p2pmeta file: what a shared file is (name, sizes, piece hashes) and the
// info hash that names its swarm. Parsing validates everything; a Meta in memory
// is always consistent.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.hpp"
#include "format/swarm_key.hpp"

namespace p2p {

// Format 1: the whole-file SHA-256 is part of the file's identity, so creating and
// checking a file each take one sequential pass that no number of cores shortens.
// Format 2: the identity is the piece hashes and their Merkle root (hashed on all
// cores); a whole-file SHA-256 is optional (p2p-create --sha256). Both are read;
// p2p-create writes format 2.
// Format 3: a tree (p2p-create DIR): files with relative paths, each starting on
// a piece boundary, and empty folders. Single files stay format 2 (same info hash
// as before); releases that read 1-2 refuse a tree as an unknown format.
inline constexpr int kMetaFormatVersion = 2;
inline constexpr int kTreeMetaFormatVersion = 3;
inline constexpr int kOldestMetaFormatVersion = 1;

// One file of a tree. `path` is relative ("a/b.txt"), validated component by
// component; first_piece and piece_count are derived at parse (files are laid
// out in path order, each starting on a piece boundary; an empty file has none).
struct MetaFile {
  std::string path;
  std::uint64_t size = 0;
  bool executable = false;
  std::uint32_t first_piece = 0;
  std::uint32_t piece_count = 0;
};

struct Meta {
  int version = kMetaFormatVersion;
  std::string name;             // base name only, validated by validate_file_name
  std::uint64_t size = 0;       // bytes
  std::uint64_t piece_size = 0; // bytes, power of two in [16 KiB, 16 MiB]
  std::vector<Digest> pieces;   // SHA-256 of each piece; the last may be short
  Digest root{};                // format 2: merkle_root(pieces); format 1: all-zero (absent)
  bool has_file_hash = false;   // format 1: always; format 2: only if created with --sha256
  Digest file_hash{};           // SHA-256 of the whole file if has_file_hash, else all-zero
  Digest info_hash{};           // SHA-256 of canonical_info(): names the swarm
  std::vector<std::string> trackers;  // "host:port"
  std::int64_t created = 0;     // unix seconds; not part of the info hash
  // A private swarm (p2p-create --private): "private": true is part of the info (a copy
  // stripped of it is another swarm); the key is not (it never reaches the info hash,
  // a tracker or the wire). Peers talk TLS 1.3 with a PSK derived from it, never plaintext.
  bool is_private = false;
  SwarmKey swarm_key{};         // meaningful only if is_private
  // Format 3 only: the tree's files sorted by path (bytewise), and the folders
  // that no file implies (empty ones), sorted. `size` is the sum of file sizes.
  std::vector<MetaFile> files;
  std::vector<std::string> empty_dirs;

  bool is_tree() const { return version >= kTreeMetaFormatVersion; }
  std::uint32_t piece_count() const { return static_cast<std::uint32_t>(pieces.size()); }
  // The file holding a piece (trees; binary search over first_piece). Single file: 0.
  std::uint32_t file_of_piece(std::uint32_t index) const;
  // Offset of a piece within its file (the one file, or file_of_piece for a tree).
  std::uint64_t piece_offset(std::uint32_t index) const;
  std::uint32_t piece_length(std::uint32_t index) const;
  // Every piece's length, in one pass over the files (piece_length for each index
  // searches the file list: 20,000 files' pieces took a millisecond).
  std::vector<std::uint32_t> piece_lengths() const;
  std::string info_hash_hex() const { return to_hex(info_hash); }
};

// Number of pieces a file of `size` bytes has with `piece_size` pieces.
std::uint64_t piece_count_for(std::uint64_t size, std::uint64_t piece_size);
// Smallest power of two in [256 KiB (a request block), 16 MiB] giving at most ~4,000 pieces.
std::uint64_t auto_piece_size(std::uint64_t file_size);

// Throws Error(bad_meta) if name is not a safe single path component:
// empty, ".", "..", contains '/', '\\', NUL or control characters, or too long.
void validate_file_name(std::string_view name);
// Throws Error(bad_meta) unless path is a safe relative path inside a tree: every
// component passes validate_file_name, at most kMaxPathDepth components and
// kMaxPathBytes bytes (so no leading or doubled '/', no "..", no ".p2p").
void validate_tree_path(std::string_view path);
// Throws Error(usage) unless "host:port" with a port in 1..65535.
void validate_tracker(std::string_view tracker);

// The immutable part in canonical form (sorted keys, no spaces); its SHA-256 is the info hash.
std::string canonical_info(const Meta& meta);
// SHA-256 of canonical_info(meta), hashed as it is written (never held whole).
Digest info_hash_of(const Meta& meta);

// Parses and validates meta JSON in one streaming pass (format/meta_reader.cpp);
// `origin` names the source in error messages. Recomputes the info hash and refuses
// a file whose stated hash differs. Its cost is bounded by the limits of limits.hpp
// (pieces, tree entries, path bytes, path components, folders, token length), each
// checked as the list grows.
// Everything on the caller's thread (the tracker checks published metas on an idle-priority
// thread, which must not hand work to normal-priority ones).
Meta parse_meta(std::string_view json_text, std::string_view origin);
// The same from a file read in 64 KiB slices: Error(input_file) for a file over
// kMaxMetaFileBytes, before a byte is read. A big meta's two digests (Merkle root, info
// hash) run side by side on the hashing pool (base/hash_pool.hpp).
Meta load_meta(const std::filesystem::path& path);
std::string meta_to_json(const Meta& meta);  // pretty (indent 1), ends in newline
std::string meta_to_compact_json(const Meta& meta);  // the same fields without spaces or newline

// The mode a meta file is written with: 0600 for a private meta (it holds the key), else 0644.
unsigned meta_file_mode(const Meta& meta);

}  // namespace p2p

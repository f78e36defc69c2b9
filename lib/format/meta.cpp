// Meta: piece layout, piece sizes, and the checks of names, paths and trackers
// (creation, which reads the disk, is storage/meta_creation).
#include "format/meta.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <limits>

#include "base/address.hpp"
#include "base/utf8.hpp"
#include "base/error.hpp"
#include "base/limits.hpp"

namespace p2p {

std::uint32_t Meta::file_of_piece(std::uint32_t index) const {
  if (!is_tree()) return 0;
  // The last file whose first piece is <= index and that has pieces: empty files
  // share a first_piece with the next file, so ties go to the one with pieces.
  auto it = std::upper_bound(files.begin(), files.end(), index,
                             [](std::uint32_t i, const MetaFile& f) { return i < f.first_piece; });
  while (it != files.begin() && std::prev(it)->piece_count == 0) --it;
  return static_cast<std::uint32_t>(std::prev(it) - files.begin());
}

std::uint64_t Meta::piece_offset(std::uint32_t index) const {
  if (!is_tree()) return std::uint64_t{index} * piece_size;
  return std::uint64_t{index - files[file_of_piece(index)].first_piece} * piece_size;
}

std::uint32_t Meta::piece_length(std::uint32_t index) const {
  if (!is_tree()) return static_cast<std::uint32_t>(std::min(piece_size, size - piece_offset(index)));
  const MetaFile& f = files[file_of_piece(index)];
  return static_cast<std::uint32_t>(std::min(piece_size, f.size - std::uint64_t{index - f.first_piece} * piece_size));
}

std::vector<std::uint32_t> Meta::piece_lengths() const {
  std::vector<std::uint32_t> v(piece_count());
  if (!is_tree()) {
    for (std::uint32_t i = 0; i < v.size(); ++i) v[i] = piece_length(i);
    return v;
  }
  for (const MetaFile& f : files)
    for (std::uint32_t k = 0; k < f.piece_count; ++k)
      v[f.first_piece + k] = static_cast<std::uint32_t>(std::min(piece_size, f.size - std::uint64_t{k} * piece_size));
  return v;
}

std::uint64_t piece_count_for(std::uint64_t size, std::uint64_t piece_size) {
  // Not (size + piece_size - 1) / piece_size: that wraps for sizes near 2^64 (found by fuzz_meta_parser).
  return piece_size == 0 ? 0 : size / piece_size + (size % piece_size != 0);
}

std::uint64_t auto_piece_size(std::uint64_t file_size) {
  // ~1,000 pieces between kMinAutoPieceSize and kMaxAutoPieceSize (limits.hpp says why),
  // then bigger pieces only when a file would otherwise exceed kMaxPieces.
  std::uint64_t ps = limits::kMinAutoPieceSize;
  while (ps < limits::kMaxAutoPieceSize && piece_count_for(file_size, ps) > limits::kTargetMaxPieces) ps *= 2;
  while (ps < limits::kMaxPieceSize && piece_count_for(file_size, ps) > limits::kMaxPieces) ps *= 2;
  return ps;
}

void validate_file_name(std::string_view name) {
  auto bad = [&](std::string_view why) {
    throw Error(ExitCode::bad_meta, fmt::format("unsafe file name {:?}: {}", std::string(name), why));
  };
  if (name.empty()) bad("empty");
  if (name.size() > limits::kMaxNameBytes) bad(fmt::format("longer than {} bytes", limits::kMaxNameBytes));
  if (name == "." || name == "..") bad("a relative path component");
  if (name == ".p2p") bad("reserved: p2p-share keeps its own files in a folder of that name");
  if (!is_valid_utf8(name)) bad("not valid UTF-8");
  for (unsigned char c : name) {
    if (c == '/' || c == '\\') bad("contains a path separator");
    if (c < 0x20 || c == 0x7f) bad("contains a control character");
  }
}

void validate_tree_path(std::string_view path) {
  auto bad = [&](std::string_view why) {
    throw Error(ExitCode::bad_meta, fmt::format("unsafe path {:?}: {}", std::string(path), why));
  };
  if (path.empty()) bad("empty");
  if (path.size() > limits::kMaxPathBytes) bad(fmt::format("longer than {} bytes", limits::kMaxPathBytes));
  if (path.front() == '/') bad("absolute");
  std::size_t depth = 0;
  for (std::size_t at = 0;;) {
    std::size_t slash = path.find('/', at);
    std::string_view part = path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    if (++depth > limits::kMaxPathDepth) bad(fmt::format("more than {} components", limits::kMaxPathDepth));
    try {
      validate_file_name(part);
    } catch (const Error& e) {
      bad(e.what());
    }
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
}

void validate_tracker(std::string_view tracker) {
  std::string why;
  bool printable = true;
  for (unsigned char c : tracker) printable &= c > 0x20 && c != 0x7f && c != '/';
  if (!printable) why = "contains a space, a slash or a control character";
  if (!printable || !parse_host_port(tracker, why))
    throw Error(ExitCode::usage, fmt::format("tracker {:?}: {}", std::string(tracker), why));
}

unsigned meta_file_mode(const Meta& meta) { return meta.is_private ? 0600 : 0644; }

}  // namespace p2p

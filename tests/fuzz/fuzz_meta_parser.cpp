// Fuzzes p2p::parse_meta (formats 1 and 2). Only p2p::Error may escape. Random
// bytes almost never carry the right root and info hash, so JSON objects are also
// retried with the Merkle root of their pieces and the info hash parse_meta says it
// computed, which lets accepted metas be explored too.
// Invariants of an accepted meta: a safe name, piece count == ceil(size /
// piece_size), a non-empty last piece, format 2's root == merkle_root(pieces),
// format 1 has its whole-file hash, and meta_to_json -> parse_meta round-trips
// to the same format, root and info hash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "format/meta.hpp"

using namespace p2p;

namespace {

// A tree that parsed: every path safe, sorted and unique, no file under a file, pieces
// laid out file after file, each file's pieces inside it.
void check_tree(const Meta& m) {
  std::uint64_t total = 0;
  std::uint32_t next = 0;
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const MetaFile& f = m.files[i];
    try {
      validate_tree_path(f.path);
    } catch (const Error&) {
      __builtin_trap();
    }
    if (i > 0 && !(m.files[i - 1].path < f.path)) __builtin_trap();
    if (i > 0 && f.path.rfind(m.files[i - 1].path + "/", 0) == 0) __builtin_trap();
    if (f.first_piece != next) __builtin_trap();
    next += f.piece_count;
    total += f.size;
    for (std::uint32_t p = f.first_piece; p < f.first_piece + f.piece_count; ++p) {
      if (m.file_of_piece(p) != i) __builtin_trap();
      if (m.piece_length(p) == 0 || m.piece_offset(p) + m.piece_length(p) > f.size) __builtin_trap();
    }
  }
  if (next != m.piece_count() || total != m.size || m.has_file_hash) __builtin_trap();
  for (const auto& d : m.empty_dirs) {
    try {
      validate_tree_path(d);
    } catch (const Error&) {
      __builtin_trap();
    }
  }
}

void check_accepted(const Meta& m) {
  try {
    validate_file_name(m.name);
  } catch (const Error&) {
    __builtin_trap();
  }
  if (m.piece_size == 0) __builtin_trap();
  if (m.is_tree()) check_tree(m);
  const std::uint64_t want = m.size / m.piece_size + (m.size % m.piece_size != 0);  // ceil, no overflow
  if (!m.is_tree() && m.pieces.size() != want) __builtin_trap();
  if (!m.pieces.empty() && !m.is_tree()) {
    std::uint32_t last = m.piece_count() - 1;
    if (m.piece_length(last) == 0 || m.piece_length(last) > m.piece_size) __builtin_trap();
    if (m.piece_offset(last) + m.piece_length(last) != m.size) __builtin_trap();
  }
  if (m.version < 1 || m.version > 3) __builtin_trap();
  if (m.version == 1 && (!m.has_file_hash || m.root != Digest{})) __builtin_trap();
  if (m.version >= 2 && m.root != merkle_root(m.pieces)) __builtin_trap();
  if (!m.has_file_hash && m.file_hash != Digest{}) __builtin_trap();
  Meta again;
  try {
    again = parse_meta(meta_to_json(m), "fuzz round trip");
  } catch (const Error&) {
    __builtin_trap();  // we refused what we ourselves wrote
  }
  if (again.info_hash != m.info_hash || again.info_hash != sha256(canonical_info(m))) __builtin_trap();
  if (again.version != m.version || again.root != m.root || again.has_file_hash != m.has_file_hash) __builtin_trap();
}

// Sets "root" to the Merkle root of "pieces" when every piece is a valid digest.
void fix_root(nlohmann::json& j) {
  auto it = j.find("pieces");
  if (it == j.end() || !it->is_array() || it->size() > 4096) return;
  std::vector<Digest> leaves;
  for (const auto& p : *it) {
    Digest d{};
    if (!p.is_string() || !digest_from_hex(p.get_ref<const std::string&>(), d)) return;
    leaves.push_back(d);
  }
  j["root"] = to_hex(merkle_root(leaves));
}

void parse(std::string_view text) {
  try {
    check_accepted(parse_meta(text, "fuzz"));
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  parse(text);

  // Second chance with the root and the info hash fixed up (only for JSON objects).
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 0;
  if (j.contains("root")) fix_root(j);
  j["info_hash"] = std::string(64, '0');
  std::string fixed = j.dump();
  try {
    check_accepted(parse_meta(fixed, "fuzz"));
    return 0;
  } catch (const Error& e) {
    std::string_view msg = e.what();
    constexpr std::string_view kComputed = "(computed ";
    auto at = msg.rfind(kComputed);
    if (at == std::string_view::npos || msg.size() < at + kComputed.size() + 64) return 0;
    j["info_hash"] = std::string(msg.substr(at + kComputed.size(), 64));
  }
  parse(j.dump());
  return 0;
}

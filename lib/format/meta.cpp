// Meta parsing, validation, canonical info hash and creation (piece hashes on all cores).
#include "format/meta.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/address.hpp"
#include "base/utf8.hpp"
#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "base/piece_hasher.hpp"
#include "format/bounded_json.hpp"

namespace p2p {

using nlohmann::json;

std::uint32_t Meta::piece_length(std::uint32_t index) const {
  std::uint64_t start = piece_offset(index);
  return static_cast<std::uint32_t>(std::min(piece_size, size - start));
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

void validate_tracker(std::string_view tracker) {
  std::string why;
  bool printable = true;
  for (unsigned char c : tracker) printable &= c > 0x20 && c != 0x7f && c != '/';
  if (!printable) why = "contains a space, a slash or a control character";
  if (!printable || !parse_host_port(tracker, why))
    throw Error(ExitCode::usage, fmt::format("tracker {:?}: {}", std::string(tracker), why));
}

static json info_json(const Meta& m) {
  json pieces = json::array();
  for (const auto& d : m.pieces) pieces.push_back(to_hex(d));
  json info{{"version", m.version}, {"name", m.name}, {"size", m.size}, {"piece_size", m.piece_size},
            {"pieces", std::move(pieces)}};
  if (m.version >= 2) info["root"] = to_hex(m.root);
  if (m.has_file_hash) info["file_sha256"] = to_hex(m.file_hash);
  if (m.is_private) info["private"] = true;  // committed to: a stripped copy is another swarm
  return info;
}

std::string canonical_info(const Meta& meta) { return info_json(meta).dump(); }

namespace {

[[noreturn]] void reject(std::string_view origin, std::string_view what) {
  throw Error(ExitCode::bad_meta, fmt::format("invalid meta {}: {}", origin, what));
}

const json& field(const json& j, const char* key, std::string_view origin) {
  auto it = j.find(key);
  if (it == j.end()) reject(origin, fmt::format("missing field \"{}\"", key));
  return *it;
}

std::uint64_t uint_field(const json& j, const char* key, std::string_view origin) {
  const json& v = field(j, key, origin);
  if (!v.is_number_unsigned()) reject(origin, fmt::format("\"{}\" must be a non-negative integer", key));
  return v.get<std::uint64_t>();
}

std::string string_field(const json& j, const char* key, std::string_view origin) {
  const json& v = field(j, key, origin);
  if (!v.is_string()) reject(origin, fmt::format("\"{}\" must be a string", key));
  return v.get<std::string>();
}

Digest digest_field(const json& v, std::string_view what, std::string_view origin) {
  Digest d{};
  if (!v.is_string() || !digest_from_hex(v.get_ref<const std::string&>(), d))
    reject(origin, fmt::format("{} must be 64 hex digits", what));
  return d;
}

}  // namespace

Meta parse_meta(std::string_view json_text, std::string_view origin) {
  // Bounded memory per byte of input: the parse stops at the first value past
  // what any meta can hold, or at nesting no meta has.
  json j;
  BoundedJsonProblem problem{};
  if (!parse_bounded_json(json_text, {limits::kMaxMetaJsonValues, limits::kMaxMetaJsonDepth}, j, problem)) {
    if (problem == BoundedJsonProblem::too_deep) reject(origin, "nested deeper than a meta can be");
    if (problem == BoundedJsonProblem::too_many_values)
      reject(origin, fmt::format("more than {} JSON values: larger than any meta can be", limits::kMaxMetaJsonValues));
    reject(origin, "not valid JSON");
  }
  if (!j.is_object()) reject(origin, "top level must be a JSON object");

  Meta m;
  std::uint64_t version = uint_field(j, "version", origin);
  if (version < kOldestMetaFormatVersion || version > kMetaFormatVersion)
    reject(origin, fmt::format("format version {} is not supported (this build reads {} to {})", version,
                               kOldestMetaFormatVersion, kMetaFormatVersion));
  m.version = static_cast<int>(version);
  m.name = string_field(j, "name", origin);
  try {
    validate_file_name(m.name);
  } catch (const Error& e) {
    reject(origin, e.what());
  }
  m.size = uint_field(j, "size", origin);
  m.piece_size = uint_field(j, "piece_size", origin);
  if (!std::has_single_bit(m.piece_size) || m.piece_size < limits::kMinPieceSize || m.piece_size > limits::kMaxPieceSize)
    reject(origin, fmt::format("piece_size {} is not a power of two between {} and {}", m.piece_size,
                               limits::kMinPieceSize, limits::kMaxPieceSize));
  std::uint64_t expected = piece_count_for(m.size, m.piece_size);
  if (expected > limits::kMaxPieces)
    reject(origin, fmt::format("{} pieces is more than the {} allowed", expected, limits::kMaxPieces));
  const json& pieces = field(j, "pieces", origin);
  if (!pieces.is_array()) reject(origin, "\"pieces\" must be an array");
  if (pieces.size() != expected)
    reject(origin, fmt::format("size {} with piece_size {} needs {} pieces, but {} are listed", m.size, m.piece_size,
                               expected, pieces.size()));
  m.pieces.reserve(pieces.size());
  for (std::size_t i = 0; i < pieces.size(); ++i)
    m.pieces.push_back(digest_field(pieces[i], fmt::format("pieces[{}]", i), origin));
  if (m.version == 1 || j.contains("file_sha256")) {  // format 1 requires it, format 2 may have it
    m.file_hash = digest_field(field(j, "file_sha256", origin), "\"file_sha256\"", origin);
    m.has_file_hash = true;
  }
  if (m.version >= 2) {
    // Redundant with the pieces by design: a short, name-free identity of the content.
    // A root that disagrees with the pieces is a broken or forged meta.
    m.root = digest_field(field(j, "root", origin), "\"root\"", origin);
    Digest computed = merkle_root(m.pieces);
    if (computed != m.root)
      reject(origin, fmt::format("root {} is not the Merkle root of the listed pieces, which is {}", to_hex(m.root),
                                 to_hex(computed)));
  }

  if (auto it = j.find("private"); it != j.end()) {
    if (!it->is_boolean()) reject(origin, "\"private\" must be true or false");
    m.is_private = it->get<bool>();
  }
  if (auto it = j.find("swarm_key"); it != j.end()) {
    if (!m.is_private) reject(origin, "\"swarm_key\" in a meta that is not \"private\"");
    m.swarm_key = digest_field(*it, "\"swarm_key\"", origin);
  } else if (m.is_private) {
    reject(origin, "a private meta needs its \"swarm_key\" (64 hex digits); ask whoever shared it for the full meta");
  }

  if (auto it = j.find("trackers"); it != j.end()) {
    if (!it->is_array()) reject(origin, "\"trackers\" must be an array of \"host:port\" strings");
    if (it->size() > limits::kMaxTrackers) reject(origin, fmt::format("more than {} trackers", limits::kMaxTrackers));
    for (const auto& t : *it) {
      if (!t.is_string()) reject(origin, "\"trackers\" must be an array of \"host:port\" strings");
      try {
        validate_tracker(t.get_ref<const std::string&>());
      } catch (const Error& e) {
        reject(origin, e.what());
      }
      m.trackers.push_back(t.get<std::string>());
    }
  }
  if (auto it = j.find("created"); it != j.end()) {
    if (!it->is_number_integer()) reject(origin, "\"created\" must be an integer (unix seconds)");
    m.created = it->get<std::int64_t>();
  }

  m.info_hash = sha256(canonical_info(m));
  Digest stated = digest_field(field(j, "info_hash", origin), "\"info_hash\"", origin);
  if (stated != m.info_hash)
    reject(origin, fmt::format("info_hash {} does not match its contents (computed {})", to_hex(stated),
                               to_hex(m.info_hash)));
  return m;
}

Meta load_meta(const std::filesystem::path& path) {
  std::string text = read_small_file(path, limits::kMaxMetaFileBytes);
  return parse_meta(text, path.string());
}

std::string meta_to_json(const Meta& meta) {
  json j = info_json(meta);
  j["info_hash"] = meta.info_hash_hex();
  j["trackers"] = meta.trackers;
  j["created"] = meta.created;
  if (meta.is_private) j["swarm_key"] = to_hex(meta.swarm_key);
  return j.dump(1) + "\n";
}

unsigned meta_file_mode(const Meta& meta) { return meta.is_private ? 0600 : 0644; }

FileHashes hash_file(const std::filesystem::path& path, std::uint64_t piece_size, bool want_file_hash) {
  File file(path, File::Mode::read);
  FileHashes out;
  out.size = file.size();
  std::uint64_t count = piece_count_for(out.size, piece_size);
  if (count > limits::kMaxPieces)
    throw Error(ExitCode::usage, fmt::format("{} would need {} pieces of {} bytes; the limit is {}", path.string(),
                                             count, piece_size, limits::kMaxPieces));
  file.advise_sequential();

  // The whole-file hash reads the file itself, in order, beside the piece workers:
  // it is the long pole either way, and sharing buffers with them made both wait.
  Sha256 whole;
  std::exception_ptr whole_failure;
  std::atomic<bool> stop{false};
  std::jthread whole_thread;
  if (want_file_hash) {
    whole_thread = std::jthread([&] {
      try {
        std::vector<std::uint8_t> buf(static_cast<std::size_t>(std::min<std::uint64_t>(1 << 20, out.size)));
        for (std::uint64_t at = 0; at < out.size && !stop; at += buf.size()) {
          std::span<std::uint8_t> part(buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), out.size - at)));
          file.read_at(at, part);
          whole.update(part);
        }
      } catch (...) {
        whole_failure = std::current_exception();
      }
    });
  }
  try {
    // The whole-file thread gets a core of its own: it is the one that cannot be split.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    out.pieces = hash_pieces(file, out.size, piece_size, {}, want_file_hash ? std::max(1u, cores - 1) : cores);
  } catch (...) {
    stop = true;
    throw;  // whole_thread joins on the way out
  }
  if (whole_thread.joinable()) whole_thread.join();
  if (whole_failure) std::rethrow_exception(whole_failure);
  if (file.size() != out.size)
    throw Error(ExitCode::input_file, fmt::format("{} changed size while being hashed", path.string()));
  if (want_file_hash) out.file_hash = whole.finish();
  return out;
}

Meta create_meta(const std::filesystem::path& path, std::uint64_t piece_size,
                 const std::vector<std::string>& trackers, bool whole_file_hash, bool private_swarm) {
  auto name = path.filename().string();
  validate_file_name(name);
  for (const auto& t : trackers) validate_tracker(t);
  if (trackers.size() > limits::kMaxTrackers)
    throw Error(ExitCode::usage, fmt::format("at most {} trackers", limits::kMaxTrackers));
  Meta m;
  {
    File probe(path, File::Mode::read);
    m.size = probe.size();
  }
  if (piece_size == 0) piece_size = auto_piece_size(m.size);
  if (!std::has_single_bit(piece_size) || piece_size < limits::kMinPieceSize || piece_size > limits::kMaxPieceSize)
    throw Error(ExitCode::usage, fmt::format("piece size {} is not a power of two between {} and {}", piece_size,
                                             limits::kMinPieceSize, limits::kMaxPieceSize));
  m.piece_size = piece_size;
  m.name = name;
  FileHashes h = hash_file(path, piece_size, whole_file_hash);
  m.size = h.size;
  m.pieces = std::move(h.pieces);
  m.root = merkle_root(m.pieces);
  m.has_file_hash = whole_file_hash;
  m.file_hash = h.file_hash;
  m.trackers = trackers;
  m.is_private = private_swarm;
  if (private_swarm) m.swarm_key = generate_swarm_key();
  m.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  m.info_hash = sha256(canonical_info(m));
  return m;
}

}  // namespace p2p

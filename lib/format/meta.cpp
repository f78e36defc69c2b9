// Meta parsing, validation, canonical info hash and creation (piece hashes on all cores).
#include "format/meta.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <limits>
#include <thread>
#include <unordered_set>

#include "base/address.hpp"
#include "base/utf8.hpp"
#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "base/piece_hasher.hpp"
#include "format/bounded_json.hpp"

namespace p2p {

using nlohmann::json;

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

static json info_json(const Meta& m) {
  json pieces = json::array();
  for (const auto& d : m.pieces) pieces.push_back(to_hex(d));
  json info{{"version", m.version}, {"name", m.name}, {"size", m.size}, {"piece_size", m.piece_size},
            {"pieces", std::move(pieces)}};
  if (m.is_tree()) {
    json files = json::array();
    for (const auto& f : m.files) {
      json e{{"path", f.path}, {"size", f.size}};
      if (f.executable) e["exec"] = true;
      files.push_back(std::move(e));
    }
    info["files"] = std::move(files);
    if (!m.empty_dirs.empty()) info["dirs"] = m.empty_dirs;
  }
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

// Counts values and nesting without building anything (see parse_meta).
struct BoundCounter final : nlohmann::json_sax<json> {
  std::uint64_t values = 0;
  int depth = 0;
  bool too_deep = false, too_many = false;
  bool value() {
    too_many = ++values > limits::kMaxMetaJsonValues;
    return !too_many;
  }
  bool open() {
    too_deep = ++depth > limits::kMaxMetaJsonDepth;
    return !too_deep && value();
  }
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t&) override { return true; }
  bool end_object() override {
    --depth;
    return true;
  }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

// The file list and empty folders of a tree: validated (safe paths, sorted, no
// duplicates, no file under a file, no listed folder that holds anything), the
// piece layout derived (each file starts on a piece boundary). Returns the number
// of pieces the files need. O(n log n) in the entries, memory linear in the input.
std::uint64_t parse_tree(const json& j, Meta& m, std::string_view origin) {
  const json& files = field(j, "files", origin);
  if (!files.is_array()) reject(origin, "\"files\" must be an array");
  const json* dirs = nullptr;
  if (auto it = j.find("dirs"); it != j.end()) {
    if (!it->is_array()) reject(origin, "\"dirs\" must be an array of paths");
    dirs = &*it;
  }
  std::uint64_t entries = files.size() + (dirs ? dirs->size() : 0);
  if (entries > limits::kMaxTreeEntries)
    reject(origin, fmt::format("{} files and folders is more than the {} allowed", entries, limits::kMaxTreeEntries));
  // `what` names the entry in a refusal ("files[3].path"); it is only formatted then.
  auto checked_path = [&](const json& v, const auto& what) {
    if (!v.is_string()) reject(origin, fmt::format("{} must be a string", what()));
    const auto& p = v.get_ref<const std::string&>();
    try {
      validate_tree_path(p);
    } catch (const Error& e) {
      reject(origin, fmt::format("{}: {}", what(), e.what()));
    }
    return p;
  };
  m.files.reserve(files.size());
  std::uint64_t total = 0, pieces = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const json& e = files[i];
    auto what = [i] { return fmt::format("files[{}]", i); };
    if (!e.is_object()) reject(origin, fmt::format("{} must be an object", what()));
    for (const auto& [k, v] : e.items())
      if (k != "path" && k != "size" && k != "exec") reject(origin, fmt::format("{} has an unknown field {:?}", what(), k));
    MetaFile f;
    f.path = checked_path(field(e, "path", origin), [&] { return what() + ".path"; });
    f.size = uint_field(e, "size", origin);
    if (auto x = e.find("exec"); x != e.end()) {
      if (!x->is_boolean()) reject(origin, fmt::format("{}.exec must be true or false", what()));
      f.executable = x->get<bool>();
    }
    if (!m.files.empty()) {
      const std::string& prev = m.files.back().path;
      if (prev == f.path) reject(origin, fmt::format("{}: {:?} is listed twice", what(), f.path));
      if (prev > f.path) reject(origin, fmt::format("{}: {:?} comes after {:?}: files must be sorted by path", what(), f.path, prev));
    }
    std::uint64_t n = piece_count_for(f.size, m.piece_size);
    if (f.size > std::numeric_limits<std::uint64_t>::max() - total || pieces + n > limits::kMaxPieces)
      reject(origin, fmt::format("the files need more than the {} pieces allowed", limits::kMaxPieces));
    f.first_piece = static_cast<std::uint32_t>(pieces);
    f.piece_count = static_cast<std::uint32_t>(n);
    total += f.size;
    pieces += n;
    m.files.push_back(std::move(f));
  }
  if (dirs) {
    m.empty_dirs.reserve(dirs->size());
    for (std::size_t i = 0; i < dirs->size(); ++i) {
      auto what = [i] { return fmt::format("dirs[{}]", i); };
      std::string d = checked_path((*dirs)[i], what);
      if (!m.empty_dirs.empty()) {
        if (m.empty_dirs.back() == d) reject(origin, fmt::format("{}: {:?} is listed twice", what(), d));
        if (m.empty_dirs.back() > d) reject(origin, fmt::format("{}: {:?} comes after {:?}: folders must be sorted", what(), d, m.empty_dirs.back()));
      }
      m.empty_dirs.push_back(std::move(d));
    }
  }
  // Every folder a file or a listed folder implies. A file may not be one of them
  // ("a" and "a/b"), and a listed folder may not be a file or one of them (it would
  // not be empty, or would exist anyway: one canonical form).
  std::unordered_set<std::string_view> file_set, implied;
  file_set.reserve(m.files.size());
  for (const auto& f : m.files) file_set.insert(f.path);
  auto add_parents = [&](std::string_view p) {
    for (std::size_t slash = p.rfind('/'); slash != std::string_view::npos && slash > 0; slash = p.rfind('/', slash - 1)) {
      if (!implied.insert(p.substr(0, slash)).second) break;  // its own parents are in already
    }
  };
  for (const auto& f : m.files) add_parents(f.path);
  for (const auto& d : m.empty_dirs) add_parents(d);
  for (const auto& f : m.files)
    if (implied.count(f.path)) reject(origin, fmt::format("{:?} is both a file and a folder", f.path));
  for (const auto& d : m.empty_dirs) {
    if (file_set.count(d)) reject(origin, fmt::format("{:?} is listed both as a file and as an empty folder", d));
    if (implied.count(d)) reject(origin, fmt::format("{:?} is listed as an empty folder but holds files or folders", d));
  }
  if (m.size != total) reject(origin, fmt::format("size {} is not the sum of the file sizes, {}", m.size, total));
  return pieces;
}

}  // namespace

Meta parse_meta(std::string_view json_text, std::string_view origin) {
  // Bounded memory per byte of input: the parse stops at the first value past
  // what any meta can hold, or at nesting no meta has. A tree meta may hold
  // millions of values, so a first pass counts them without building anything:
  // a hostile meta of tiny values ("0,0,0,...": 2 bytes each, ~50 bytes each in a
  // document) is refused before any of it is built.
  BoundCounter count;
  if (!json::sax_parse(json_text, &count, json::input_format_t::json, /*strict=*/true)) {
    if (count.too_deep) reject(origin, "nested deeper than a meta can be");
    if (count.too_many)
      reject(origin, fmt::format("more than {} JSON values: larger than any meta can be", limits::kMaxMetaJsonValues));
    reject(origin, "not valid JSON");
  }
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
  if (version < kOldestMetaFormatVersion || version > kTreeMetaFormatVersion)
    reject(origin, fmt::format("format version {} is not supported (this build reads {} to {})", version,
                               kOldestMetaFormatVersion, kTreeMetaFormatVersion));
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
  std::uint64_t expected = m.is_tree() ? parse_tree(j, m, origin) : piece_count_for(m.size, m.piece_size);
  if (expected > limits::kMaxPieces)
    reject(origin, fmt::format("{} pieces is more than the {} allowed", expected, limits::kMaxPieces));
  const json& pieces = field(j, "pieces", origin);
  if (!pieces.is_array()) reject(origin, "\"pieces\" must be an array");
  if (pieces.size() != expected)
    reject(origin, fmt::format("size {} with piece_size {} needs {} pieces, but {} are listed", m.size, m.piece_size,
                               expected, pieces.size()));
  m.pieces.reserve(pieces.size());
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    Digest d{};
    if (!pieces[i].is_string() || !digest_from_hex(pieces[i].get_ref<const std::string&>(), d))
      reject(origin, fmt::format("pieces[{}] must be 64 hex digits", i));
    m.pieces.push_back(d);
  }
  if (m.is_tree() && j.contains("file_sha256"))
    reject(origin, "a tree (format 3) has no \"file_sha256\": its identity is the piece hashes");
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

Meta scan_tree(const std::filesystem::path& dir, const std::function<void(const std::string&)>& warn) {
  namespace fs = std::filesystem;
  fs::path root = fs::absolute(dir).lexically_normal();
  if (root.filename().empty()) root = root.parent_path();
  auto name = root.filename().string();
  validate_file_name(name);
  Meta m;
  m.version = kTreeMetaFormatVersion;
  m.name = name;
  std::vector<std::string> dirs;
  std::error_code ec;
  // Links are not followed (the iterator does not descend into them, and we skip
  // them): a link is not data the other side can verify, and following one could
  // share what lies outside the folder.
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) throw Error(ExitCode::input_file, fmt::format("cannot read folder {}: {}", root.string(), ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    std::string rel = p.lexically_relative(root).generic_string();
    auto st = it->symlink_status(ec);
    if (ec) throw Error(ExitCode::input_file, fmt::format("cannot read {}: {}", p.string(), ec.message()));
    if (st.type() == fs::file_type::symlink) {
      warn(fmt::format("skipping symbolic link {} (links are not followed or shared)", p.string()));
      continue;
    }
    if (st.type() != fs::file_type::directory && st.type() != fs::file_type::regular) {
      warn(fmt::format("skipping {}: not a regular file or folder", p.string()));
      if (st.type() == fs::file_type::directory) it.disable_recursion_pending();
      continue;
    }
    validate_tree_path(rel);
    if (st.type() == fs::file_type::directory) {
      dirs.push_back(std::move(rel));
      continue;
    }
    MetaFile f;
    f.path = std::move(rel);
    f.size = it->file_size(ec);
    if (ec) throw Error(ExitCode::input_file, fmt::format("cannot read {}: {}", p.string(), ec.message()));
    f.executable = (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
    m.files.push_back(std::move(f));
    if (m.files.size() + dirs.size() > limits::kMaxTreeEntries)
      throw Error(ExitCode::usage, fmt::format("{} holds more than {} files and folders", root.string(), limits::kMaxTreeEntries));
  }
  if (ec) throw Error(ExitCode::input_file, fmt::format("cannot read folder {}: {}", root.string(), ec.message()));
  std::sort(m.files.begin(), m.files.end(), [](const MetaFile& a, const MetaFile& b) { return a.path < b.path; });
  std::unordered_set<std::string_view> implied;
  auto add_parents = [&](std::string_view p) {
    for (std::size_t slash = p.rfind('/'); slash != std::string_view::npos && slash > 0; slash = p.rfind('/', slash - 1))
      if (!implied.insert(p.substr(0, slash)).second) break;
  };
  for (const auto& f : m.files) add_parents(f.path);
  for (const auto& d : dirs) add_parents(d);
  for (const auto& d : dirs)
    if (!implied.count(d)) m.empty_dirs.push_back(d);
  std::sort(m.empty_dirs.begin(), m.empty_dirs.end());

  for (const auto& f : m.files) m.size += f.size;
  return m;
}

bool same_listing(const Meta& a, const Meta& b) {
  if (a.files.size() != b.files.size() || a.empty_dirs != b.empty_dirs) return false;
  for (std::size_t i = 0; i < a.files.size(); ++i)
    if (a.files[i].path != b.files[i].path || a.files[i].size != b.files[i].size ||
        a.files[i].executable != b.files[i].executable)
      return false;
  return true;
}

Meta create_tree_meta(const std::filesystem::path& dir, std::uint64_t piece_size,
                      const std::vector<std::string>& trackers, bool private_swarm,
                      const std::function<void(const std::string&)>& warn) {
  namespace fs = std::filesystem;
  for (const auto& t : trackers) validate_tracker(t);
  if (trackers.size() > limits::kMaxTrackers)
    throw Error(ExitCode::usage, fmt::format("at most {} trackers", limits::kMaxTrackers));
  Meta m = scan_tree(dir, warn);
  fs::path root = fs::absolute(dir).lexically_normal();
  if (root.filename().empty()) root = root.parent_path();
  if (piece_size == 0) piece_size = auto_piece_size(m.size);
  if (!std::has_single_bit(piece_size) || piece_size < limits::kMinPieceSize || piece_size > limits::kMaxPieceSize)
    throw Error(ExitCode::usage, fmt::format("piece size {} is not a power of two between {} and {}", piece_size,
                                             limits::kMinPieceSize, limits::kMaxPieceSize));
  m.piece_size = piece_size;
  std::uint64_t pieces = 0;
  std::vector<HashedFile> layout;
  layout.reserve(m.files.size());
  for (auto& f : m.files) {
    std::uint64_t n = piece_count_for(f.size, piece_size);
    if (pieces + n > limits::kMaxPieces)
      throw Error(ExitCode::usage, fmt::format("{} would need more than {} pieces of {} bytes", root.string(),
                                               limits::kMaxPieces, piece_size));
    f.first_piece = static_cast<std::uint32_t>(pieces);
    f.piece_count = static_cast<std::uint32_t>(n);
    pieces += n;
    layout.push_back({f.size, f.first_piece});
  }
  m.pieces = hash_file_pieces(layout, piece_size, static_cast<std::uint32_t>(pieces), [&](std::size_t i) {
    File file(root / m.files[i].path, File::Mode::read_no_follow);
    if (file.size() != m.files[i].size)
      throw Error(ExitCode::input_file, fmt::format("{} changed size while the folder was read", file.path().string()));
    return file;
  });
  m.root = merkle_root(m.pieces);
  m.trackers = trackers;
  m.is_private = private_swarm;
  if (private_swarm) m.swarm_key = generate_swarm_key();
  m.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  m.info_hash = sha256(canonical_info(m));
  return m;
}

}  // namespace p2p

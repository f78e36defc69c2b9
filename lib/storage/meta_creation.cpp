// Meta creation: the file's pieces hashed on all cores (the whole-file hash on a thread
// of its own beside them), a folder walked without following links.
#include "storage/meta_creation.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <fmt/core.h>
#include <thread>
#include <unordered_set>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "base/piece_hasher.hpp"
#include "format/swarm_key.hpp"
#include "format/tree_listing.hpp"

namespace p2p {

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

namespace {

// The trackers a new meta will name: each a valid HOST:PORT, at most kMaxTrackers.
void check_new_trackers(const std::vector<std::string>& trackers) {
  for (const auto& t : trackers) validate_tracker(t);
  if (trackers.size() > limits::kMaxTrackers)
    throw Error(ExitCode::usage, fmt::format("at most {} trackers", limits::kMaxTrackers));
}

// The piece size asked for (0: chosen from the total size), checked.
std::uint64_t new_piece_size(std::uint64_t asked, std::uint64_t total_size) {
  std::uint64_t piece_size = asked == 0 ? auto_piece_size(total_size) : asked;
  if (!std::has_single_bit(piece_size) || piece_size < limits::kMinPieceSize || piece_size > limits::kMaxPieceSize)
    throw Error(ExitCode::usage, fmt::format("piece size {} is not a power of two between {} and {}", piece_size,
                                             limits::kMinPieceSize, limits::kMaxPieceSize));
  return piece_size;
}

// A new meta whose pieces are hashed gets the rest: Merkle root, trackers, the swarm
// key of a private swarm, the time it was made, and last its info hash.
void finish_new_meta(Meta& m, const std::vector<std::string>& trackers, bool private_swarm) {
  m.root = merkle_root(m.pieces);
  m.trackers = trackers;
  m.is_private = private_swarm;
  if (private_swarm) m.swarm_key = generate_swarm_key();
  m.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  m.info_hash = info_hash_of(m);
}

}  // namespace

Meta create_meta(const std::filesystem::path& path, std::uint64_t piece_size,
                 const std::vector<std::string>& trackers, bool whole_file_hash, bool private_swarm) {
  auto name = path.filename().string();
  validate_file_name(name);
  check_new_trackers(trackers);
  Meta m;
  {
    File probe(path, File::Mode::read);
    m.size = probe.size();
  }
  piece_size = new_piece_size(piece_size, m.size);
  m.piece_size = piece_size;
  m.name = name;
  FileHashes h = hash_file(path, piece_size, whole_file_hash);
  m.size = h.size;
  m.pieces = std::move(h.pieces);
  m.has_file_hash = whole_file_hash;
  m.file_hash = h.file_hash;
  finish_new_meta(m, trackers, private_swarm);
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
  // The bounds a downloader reads the meta with (limits.hpp): a tree past them would
  // make a meta no one can use.
  TreeCost cost;
  if (auto problem = check_tree_listing(m.files, m.empty_dirs, cost))
    throw Error(ExitCode::usage, fmt::format("{}: {}", root.string(), *problem));

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
  check_new_trackers(trackers);
  Meta m = scan_tree(dir, warn);
  fs::path root = fs::absolute(dir).lexically_normal();
  if (root.filename().empty()) root = root.parent_path();
  piece_size = new_piece_size(piece_size, m.size);
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
  finish_new_meta(m, trackers, private_swarm);
  return m;
}

}  // namespace p2p

// WorkdirLayout: the .p2p folder and the names inside it.
#include "storage/workdir_layout.hpp"

#include <fmt/core.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/sha256.hpp"

namespace p2p {

namespace fs = std::filesystem;

WorkdirLayout WorkdirLayout::prepare(const fs::path& workdir) {
  ensure_writable_dir(workdir);
  WorkdirLayout l{workdir, workdir / std::string(kOwnDirName)};
  struct stat st{};
  if (::lstat(l.own_dir.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      throw Error(ExitCode::disk, fmt::format("{} is a symbolic link; p2p-share keeps its own files there and will "
                                              "not write through a link (remove it)",
                                              l.own_dir.string()));
    if (!S_ISDIR(st.st_mode))
      throw Error(ExitCode::file_exists,
                  fmt::format("{} is in the way: p2p-share keeps its own files in a folder of that name; move it away",
                              l.own_dir.string()));
  }
  ensure_writable_dir(l.own_dir);
  return l;
}

fs::path WorkdirLayout::partial_path(const Meta& m) const {
  if (m.is_tree()) return final_path(m);
  return own_dir / (m.info_hash_hex() + ".partial");
}
fs::path WorkdirLayout::tree_data_dir(const Meta& m) const { return own_dir / (m.info_hash_hex() + ".files"); }
fs::path WorkdirLayout::fetched_meta_path(const Meta& m) const { return own_dir / (m.info_hash_hex() + ".p2pmeta"); }
fs::path WorkdirLayout::state_path(const Meta& m) const { return own_dir / (m.info_hash_hex() + ".state.json"); }
fs::path WorkdirLayout::lock_path(std::string_view name) const {
  return own_dir / (to_hex(sha256(name)).substr(0, 32) + ".lock");
}

namespace {
constexpr std::uint64_t kMaxStateFileBytes = 1 << 20;  // ours hold a bitfield: far smaller

// A state file's name and size; nullopt if it is gone (removed since it was listed) or
// is not one of ours (a link, not a regular file, too large, not a JSON object with a
// string "name" and a whole "size"). Any other failure to read it (permissions, an I/O
// error) is an Error(disk) naming the file: a download's state that cannot be read is
// not taken for no download.
std::optional<std::pair<std::string, std::uint64_t>> state_identity(const fs::path& state) {
  struct stat st{};
  if (::lstat(state.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw Error(ExitCode::disk, fmt::format("cannot read {}: {}", state.string(), std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > kMaxStateFileBytes) return std::nullopt;
  std::string text;
  try {
    text = read_small_file(state, kMaxStateFileBytes, /*follow_links=*/false);
  } catch (const Error& e) {
    std::error_code ec;
    if (fs::symlink_status(state, ec).type() == fs::file_type::not_found) return std::nullopt;  // removed meanwhile
    throw Error(ExitCode::disk, e.what());
  }
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto name = j.find("name"), size = j.find("size");
  if (name == j.end() || !name->is_string() || size == j.end() || !size->is_number_unsigned()) return std::nullopt;
  return std::pair{name->get<std::string>(), size->get<std::uint64_t>()};
}

// Lists our folder: nothing if it does not exist (or is not a folder: not a workdir of
// ours); Error(disk) naming it for any other failure.
std::vector<fs::path> own_entries(const fs::path& own_dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(own_dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) out.push_back(it->path());
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    throw Error(ExitCode::disk, fmt::format("cannot list {}: {}", own_dir.string(), ec.message()));
  return out;
}
}  // namespace

void WorkdirLayout::adopt_legacy_partial(const Meta& m) const {
  std::error_code ec;
  if (m.is_tree()) {
    fs::path old_root = workdir / (m.name + ".partial");
    if (fs::symlink_status(state_path(m), ec).type() == fs::file_type::not_found) return;  // not ours
    if (fs::is_symlink(old_root, ec) || !fs::is_directory(old_root, ec)) return;
    rename_no_replace(old_root, final_path(m));  // not if <name> is there already: then that one is used
    return;
  }
  if (!fs::exists(partial_path(m), ec)) {
    for (const auto& p : own_entries(own_dir)) {
      if (p.extension() != ".json" || p.filename().string().find(".state.json") == std::string::npos) continue;
      auto id = state_identity(p);
      if (!id || id->first != m.name || id->second != m.size) continue;
      fs::path other = own_dir / (p.filename().string().substr(0, p.filename().string().size() - 11) + ".partial");
      if (fs::is_symlink(other, ec) || !fs::is_regular_file(other, ec)) continue;
      if (rename_no_replace(other, partial_path(m))) rename_no_replace(p, state_path(m));
      return;
    }
  }
  fs::path old_partial = workdir / (m.name + ".partial"), old_state = workdir / (m.name + ".state.json");
  if (fs::is_symlink(old_partial, ec) || !fs::is_regular_file(old_partial, ec) || fs::exists(partial_path(m), ec)) return;
  if (!rename_no_replace(old_partial, partial_path(m))) return;
  if (!fs::is_symlink(old_state, ec) && fs::is_regular_file(old_state, ec)) rename_no_replace(old_state, state_path(m));
}

std::set<std::string> WorkdirLayout::downloads_in_progress() const {
  std::set<std::string> names;
  for (const auto& p : own_entries(own_dir)) {
    if (!p.filename().string().ends_with(".state.json")) continue;
    if (auto id = state_identity(p)) names.insert(id->first);
  }
  return names;
}

}  // namespace p2p

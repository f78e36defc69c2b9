// Tree listing checks: one merged walk over files and empty folders (see tree_listing.hpp).
#include "format/tree_listing.hpp"

#include <algorithm>
#include <fmt/core.h>

#include "base/limits.hpp"

namespace p2p {

std::uint64_t path_components(std::string_view path) {
  return path.empty() ? 0 : 1 + static_cast<std::uint64_t>(std::count(path.begin(), path.end(), '/'));
}

std::optional<std::string> tree_cost_problem(const TreeCost& c) {
  if (c.entries > limits::kMaxTreeEntries)
    return fmt::format("the tree lists more than {} files and folders (kMaxTreeEntries)", limits::kMaxTreeEntries);
  if (c.path_bytes > limits::kMaxTreePathBytes)
    return fmt::format("the tree's paths add up to more than {} bytes (kMaxTreePathBytes)", limits::kMaxTreePathBytes);
  if (c.components > limits::kMaxTreePathComponents)
    return fmt::format("the tree's paths add up to more than {} components (kMaxTreePathComponents: depth x entries)",
                       limits::kMaxTreePathComponents);
  if (c.folders > limits::kMaxTreeFolders)
    return fmt::format("the tree needs more than {} folders (kMaxTreeFolders)", limits::kMaxTreeFolders);
  return std::nullopt;
}

namespace {

// The first of `sorted` that is `folder` or lies under it ("folder/..."), if any.
template <typename T, typename Key>
bool holds_under(const std::vector<T>& sorted, std::string_view folder, Key key, std::string& scratch) {
  scratch.assign(folder);
  scratch.push_back('/');
  auto it = std::lower_bound(sorted.begin(), sorted.end(), scratch,
                             [&](const T& e, const std::string& k) { return key(e) < k; });
  return it != sorted.end() && key(*it).starts_with(scratch);
}

}  // namespace

std::optional<std::string> check_tree_listing(const std::vector<MetaFile>& files,
                                              const std::vector<std::string>& empty_dirs, TreeCost& cost) {
  auto file_path = [](const MetaFile& f) -> std::string_view { return f.path; };
  auto dir_path = [](const std::string& d) -> std::string_view { return d; };
  auto is_file = [&](std::string_view p) {
    return std::binary_search(files.begin(), files.end(), p,
                              [](const auto& a, const auto& b) {
                                if constexpr (std::is_same_v<std::decay_t<decltype(a)>, MetaFile>) return a.path < b;
                                else return a < b.path;
                              });
  };
  cost = {};
  cost.entries = files.size() + empty_dirs.size();
  for (const auto& f : files) {
    cost.path_bytes += f.path.size();
    cost.components += path_components(f.path);
  }
  for (const auto& d : empty_dirs) {
    cost.path_bytes += d.size();
    cost.components += path_components(d);
  }
  if (auto p = tree_cost_problem(cost)) return p;

  std::string scratch;
  for (const auto& d : empty_dirs) {
    if (is_file(d)) return fmt::format("{:?} is listed both as a file and as an empty folder", d);
    if (holds_under(files, d, file_path, scratch) || holds_under(empty_dirs, d, dir_path, scratch))
      return fmt::format("{:?} is listed as an empty folder but holds files or folders", d);
  }
  // Files and listed folders merged in path order: every folder counted once, and
  // none of them may be a file.
  FolderWalk walk;
  std::optional<std::string> problem;
  auto on_new = [&](std::string_view folder) {
    if (!problem && is_file(folder)) problem = fmt::format("{:?} is both a file and a folder", std::string(folder));
  };
  std::size_t i = 0, j = 0;
  while (i < files.size() || j < empty_dirs.size()) {
    bool take_file = j == empty_dirs.size() || (i < files.size() && files[i].path < empty_dirs[j]);
    if (take_file) walk.add(files[i++].path, false, on_new);
    else walk.add(empty_dirs[j++], true, on_new);
    if (problem) return problem;
    if (walk.folders() > limits::kMaxTreeFolders) break;
  }
  cost.folders = walk.folders();
  return tree_cost_problem(cost);
}

}  // namespace p2p

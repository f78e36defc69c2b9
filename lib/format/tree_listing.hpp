// What a tree's listing costs (paths, their components, the folders they make) and
// the rules it follows, checked in passes linear in its path bytes: no set of every
// folder. In a list sorted bytewise, the paths under a folder F (those starting with
// "F/") form one contiguous run, so a folder first seen leaves the walk for good and
// is never seen again: comparing each path with the one before it is enough.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/meta.hpp"

namespace p2p {

// The folders of a sorted list of paths, one path at a time: for a file, the folders
// holding it; for a folder, those and itself.
class FolderWalk {
 public:
  // Calls on_new(folder) for each folder of `path` that no earlier path had
  // (outermost first) and returns how many there were. Paths must come sorted.
  template <typename F>
  std::uint64_t add(std::string_view path, bool is_folder, F&& on_new);
  std::uint64_t add(std::string_view path, bool is_folder) {
    return add(path, is_folder, [](std::string_view) {});
  }
  std::uint64_t folders() const { return folders_; }

 private:
  std::string prev_;  // the folder chain of the previous path ("a/b" for the file "a/b/c")
  std::uint64_t folders_ = 0;
};

struct TreeCost {
  std::uint64_t entries = 0;     // files and listed empty folders
  std::uint64_t path_bytes = 0;  // of all their paths together
  std::uint64_t components = 0;  // of all their paths together
  std::uint64_t folders = 0;     // distinct folders: holding a file, listed, or holding a listed one
};

// The first bound of limits.hpp (kMaxTreeEntries, kMaxTreePathBytes,
// kMaxTreePathComponents, kMaxTreeFolders) that `cost` passes, as a sentence; nullopt
// if none.
std::optional<std::string> tree_cost_problem(const TreeCost& cost);

// Checks a whole listing whose paths are each valid and each list sorted without
// duplicates: no file is also a folder ("a" and "a/b"), no listed folder is a file or
// holds anything, and the cost within limits. Returns the first problem as a sentence
// (nullopt if none); fills `cost`. One merged walk plus a binary search per folder
// and per listed folder.
std::optional<std::string> check_tree_listing(const std::vector<MetaFile>& files,
                                              const std::vector<std::string>& empty_dirs, TreeCost& cost);

// Components of a path ("a/b/c": 3).
std::uint64_t path_components(std::string_view path);

template <typename F>
std::uint64_t FolderWalk::add(std::string_view path, bool is_folder, F&& on_new) {
  std::string_view chain = path;
  if (!is_folder) {
    std::size_t slash = path.rfind('/');
    chain = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  }
  // The deepest folder the chain shares with the previous one: the longest common
  // prefix, cut back to a boundary that both chains have ('/' or their end).
  std::size_t n = std::min(chain.size(), prev_.size()), common = 0, last_slash = 0;
  bool any_slash = false;
  while (common < n && chain[common] == prev_[common]) {
    if (chain[common] == '/') {
      last_slash = common;
      any_slash = true;
    }
    ++common;
  }
  std::size_t shared = 0;  // length of the shared folder chain (0: none)
  bool at_boundary = (common == chain.size() || chain[common] == '/') && (common == prev_.size() || prev_[common] == '/');
  if (common > 0 && at_boundary) shared = common;
  else if (any_slash) shared = last_slash;
  std::uint64_t added = 0;
  if (chain.size() > shared) {
    std::size_t from = shared == 0 ? 0 : shared + 1;
    for (std::size_t i = from; i <= chain.size(); ++i) {
      if (i == chain.size() || chain[i] == '/') {
        on_new(chain.substr(0, i));
        ++added;
      }
    }
  }
  prev_.assign(chain);
  folders_ += added;
  return added;
}

}  // namespace p2p

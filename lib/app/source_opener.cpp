// SourceOpener: identity before and after hashing must agree before it is remembered.
#include "app/source_opener.hpp"

#include <fmt/core.h>

#include "base/error.hpp"

namespace p2p {

SourceOpener::SourceOpener(const WorkdirLayout& layout) : cache_(layout.verified_sources()) {}

PieceStore SourceOpener::open(const Meta& meta, const std::filesystem::path& source, bool& rehashed) {
  if (meta.is_tree()) {
    // A folder's identity (inode, mtime) says nothing of its files' contents: a tree is hashed every time.
    rehashed = true;
    try {
      return PieceStore::open_complete(meta, source);
    } catch (const Error& e) {
      // A tree downloaded in part (p2p-download --only) lacks files: say so, not just "no such file".
      std::error_code ec;
      WorkdirLayout beside{source.parent_path(), source.parent_path() / std::string(kOwnDirName)};
      if (e.code() != ExitCode::input_file || !std::filesystem::exists(beside.state_path(meta), ec)) throw;
      throw Error(ExitCode::input_file,
                  fmt::format("{} is a download not finished yet ({}): it is served once p2p-download has fetched "
                              "every file (a run without --only)",
                              source.string(), e.what()));
    }
  }
  auto before = SourceIdentity::of_path(source);
  bool vouched = false;
  if (before) {
    std::lock_guard lock(mu_);
    vouched = cache_.vouches(source, meta.info_hash, *before);
  }
  if (vouched) {
    PieceStore store = PieceStore::open_trusted(meta, source);
    bool linked = true;
    // The file we opened must be the one vouched for (not swapped in between).
    if (SourceIdentity::of_fd(store.file().fd(), linked) == *before && linked) {
      rehashed = false;
      return store;
    }
  }
  rehashed = true;
  PieceStore store = PieceStore::open_complete(meta, source);
  bool linked = true;
  auto after = SourceIdentity::of_fd(store.file().fd(), linked);
  std::lock_guard lock(mu_);
  if (before && after == *before && linked) cache_.record(source, meta.info_hash, after);
  else cache_.forget(source);  // it changed while we hashed it: verify again next time
  return store;
}

void SourceOpener::forget(const std::filesystem::path& source) {
  std::lock_guard lock(mu_);
  cache_.forget(source);
}

void SourceOpener::remember(const Meta& meta, const std::filesystem::path& source) {
  if (meta.is_tree()) return;  // a tree is hashed every time (see open)
  auto now = SourceIdentity::of_path(source);
  std::lock_guard lock(mu_);
  if (now) cache_.record(source, meta.info_hash, *now);
}

void SourceOpener::save() {
  std::lock_guard lock(mu_);
  cache_.save();
}

}  // namespace p2p

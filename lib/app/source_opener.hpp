// Opens a seeded source for its meta: trusted when VerifiedSources vouches for
// it unchanged, else hashed piece by piece (and then remembered).
#pragma once
#include <filesystem>
#include <mutex>

#include "format/meta.hpp"
#include "storage/piece_store.hpp"
#include "storage/verified_sources.hpp"
#include "storage/workdir_layout.hpp"

namespace p2p {

class SourceOpener {
 public:
  explicit SourceOpener(const WorkdirLayout& layout);
  const std::string& load_problem() const { return cache_.load_problem(); }

  // Thread-safe. `rehashed` says whether every piece was hashed (false: trusted).
  // Throws Error(source_mismatch / input_file) like PieceStore::open_complete.
  PieceStore open(const Meta& meta, const std::filesystem::path& source, bool& rehashed);
  void forget(const std::filesystem::path& source);
  // Thread-safe: `source` was just verified piece by piece against `meta` some other
  // way (a download that finished): remember it as it is now, so that a restart
  // trusts it while it stays unchanged.
  void remember(const Meta& meta, const std::filesystem::path& source);
  void save();  // thread-safe; Error(disk) on failure

 private:
  std::mutex mu_;
  VerifiedSources cache_;
};

}  // namespace p2p

// Which seeded sources were verified against which meta, and what they looked
// like then (SourceIdentity), so a seeder restart re-hashes only what changed.
// Kept in one JSON file in the workdir, replaced atomically (temp, fsync, rename).
// A damaged or foreign file is ignored: the cost is a re-hash, never trust.
#pragma once
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>

#include "base/sha256.hpp"
#include "storage/source_identity.hpp"

namespace p2p {

class VerifiedSources {
 public:
  static constexpr std::size_t kMaxEntries = 200'000;

  explicit VerifiedSources(std::filesystem::path file);
  // Why the file was not used, if it was not ("" otherwise).
  const std::string& load_problem() const { return load_problem_; }

  // True if `source` was verified against `info_hash` and still has identity `now`.
  bool vouches(const std::filesystem::path& source, const Digest& info_hash, const SourceIdentity& now) const;
  void record(const std::filesystem::path& source, const Digest& info_hash, const SourceIdentity& identity);
  void forget(const std::filesystem::path& source);
  // Writes the file if anything changed. Throws Error(disk).
  void save();

 private:
  struct Entry {
    Digest info_hash{};
    SourceIdentity identity;
  };
  static std::string key(const std::filesystem::path& source);

  std::filesystem::path file_;
  std::map<std::string, Entry> entries_;
  std::string load_problem_;
  bool dirty_ = false;
};

}  // namespace p2p

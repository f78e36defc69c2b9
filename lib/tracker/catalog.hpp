// The tracker's catalog of published files: every meta is validated before it
// is stored in SQLite (durable, WAL), and a summary of each file is kept in
// memory so listing, lookup and counters never touch the disk on the hot path.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/sha256.hpp"
#include "tracker/swarm_registry.hpp"

struct sqlite3;

namespace p2p::tracker {

struct FileRecord {
  Digest info_hash{};
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t piece_size = 0;
  std::int64_t published = 0;   // unix seconds, when this tracker first stored it
  std::uint64_t completed = 0;  // downloads reported complete, persisted in batches
};

class Catalog {
 public:
  // Opens (creating if needed) the SQLite file; ":memory:" for tests.
  // Throws Error(disk) if the folder is not writable or the file is not a database.
  explicit Catalog(const std::filesystem::path& db_path);
  ~Catalog();  // flushes counters; never throws
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  struct PublishResult {
    bool created = false;  // false: the same info hash was already stored
    const FileRecord* record = nullptr;
  };
  // Re-validates the meta with parse_meta (throws Error(bad_meta) with its message),
  // then stores its normalised JSON. Throws Error(tracker) when the catalog is full,
  // Error(disk) when SQLite fails; nothing invalid is ever stored.
  PublishResult publish(std::string_view meta_json);

  const FileRecord* find(const Digest& info_hash) const;
  // Exact name; when several files share it, the most recently published.
  const FileRecord* find_by_name(std::string_view name) const;
  // Files whose name contains `substring` (case-sensitive; empty = all), sorted by name.
  std::vector<const FileRecord*> list(std::string_view substring, std::size_t limit) const;
  // The stored meta JSON; nullopt if unknown. Reads SQLite.
  std::optional<std::string> meta_json(const Digest& info_hash);

  // Counts a completed download (no-op for files never published); persisted by flush().
  void note_completed(const Digest& info_hash);
  // Writes changed counters in one transaction. Throws Error(disk) on failure.
  void flush();

  std::size_t size() const { return records_.size(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  void exec(const char* sql);
  [[noreturn]] void fail(std::string_view what) const;
  void load();

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<Digest, FileRecord, KeyedHash> records_;
  std::multimap<std::string, Digest, std::less<>> by_name_;  // sorted for /files
  std::unordered_set<Digest, KeyedHash> dirty_;  // counters changed since the last flush
};

}  // namespace p2p::tracker

// The embedded store's catalog of published files: every meta is validated
// before it is stored in SQLite (durable, WAL), and a summary of each file is
// kept in memory so listing, lookup and counters never touch the disk on the
// hot path. Owner tokens are kept as their SHA-256, never in clear.
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
#include "storage/sqlite_db.hpp"
#include "tracker/swarm_registry.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

class Catalog {
 public:
  // The schema this program writes (PRAGMA user_version); older files are migrated on open.
  static constexpr int kSchemaVersion = 2;

  // Opens (creating if needed) the SQLite file; ":memory:" for tests.
  // Throws Error(disk) if the folder is not writable, the file is not a
  // database, or its schema is newer than this program's.
  explicit Catalog(const std::filesystem::path& db_path);
  ~Catalog();  // flushes counters; never throws
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  struct PublishResult {
    bool created = false;  // false: the same info hash was already stored
    const FileRecord* record = nullptr;
  };
  // Stores a validated meta's JSON as published with its owner's token hash
  // (all zero: no owner). Throws Error(tracker) when the catalog is full,
  // Error(disk) when SQLite fails.
  PublishResult publish(const PublishedMeta& meta, const Digest& owner_token_hash);
  // Validates with parse_meta first (throws Error(bad_meta) with its message);
  // nothing invalid is ever stored.
  PublishResult publish(std::string_view meta_json, const Digest& owner_token_hash = {});
  WithdrawStatus withdraw(const Digest& info_hash, const Digest& owner_token_hash);

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
  // Withdrawn info hashes (tombstones), oldest first; a new publish of one removes it.
  std::vector<Digest> withdrawn();  // reads SQLite
  const std::filesystem::path& path() const { return db_.path(); }

 private:
  void migrate();
  void load();
  void trim_withdrawn();

  SqliteDb db_;
  std::unordered_map<Digest, FileRecord, KeyedHash> records_;
  std::multimap<std::string, Digest, std::less<>> by_name_;  // sorted for /files
  std::unordered_set<Digest, KeyedHash> dirty_;  // counters changed since the last flush
};

}  // namespace p2p::tracker

// Catalog: SQLite storage of validated metas plus an in-memory summary index.
#include "tracker/catalog.hpp"

#include <chrono>
#include <fmt/core.h>

#include <cstdio>
#include <random>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "tracker/owner_token.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

namespace {

std::filesystem::path checked_path(const std::filesystem::path& p) {
  if (p != ":memory:" && p.has_parent_path()) ensure_writable_dir(p.parent_path());
  return p;
}

bool is_zero(const Digest& d) {
  for (auto b : d)
    if (b) return false;
  return true;
}

}  // namespace

Catalog::Catalog(const std::filesystem::path& db_path)
    : db_(checked_path(db_path), SqliteDb::Options{false, std::chrono::milliseconds(2000), "tracker database"}),
      records_(0, KeyedHash{std::random_device{}()}),
      dirty_(0, records_.hash_function()) {
  // WAL + NORMAL: a publish survives a process crash; counters are batched anyway.
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=NORMAL");
  migrate();
  load();
}

Catalog::~Catalog() {
  // A destructor must not throw: say what was lost (at most one flush interval's counters).
  try {
    flush();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "p2p-tracker: catalog: the last download counts were not saved: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "p2p-tracker: catalog: the last download counts were not saved: an unknown exception\n");
  }
}

// Version 0 is the first schema (before user_version was used); each step
// brings an older file one version forward, in one transaction.
void Catalog::migrate() {
  db_.exec("CREATE TABLE IF NOT EXISTS files ("
           " info_hash TEXT PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL,"
           " piece_size INTEGER NOT NULL, meta TEXT NOT NULL, published INTEGER NOT NULL,"
           " completed INTEGER NOT NULL DEFAULT 0)");
  db_.exec("CREATE INDEX IF NOT EXISTS files_by_name ON files(name)");
  // Tombstones of withdrawn files (additive: older programs ignore the table).
  db_.exec("CREATE TABLE IF NOT EXISTS withdrawn (info_hash TEXT PRIMARY KEY, at INTEGER NOT NULL)");
  int version = db_.user_version();
  if (version > kSchemaVersion)
    throw Error(ExitCode::disk, fmt::format("tracker database {}: schema version {} is newer than this program's ({})",
                                            db_.path().string(), version, kSchemaVersion));
  if (version < 1) {
    db_.transaction([&] {
      // '' = no owner: files published before owner tokens cannot be withdrawn over HTTP.
      db_.exec("ALTER TABLE files ADD COLUMN owner_token_sha256 TEXT NOT NULL DEFAULT ''");
      db_.set_user_version(1);
    });
  }
  if (version < 2) {
    // Version 1 stored metas re-indented (up to ~1.2x what was published): more
    // than a downloader fetches (kMaxPublishBytes). Those are written again
    // without spaces; from version 2 a meta is kept as it was published.
    db_.transaction([&] {
      std::vector<std::string> oversized;
      auto rows = db_.prepare("SELECT info_hash FROM files WHERE length(CAST(meta AS BLOB)) > ?");
      rows.bind(1, static_cast<std::int64_t>(limits::kMaxPublishBytes));
      while (rows.step()) oversized.emplace_back(rows.text(0));
      auto read = db_.prepare("SELECT meta FROM files WHERE info_hash = ?");
      auto update = db_.prepare("UPDATE files SET meta = ? WHERE info_hash = ?");
      for (const auto& hash : oversized) {  // one at a time: each is ~10 MB
        read.bind(1, hash);
        if (!read.step()) {
          read.reset();
          continue;
        }
        std::string text;
        try {
          text = meta_to_compact_json(parse_meta(read.text(0), "stored meta"));
        } catch (const Error& e) {
          throw Error(ExitCode::disk, fmt::format("tracker database {}: row {}: {}", db_.path().string(), hash, e.what()));
        }
        read.reset();
        update.bind(1, text).bind(2, hash);
        update.run();
      }
      db_.set_user_version(2);
    });
  }
}

void Catalog::load() {
  auto st = db_.prepare("SELECT info_hash, name, size, piece_size, published, completed FROM files");
  while (st.step()) {
    FileRecord r;
    // Rows were validated on the way in; a row that no longer parses means the file was edited by hand.
    if (!digest_from_hex(st.text(0), r.info_hash))
      throw Error(ExitCode::disk, fmt::format("tracker database {}: row with bad info_hash {:?}", db_.path().string(),
                                              std::string(st.text(0))));
    r.name = st.text(1);
    r.size = static_cast<std::uint64_t>(st.integer(2));
    r.piece_size = static_cast<std::uint64_t>(st.integer(3));
    r.published = st.integer(4);
    r.completed = static_cast<std::uint64_t>(st.integer(5));
    by_name_.emplace(r.name, r.info_hash);
    records_.emplace(r.info_hash, std::move(r));
  }
}

Catalog::PublishResult Catalog::publish(std::string_view meta_json_text, const Digest& owner_token_hash) {
  return publish(PublishedMeta::of(parse_meta(meta_json_text, "published meta"), std::string(meta_json_text)),
                 owner_token_hash);
}

Catalog::PublishResult Catalog::publish(const PublishedMeta& meta, const Digest& owner_token_hash) {
  if (auto it = records_.find(meta.info_hash); it != records_.end()) return {false, &it->second};
  if (records_.size() >= limits::kMaxCatalogFiles)
    throw Error(ExitCode::tracker, fmt::format("catalog is full ({} files)", limits::kMaxCatalogFiles));
  db_.prepare("DELETE FROM withdrawn WHERE info_hash = ?").bind(1, meta.info_hash_hex()).run();  // published again

  FileRecord r;
  r.info_hash = meta.info_hash;
  r.name = meta.name;
  r.size = meta.size;
  r.piece_size = meta.piece_size;
  r.published = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  auto st = db_.prepare(
      "INSERT INTO files(info_hash, name, size, piece_size, meta, published, completed, owner_token_sha256)"
      " VALUES(?,?,?,?,?,?,0,?)");
  st.bind(1, meta.info_hash_hex())
      .bind(2, r.name)
      .bind(3, static_cast<std::int64_t>(r.size))
      .bind(4, static_cast<std::int64_t>(r.piece_size))
      .bind(5, meta.text)
      .bind(6, r.published)
      .bind(7, is_zero(owner_token_hash) ? std::string() : to_hex(owner_token_hash));
  st.run();

  by_name_.emplace(r.name, r.info_hash);
  auto [it, inserted] = records_.emplace(r.info_hash, std::move(r));
  return {true, &it->second};
}

WithdrawStatus Catalog::withdraw(const Digest& info_hash, const Digest& owner_token_hash) {
  auto it = records_.find(info_hash);
  if (it == records_.end()) return WithdrawStatus::not_found;
  const std::string hex = to_hex(info_hash);
  auto st = db_.prepare("SELECT owner_token_sha256 FROM files WHERE info_hash = ?");
  st.bind(1, hex);
  if (!st.step()) return WithdrawStatus::not_found;
  Digest stored{};
  if (st.text(0).empty()) return WithdrawStatus::no_owner;
  if (!digest_from_hex(st.text(0), stored))
    throw Error(ExitCode::disk, fmt::format("tracker database {}: row {} has a malformed owner token hash",
                                            db_.path().string(), hex));
  if (!token_hashes_equal(stored, owner_token_hash)) return WithdrawStatus::wrong_token;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  db_.transaction([&] {
    db_.prepare("DELETE FROM files WHERE info_hash = ?").bind(1, hex).run();
    db_.prepare("INSERT OR REPLACE INTO withdrawn(info_hash, at) VALUES(?, ?)").bind(1, hex).bind(2, now).run();
  });
  trim_withdrawn();

  auto [lo, hi] = by_name_.equal_range(it->second.name);
  for (auto n = lo; n != hi; ++n)
    if (n->second == info_hash) {
      by_name_.erase(n);
      break;
    }
  dirty_.erase(info_hash);
  records_.erase(it);
  return WithdrawStatus::withdrawn;
}

void Catalog::trim_withdrawn() {
  db_.prepare("DELETE FROM withdrawn WHERE info_hash NOT IN (SELECT info_hash FROM withdrawn ORDER BY at DESC LIMIT ?)")
      .bind(1, static_cast<std::int64_t>(limits::kMaxWithdrawn))
      .run();
}

std::vector<Digest> Catalog::withdrawn() {
  std::vector<Digest> out;
  auto st = db_.prepare("SELECT info_hash FROM withdrawn ORDER BY at");
  while (st.step()) {
    Digest d{};
    if (digest_from_hex(st.text(0), d)) out.push_back(d);
  }
  return out;
}

const FileRecord* Catalog::find(const Digest& info_hash) const {
  auto it = records_.find(info_hash);
  return it == records_.end() ? nullptr : &it->second;
}

const FileRecord* Catalog::find_by_name(std::string_view name) const {
  const FileRecord* best = nullptr;
  auto [lo, hi] = by_name_.equal_range(name);
  for (auto it = lo; it != hi; ++it) {
    const FileRecord* r = find(it->second);
    if (r && (!best || r->published >= best->published)) best = r;
  }
  return best;
}

std::vector<const FileRecord*> Catalog::list(std::string_view substring, std::size_t limit) const {
  std::vector<const FileRecord*> out;
  for (const auto& [name, hash] : by_name_) {
    if (out.size() >= limit) break;
    if (!substring.empty() && name.find(substring) == std::string::npos) continue;
    if (const FileRecord* r = find(hash)) out.push_back(r);
  }
  return out;
}

std::optional<std::string> Catalog::meta_json(const Digest& info_hash) {
  if (!find(info_hash)) return std::nullopt;
  auto st = db_.prepare("SELECT meta FROM files WHERE info_hash = ?");
  st.bind(1, to_hex(info_hash));
  if (st.step()) return std::string(st.text(0));
  return std::nullopt;
}

void Catalog::note_completed(const Digest& info_hash) {
  auto it = records_.find(info_hash);
  if (it == records_.end()) return;
  ++it->second.completed;
  dirty_.insert(info_hash);
}

void Catalog::flush() {
  if (dirty_.empty()) return;
  db_.transaction([&] {
    auto st = db_.prepare("UPDATE files SET completed = ? WHERE info_hash = ?");
    for (const Digest& d : dirty_) {
      const FileRecord* r = find(d);
      if (!r) continue;
      st.bind(1, static_cast<std::int64_t>(r->completed)).bind(2, to_hex(d));
      st.run();
    }
  });
  dirty_.clear();
}

}  // namespace p2p::tracker

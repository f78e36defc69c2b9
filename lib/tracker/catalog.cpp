// Catalog: SQLite storage of validated metas plus an in-memory summary index.
#include "tracker/catalog.hpp"

#include <sqlite3.h>

#include <chrono>
#include <fmt/core.h>
#include <random>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

namespace {

// One prepared statement, finalised on every path out.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return stmt_; }
  void bind_text(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void bind_int(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string_view text(int col) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

}  // namespace

Catalog::Catalog(const std::filesystem::path& db_path) : path_(db_path), records_(0, KeyedHash{std::random_device{}()}), dirty_(0, records_.hash_function()) {
  if (db_path != ":memory:" && db_path.has_parent_path()) ensure_writable_dir(db_path.parent_path());
  if (sqlite3_open_v2(db_path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ExitCode::disk, fmt::format("cannot open tracker database {}: {}", db_path.string(), msg));
  }
  try {
    sqlite3_busy_timeout(db_, 2000);
    // WAL + NORMAL: a publish survives a process crash; counters are batched anyway.
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("CREATE TABLE IF NOT EXISTS files ("
         " info_hash TEXT PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL,"
         " piece_size INTEGER NOT NULL, meta TEXT NOT NULL, published INTEGER NOT NULL,"
         " completed INTEGER NOT NULL DEFAULT 0)");
    exec("CREATE INDEX IF NOT EXISTS files_by_name ON files(name)");
    load();
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Catalog::~Catalog() {
  try {
    flush();
  } catch (...) {
    // Destructors must not throw; the counters lost are at most one flush interval's.
  }
  sqlite3_close(db_);
}

void Catalog::fail(std::string_view what) const {
  throw Error(ExitCode::disk, fmt::format("tracker database {}: {}: {}", path_.string(), what, sqlite3_errmsg(db_)));
}

void Catalog::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(ExitCode::disk, fmt::format("tracker database {}: {} failed: {}", path_.string(), sql, msg));
  }
}

void Catalog::load() {
  Statement st(db_, "SELECT info_hash, name, size, piece_size, published, completed FROM files");
  if (!st.ok()) fail("cannot read the files table");
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    FileRecord r;
    // Rows were validated on the way in; a row that no longer parses means the file was edited by hand.
    if (!digest_from_hex(st.text(0), r.info_hash))
      throw Error(ExitCode::disk, fmt::format("tracker database {}: row with bad info_hash {:?}", path_.string(),
                                              std::string(st.text(0))));
    r.name = st.text(1);
    r.size = static_cast<std::uint64_t>(st.integer(2));
    r.piece_size = static_cast<std::uint64_t>(st.integer(3));
    r.published = st.integer(4);
    r.completed = static_cast<std::uint64_t>(st.integer(5));
    by_name_.emplace(r.name, r.info_hash);
    records_.emplace(r.info_hash, std::move(r));
  }
  if (rc != SQLITE_DONE) fail("cannot read the files table");
}

Catalog::PublishResult Catalog::publish(std::string_view meta_json_text) {
  Meta meta = parse_meta(meta_json_text, "published meta");
  if (auto it = records_.find(meta.info_hash); it != records_.end()) return {false, &it->second};
  if (records_.size() >= limits::kMaxCatalogFiles)
    throw Error(ExitCode::tracker, fmt::format("catalog is full ({} files)", limits::kMaxCatalogFiles));

  FileRecord r;
  r.info_hash = meta.info_hash;
  r.name = meta.name;
  r.size = meta.size;
  r.piece_size = meta.piece_size;
  r.published = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  Statement st(db_,
               "INSERT INTO files(info_hash, name, size, piece_size, meta, published, completed)"
               " VALUES(?,?,?,?,?,?,0)");
  if (!st.ok()) fail("cannot prepare insert");
  std::string hex = meta.info_hash_hex();
  st.bind_text(1, hex);
  st.bind_text(2, r.name);
  st.bind_int(3, static_cast<std::int64_t>(r.size));
  st.bind_int(4, static_cast<std::int64_t>(r.piece_size));
  st.bind_text(5, meta_to_json(meta));
  st.bind_int(6, r.published);
  if (st.step() != SQLITE_DONE) fail(fmt::format("cannot store meta {}", hex));

  by_name_.emplace(r.name, r.info_hash);
  auto [it, inserted] = records_.emplace(r.info_hash, std::move(r));
  return {true, &it->second};
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
  Statement st(db_, "SELECT meta FROM files WHERE info_hash = ?");
  if (!st.ok()) fail("cannot prepare select");
  st.bind_text(1, to_hex(info_hash));
  int rc = st.step();
  if (rc == SQLITE_ROW) return std::string(st.text(0));
  if (rc == SQLITE_DONE) return std::nullopt;
  fail(fmt::format("cannot read meta {}", to_hex(info_hash)));
}

void Catalog::note_completed(const Digest& info_hash) {
  auto it = records_.find(info_hash);
  if (it == records_.end()) return;
  ++it->second.completed;
  dirty_.insert(info_hash);
}

void Catalog::flush() {
  if (dirty_.empty()) return;
  exec("BEGIN");
  try {
    Statement st(db_, "UPDATE files SET completed = ? WHERE info_hash = ?");
    if (!st.ok()) fail("cannot prepare counter update");
    for (const Digest& d : dirty_) {
      const FileRecord* r = find(d);
      if (!r) continue;
      st.bind_int(1, static_cast<std::int64_t>(r->completed));
      st.bind_text(2, to_hex(d));
      if (st.step() != SQLITE_DONE) fail("cannot update completed counters");
      st.reset();
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  dirty_.clear();
}

}  // namespace p2p::tracker

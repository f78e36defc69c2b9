// Reputation: scoring and bans in memory, persisted to SQLite with prepared statements.
#include "swarm/reputation.hpp"

#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>

#include "base/error.hpp"

namespace p2p {

namespace {
double delta(Reputation::Event e) {
  switch (e) {
    case Reputation::Event::delivered: return 1;
    case Reputation::Event::timeout: return -3;
    case Reputation::Event::violation: return -25;
  }
  return 0;
}
std::int64_t unix_seconds(Reputation::SysClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
}  // namespace

struct Reputation::Db {
  sqlite3* db = nullptr;
  sqlite3_stmt* upsert = nullptr;
  std::string path;
  ~Db() {
    sqlite3_finalize(upsert);
    sqlite3_close(db);
  }
  [[noreturn]] void fail(const std::string& what) {
    throw Error(ExitCode::disk, fmt::format("reputation database {}: {}: {}", path, what, db ? sqlite3_errmsg(db) : "?"));
  }
  void exec(const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
};

Reputation::Reputation(const std::filesystem::path& path) {
  if (path.empty()) return;
  db_ = std::make_unique<Db>();
  db_->path = path.string();
  if (sqlite3_open_v2(db_->path.c_str(), &db_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    db_->fail("cannot open");
  sqlite3_busy_timeout(db_->db, 2000);
  db_->exec("PRAGMA journal_mode=WAL");
  db_->exec("PRAGMA synchronous=NORMAL");
  db_->exec(
      "CREATE TABLE IF NOT EXISTS peers (peer TEXT PRIMARY KEY, score REAL NOT NULL, delivered INTEGER NOT NULL, "
      "corrupt INTEGER NOT NULL, timeouts INTEGER NOT NULL, violations INTEGER NOT NULL, "
      "banned_until INTEGER NOT NULL, reason TEXT NOT NULL)");
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db_->db, "SELECT peer, score, delivered, corrupt, timeouts, violations, banned_until, reason FROM peers",
                         -1, &q, nullptr) != SQLITE_OK)
    db_->fail("cannot read");
  while (sqlite3_step(q) == SQLITE_ROW) {
    Record r;
    std::string key = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    r.score = sqlite3_column_double(q, 1);
    r.delivered = static_cast<std::uint64_t>(sqlite3_column_int64(q, 2));
    r.corrupt = static_cast<std::uint64_t>(sqlite3_column_int64(q, 3));
    r.timeouts = static_cast<std::uint64_t>(sqlite3_column_int64(q, 4));
    r.violations = static_cast<std::uint64_t>(sqlite3_column_int64(q, 5));
    r.banned_until = sqlite3_column_int64(q, 6);
    r.reason = reinterpret_cast<const char*>(sqlite3_column_text(q, 7));
    records_[key] = r;
  }
  sqlite3_finalize(q);
  if (sqlite3_prepare_v2(db_->db,
                         "INSERT INTO peers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(peer) DO UPDATE SET "
                         "score=?2, delivered=?3, corrupt=?4, timeouts=?5, violations=?6, banned_until=?7, reason=?8",
                         -1, &db_->upsert, nullptr) != SQLITE_OK)
    db_->fail("cannot prepare");
}

Reputation::~Reputation() {
  try {
    flush();
  } catch (...) {
    // best effort at exit; the next run starts from the last flush
  }
}

bool Reputation::record(const std::string& peer, Event e, const std::string& detail, SysClock::time_point now) {
  Record& r = records_[peer];
  dirty_[peer] = true;
  r.score = std::min(kMaxScore, r.score + delta(e));
  switch (e) {
    case Event::delivered: ++r.delivered; break;
    case Event::timeout: ++r.timeouts; break;
    case Event::violation: ++r.violations; break;
  }
  if (r.score <= kBanThreshold && !banned(peer, now)) {
    r.banned_until = unix_seconds(now + kBanDuration);
    r.reason = fmt::format("score {:.0f} after {}", r.score, detail);
    return true;
  }
  return false;
}

void Reputation::ban(const std::string& peer, const std::string& reason, SysClock::time_point now) {
  Record& r = records_[peer];
  dirty_[peer] = true;
  ++r.corrupt;
  r.score = std::min(r.score, kBanThreshold);
  r.banned_until = unix_seconds(now + kBanDuration);
  r.reason = reason;
}

bool Reputation::banned(const std::string& peer, SysClock::time_point now) const {
  auto it = records_.find(peer);
  return it != records_.end() && it->second.banned_until > unix_seconds(now);
}

double Reputation::score(const std::string& peer) const {
  auto it = records_.find(peer);
  return it == records_.end() ? 0 : it->second.score;
}

const Reputation::Record* Reputation::find(const std::string& peer) const {
  auto it = records_.find(peer);
  return it == records_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, Reputation::Record>> Reputation::bans(SysClock::time_point now) const {
  std::vector<std::pair<std::string, Record>> out;
  for (const auto& [peer, r] : records_)
    if (r.banned_until > unix_seconds(now)) out.emplace_back(peer, r);
  return out;
}

std::size_t Reputation::forget_bans(SysClock::time_point now) {
  std::size_t n = 0;
  for (auto& [peer, r] : records_) {
    if (r.banned_until <= unix_seconds(now)) continue;
    r.banned_until = 0;
    r.score = 0;
    r.reason.clear();
    dirty_[peer] = true;
    ++n;
  }
  return n;
}

void Reputation::flush() {
  if (!db_ || dirty_.empty()) return;
  db_->exec("BEGIN");
  for (const auto& [peer, _] : dirty_) {
    const Record& r = records_[peer];
    sqlite3_stmt* s = db_->upsert;
    sqlite3_bind_text(s, 1, peer.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(s, 2, r.score);
    sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(r.delivered));
    sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(r.corrupt));
    sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(r.timeouts));
    sqlite3_bind_int64(s, 6, static_cast<sqlite3_int64>(r.violations));
    sqlite3_bind_int64(s, 7, r.banned_until);
    sqlite3_bind_text(s, 8, r.reason.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
      sqlite3_exec(db_->db, "ROLLBACK", nullptr, nullptr, nullptr);
      db_->fail("cannot write");
    }
  }
  db_->exec("COMMIT");
  dirty_.clear();
}

}  // namespace p2p

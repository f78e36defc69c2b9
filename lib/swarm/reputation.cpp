// Reputation: scoring and bans in memory, persisted to SQLite with prepared statements.
#include "swarm/reputation.hpp"

#include <fmt/core.h>

#include <cstdio>

#include <algorithm>

#include "base/error.hpp"
#include "storage/sqlite_db.hpp"

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

std::string reputation_key(std::string_view ip, std::string_view peer_id) {
  return fmt::format("{}#{}", ip, peer_id.substr(0, 16));
}

struct Reputation::Db {
  SqliteDb db;
  SqliteStatement upsert;
  explicit Db(const std::filesystem::path& path)
      : db(path, SqliteDb::Options{false, std::chrono::milliseconds(2000), "reputation database",
                                   /*checkpoint_on_close=*/false}),
        upsert(prepare_schema_and_upsert(db)) {}
  // Scores are advice: a power cut may lose the last commits (WAL, synchronous=NORMAL:
  // commits are not flushed, the log is checkpointed as it grows, not at every exit),
  // never the database. synchronous first: the switch to WAL is then flushed once less.
  static SqliteStatement prepare_schema_and_upsert(SqliteDb& db) {
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA journal_mode=WAL");
    db.exec(
        "CREATE TABLE IF NOT EXISTS peers (peer TEXT PRIMARY KEY, score REAL NOT NULL, delivered INTEGER NOT NULL, "
        "corrupt INTEGER NOT NULL, timeouts INTEGER NOT NULL, violations INTEGER NOT NULL, "
        "banned_until INTEGER NOT NULL, reason TEXT NOT NULL)");
    return db.prepare(
        "INSERT INTO peers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(peer) DO UPDATE SET "
        "score=?2, delivered=?3, corrupt=?4, timeouts=?5, violations=?6, banned_until=?7, reason=?8");
  }
};

void Reputation::create_if_missing(const std::filesystem::path& path) noexcept {
  std::error_code ec;
  if (path.empty() || std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) return;
  try {
    Db made(path);
  } catch (const std::exception&) {
    // Nothing to do here: the Reputation that opens this path next says what is wrong.
  }
}

Reputation::Reputation(const std::filesystem::path& path) {
  if (path.empty()) return;
  db_ = std::make_unique<Db>(path);
  auto q = db_->db.prepare("SELECT peer, score, delivered, corrupt, timeouts, violations, banned_until, reason FROM peers");
  while (q.step()) {
    Record r;
    r.score = q.real(1);
    r.delivered = static_cast<std::uint64_t>(q.integer(2));
    r.corrupt = static_cast<std::uint64_t>(q.integer(3));
    r.timeouts = static_cast<std::uint64_t>(q.integer(4));
    r.violations = static_cast<std::uint64_t>(q.integer(5));
    r.banned_until = q.integer(6);
    r.reason = std::string(q.text(7));
    records_[std::string(q.text(0))] = r;
  }
}

Reputation::~Reputation() {
  // A destructor must not throw: say what was lost (the next run starts from the last flush).
  try {
    flush();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reputation: the last peer scores were not saved: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "reputation: the last peer scores were not saved: an unknown exception\n");
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
  db_->db.transaction([&] {
    for (const auto& [peer, _] : dirty_) {
      const Record& r = records_[peer];
      auto& u = db_->upsert;
      u.bind(1, peer)
          .bind(2, r.score)
          .bind(3, static_cast<std::int64_t>(r.delivered))
          .bind(4, static_cast<std::int64_t>(r.corrupt))
          .bind(5, static_cast<std::int64_t>(r.timeouts))
          .bind(6, static_cast<std::int64_t>(r.violations))
          .bind(7, r.banned_until)
          .bind(8, r.reason);
      u.run();
      u.reset();
    }
  });
  dirty_.clear();
}

}  // namespace p2p

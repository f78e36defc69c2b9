// One SQLite connection, RAII: opened with flags and a busy timeout, plain
// statements, prepared statements with bind/step/column, transactions. Every
// failure throws Error(disk) naming the database file and what was being done.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace p2p {

class SqliteStatement;

class SqliteDb {
 public:
  struct Options {
    bool read_only = false;  // otherwise read-write, created if missing
    std::chrono::milliseconds busy_timeout{2000};
    // How errors name the file: "<label> <path>: ..." (e.g. "tracker database").
    std::string label = "database";
    // false: closing does not checkpoint a write-ahead log into the database (the log
    // stays beside it and the next open reads it): no flush at exit for data whose
    // last seconds may be lost on a power cut (sqlite3 SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE).
    bool checkpoint_on_close = true;
  };

  // Opens (":memory:" for a private in-memory database). Throws Error(disk)
  // "<label> <path>: cannot open: <why>"; a file that is not a database fails here.
  SqliteDb(const std::filesystem::path& path, Options options);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without results (PRAGMA, CREATE, BEGIN ...).
  void exec(std::string_view sql);
  SqliteStatement prepare(std::string_view sql);

  // Runs f() inside BEGIN ... COMMIT; rolls back and rethrows if f throws.
  template <typename F>
  void transaction(F&& f) {
    exec("BEGIN");
    try {
      f();
      exec("COMMIT");
    } catch (...) {
      rollback();
      throw;
    }
  }

  // PRAGMA user_version: the schema version this program wrote last.
  int user_version();
  void set_user_version(int version);
  std::int64_t changes() const;  // rows changed by the last statement

  const std::filesystem::path& path() const { return path_; }
  [[noreturn]] void fail(std::string_view what) const;  // throws with SQLite's message

 private:
  friend class SqliteStatement;
  void rollback() noexcept;

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  std::string label_;
};

// A prepared statement, finalised on every path out. Columns and parameters
// count from 0 and 1 respectively, as in SQLite.
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  ~SqliteStatement();

  SqliteStatement& bind(int index, std::string_view text);
  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, double value);
  SqliteStatement& bind_null(int index);

  // True when a row is ready, false when done; throws on any error.
  bool step();
  // Steps a statement that returns no rows (INSERT, UPDATE, DELETE).
  void run();
  // Ready for new bindings and a new run.
  void reset();

  std::string_view text(int column) const;  // empty for NULL
  std::int64_t integer(int column) const;
  double real(int column) const;
  bool is_null(int column) const;

 private:
  friend class SqliteDb;
  SqliteStatement(const SqliteDb& db, sqlite3_stmt* stmt, std::string sql);

  const SqliteDb* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;  // for error messages
};

}  // namespace p2p

// The SQLite wrapper: statements, bindings, transactions that roll back, and
// errors that name the file.
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "storage/sqlite_db.hpp"
#include "test_support.hpp"

using namespace p2p;

TEST_CASE("sqlite: prepared statements bind, step and read columns", "[sqlite]") {
  SqliteDb db(":memory:", SqliteDb::Options{});
  db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, x REAL, note TEXT)");
  auto insert = db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)");
  insert.bind(1, std::string_view("a")).bind(2, std::int64_t{7}).bind(3, 2.5).bind_null(4);
  insert.run();
  insert.bind(1, std::string_view("b\0c", 3)).bind(2, std::int64_t{-1}).bind(3, 0.0).bind(4, std::string_view("hi"));
  insert.run();
  CHECK(db.changes() == 1);
  auto q = db.prepare("SELECT k, n, x, note FROM t ORDER BY n");
  REQUIRE(q.step());
  CHECK(q.text(0) == std::string_view("b\0c", 3));  // binary-safe
  CHECK(q.integer(1) == -1);
  REQUIRE(q.step());
  CHECK(q.text(0) == "a");
  CHECK(q.real(2) == 2.5);
  CHECK(q.is_null(3));
  CHECK(q.text(3).empty());
  CHECK_FALSE(q.step());
}

TEST_CASE("sqlite: a transaction that throws is rolled back", "[sqlite]") {
  SqliteDb db(":memory:", SqliteDb::Options{});
  db.exec("CREATE TABLE t (n INTEGER UNIQUE)");
  db.prepare("INSERT INTO t VALUES (1)").run();
  CHECK_THROWS_AS(db.transaction([&] {
    db.prepare("INSERT INTO t VALUES (2)").run();
    db.prepare("INSERT INTO t VALUES (1)").run();  // UNIQUE: throws
  }),
                  Error);
  auto count = db.prepare("SELECT count(*) FROM t");
  REQUIRE(count.step());
  CHECK(count.integer(0) == 1);
  CHECK(db.user_version() == 0);
  db.set_user_version(3);
  CHECK(db.user_version() == 3);
}

TEST_CASE("sqlite: errors are Error(disk) naming the label and the file", "[sqlite]") {
  test::TempDir dir;
  test::write_file(dir / "junk.db", std::string(4096, 'x'));
  try {
    SqliteDb db(dir / "junk.db", SqliteDb::Options{false, std::chrono::milliseconds(100), "test database"});
    FAIL("opened a file that is not a database");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::disk);
    CHECK(std::string(e.what()).find("test database") != std::string::npos);
    CHECK(std::string(e.what()).find("junk.db") != std::string::npos);
  }
  SqliteDb db(dir / "ok.db", SqliteDb::Options{});
  CHECK_THROWS_WITH(db.exec("SELECT nope FROM missing_table"), Catch::Contains("ok.db") && Catch::Contains("no such table"));
  CHECK_THROWS_WITH(db.prepare("NOT SQL"), Catch::Contains("ok.db"));
  CHECK_THROWS_AS(SqliteDb(dir / "missing" / "x.db", SqliteDb::Options{true}), Error);
}

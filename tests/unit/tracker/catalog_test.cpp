// Tracker catalog: publish validates and stores, lookup by hash and name,
// listing, counters, and durability across reopen.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "format/meta.hpp"
#include "published_meta.hpp"
#include "test_support.hpp"
#include "storage/sqlite_db.hpp"
#include "tracker/catalog.hpp"
#include "tracker/tracker_limits.hpp"

#include <fmt/core.h>

using namespace p2p;
using test::meta_json_for;
using namespace p2p::tracker;

TEST_CASE("catalog stores a valid meta once and finds it by hash and name", "[tracker]") {
  test::TempDir dir;
  Catalog cat(":memory:");
  std::string json = meta_json_for(dir, "movie.mkv", 70000, 1);
  auto r = cat.publish(json);
  CHECK(r.created);
  REQUIRE(r.record != nullptr);
  CHECK(r.record->name == "movie.mkv");
  CHECK(r.record->size == 70000);
  auto again = cat.publish(json);
  CHECK_FALSE(again.created);
  CHECK(cat.size() == 1);

  Meta m = parse_meta(json, "test");
  CHECK(cat.find(m.info_hash) == r.record);
  CHECK(cat.find_by_name("movie.mkv") == r.record);
  CHECK(cat.find_by_name("movie") == nullptr);
  auto stored = cat.meta_json(m.info_hash);
  REQUIRE(stored);
  CHECK(parse_meta(*stored, "stored").info_hash == m.info_hash);
  CHECK_FALSE(cat.meta_json(Digest{}).has_value());
}

TEST_CASE("catalog refuses an invalid meta and stores nothing", "[tracker]") {
  test::TempDir dir;
  Catalog cat(":memory:");
  auto j = nlohmann::json::parse(meta_json_for(dir, "a.bin", 20000, 2));
  j["size"] = 20001;  // contents no longer match the stated info hash
  CHECK_THROWS_MATCHES(cat.publish(j.dump()), Error,
                       Catch::Predicate<Error>([](const Error& e) { return e.code() == ExitCode::bad_meta; }));
  CHECK_THROWS_AS(cat.publish("not json"), Error);
  CHECK_THROWS_AS(cat.publish("{}"), Error);
  CHECK(cat.size() == 0);
  CHECK(cat.list("", 100).empty());
}

TEST_CASE("catalog lists by name with a substring filter and a limit", "[tracker]") {
  test::TempDir dir;
  Catalog cat(":memory:");
  cat.publish(meta_json_for(dir, "b-song.mp3", 1000, 3));
  cat.publish(meta_json_for(dir, "a-song.mp3", 1000, 4));
  cat.publish(meta_json_for(dir, "video.mkv", 1000, 5));
  auto all = cat.list("", 100);
  REQUIRE(all.size() == 3);
  CHECK(all[0]->name == "a-song.mp3");
  CHECK(all[2]->name == "video.mkv");
  auto songs = cat.list("song", 100);
  REQUIRE(songs.size() == 2);
  CHECK(cat.list("song", 1).size() == 1);
  CHECK(cat.list("nothing", 100).empty());
}

TEST_CASE("the newest of several files with one name wins a lookup", "[tracker]") {
  test::TempDir dir;
  Catalog cat(":memory:");
  cat.publish(meta_json_for(dir, "same.txt", 100, 6));
  auto second = cat.publish(meta_json_for(dir, "same.txt", 200, 7));
  CHECK(cat.size() == 2);
  CHECK(cat.find_by_name("same.txt") == second.record);  // same second: the later insert wins
}

TEST_CASE("catalog and completed counters survive a reopen", "[tracker]") {
  test::TempDir dir;
  auto db = dir / "sub" / "tracker.db";
  Digest hash{};
  {
    Catalog cat(db);
    auto r = cat.publish(meta_json_for(dir, "keep.bin", 50000, 8));
    hash = r.record->info_hash;
    cat.note_completed(hash);
    cat.note_completed(hash);
    cat.note_completed(Digest{});  // unknown: ignored
    cat.flush();
    cat.note_completed(hash);      // flushed by the destructor
  }
  Catalog reopened(db);
  REQUIRE(reopened.size() == 1);
  const FileRecord* r = reopened.find(hash);
  REQUIRE(r != nullptr);
  CHECK(r->name == "keep.bin");
  CHECK(r->completed == 3);
  CHECK(reopened.meta_json(hash).has_value());
}

TEST_CASE("catalog on an unwritable folder or a non-database fails with a disk error", "[tracker]") {
  test::TempDir dir;
  test::write_file(dir / "junk.db", std::string(4096, 'x'));
  CHECK_THROWS_MATCHES(Catalog(dir / "junk.db"), Error,
                       Catch::Predicate<Error>([](const Error& e) { return e.code() == ExitCode::disk; }));
  test::write_file(dir / "file", "x");
  CHECK_THROWS_MATCHES(Catalog(dir / "file" / "t.db"), Error,
                       Catch::Predicate<Error>([](const Error& e) { return e.code() == ExitCode::disk; }));
}

TEST_CASE("catalog withdraw needs the owner's token and removes every trace", "[tracker]") {
  test::TempDir dir;
  auto db = dir / "tracker.db";
  Digest owner = sha256(std::string_view("owner")), other = sha256(std::string_view("other"));
  Digest hash{};
  {
    Catalog cat(db);
    hash = cat.publish(meta_json_for(dir, "gone.bin", 20000, 9), owner).record->info_hash;
    cat.note_completed(hash);
    CHECK(cat.withdraw(hash, other) == WithdrawStatus::wrong_token);
    CHECK(cat.withdraw(Digest{}, owner) == WithdrawStatus::not_found);
    CHECK(cat.find(hash) != nullptr);
  }
  Catalog cat(db);  // the owner survives a reopen
  CHECK(cat.withdraw(hash, owner) == WithdrawStatus::withdrawn);
  CHECK(cat.find(hash) == nullptr);
  CHECK(cat.find_by_name("gone.bin") == nullptr);
  CHECK(cat.list("", 10).empty());
  CHECK_FALSE(cat.meta_json(hash).has_value());
  CHECK(cat.withdraw(hash, owner) == WithdrawStatus::not_found);
  cat.flush();
  Catalog reopened(db);
  CHECK(reopened.size() == 0);
}

TEST_CASE("a catalog from before owner tokens is migrated; its files cannot be withdrawn", "[tracker]") {
  test::TempDir dir;
  auto db = dir / "old.db";
  std::string json = meta_json_for(dir, "old.bin", 20000, 10);
  Meta m = parse_meta(json, "t");
  {
    // The schema of the first release, as its files are on disk (user_version 0).
    SqliteDb old(db, SqliteDb::Options{});
    old.exec("CREATE TABLE files (info_hash TEXT PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL,"
             " piece_size INTEGER NOT NULL, meta TEXT NOT NULL, published INTEGER NOT NULL,"
             " completed INTEGER NOT NULL DEFAULT 0)");
    old.prepare("INSERT INTO files VALUES (?, 'old.bin', 20000, 16384, ?, 1700000000, 5)")
        .bind(1, m.info_hash_hex())
        .bind(2, json)
        .run();
  }
  {
    Catalog cat(db);
    const FileRecord* r = cat.find(m.info_hash);
    REQUIRE(r != nullptr);
    CHECK(r->completed == 5);
    CHECK(cat.withdraw(m.info_hash, sha256(std::string_view("anyone"))) == WithdrawStatus::no_owner);
    CHECK(cat.publish(meta_json_for(dir, "new.bin", 20000, 11), sha256(std::string_view("me"))).created);
  }
  SqliteDb check(db, SqliteDb::Options{});
  CHECK(check.user_version() == Catalog::kSchemaVersion);
  check.set_user_version(Catalog::kSchemaVersion + 1);
  CHECK_THROWS_WITH(Catalog(db), Catch::Contains("newer than this program"));
}

TEST_CASE("the catalog keeps a meta's bytes as they were published", "[tracker]") {
  test::TempDir dir;
  Catalog cat(":memory:");
  Meta m = parse_meta(meta_json_for(dir, "asis.bin", 70000, 12), "t");
  // Compact, and with a field no meta has: served back byte for byte, never re-indented.
  auto j = nlohmann::json::parse(meta_to_json(m));
  j["comment"] = "kept";
  std::string published = j.dump();
  REQUIRE(cat.publish(published).created);
  auto stored = cat.meta_json(m.info_hash);
  REQUIRE(stored);
  CHECK(*stored == published);
}

TEST_CASE("metas stored re-indented by schema 1 and larger than a fetch takes are compacted once", "[tracker]") {
  test::TempDir dir;
  auto db = dir / "v1.db";
  // A tree meta whose re-indented form is over kMaxPublishBytes, its compact form under.
  Meta m;
  m.version = kTreeMetaFormatVersion;
  m.name = "wide";
  m.piece_size = 16384;
  for (int i = 0; i < 200000; ++i) {
    MetaFile f;
    f.path = fmt::format("d{:03}/f{:06}", i / 1000, i);
    m.files.push_back(f);
  }
  m.root = merkle_root(m.pieces);
  m.info_hash = info_hash_of(m);
  std::string pretty = meta_to_json(m), compact = meta_to_compact_json(m);
  REQUIRE(pretty.size() > tracker::limits::kMaxPublishBytes);
  REQUIRE(compact.size() <= tracker::limits::kMaxPublishBytes);
  {
    Catalog cat(db);  // schema 2 ...
  }
  {
    SqliteDb old(db, SqliteDb::Options{});  // ... set back to 1 with a row as version 1 stored it
    old.set_user_version(1);
    old.prepare("INSERT INTO files(info_hash, name, size, piece_size, meta, published) VALUES (?, 'wide', 0, 16384, ?, 1)")
        .bind(1, m.info_hash_hex())
        .bind(2, pretty)
        .run();
  }
  Catalog cat(db);
  auto stored = cat.meta_json(m.info_hash);
  REQUIRE(stored);
  CHECK(*stored == compact);
  CHECK(parse_meta(*stored, "stored").info_hash == m.info_hash);
}

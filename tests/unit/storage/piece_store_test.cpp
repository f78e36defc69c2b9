// PieceStore: offsets, the short last piece, state save/load, and distrust of bad state.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <random>

#include "base/error.hpp"
#include "storage/meta_creation.hpp"
#include "storage/piece_store.hpp"
#include "test_support.hpp"

using namespace p2p;
namespace fs = std::filesystem;

namespace {
struct Fixture {
  test::TempDir dir;
  std::string content = test::random_bytes(5 * 16384 + 100, 42);  // 6 pieces, last is 100 bytes
  Meta meta;
  Fixture() {
    test::write_file(dir / "src.bin", content);
    meta = create_meta(dir / "src.bin", 16384, {});
    fs::create_directories(dir / "dl");
  }
  std::span<const std::uint8_t> piece(std::uint32_t i) const {
    return std::span(reinterpret_cast<const std::uint8_t*>(content.data()) + meta.piece_offset(i), meta.piece_length(i));
  }
};
}  // namespace

TEST_CASE("pieces land at their offsets; the last piece is short", "[piece_store]") {
  Fixture f;
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK(s.verified().none());
  CHECK(f.meta.piece_length(5) == 100);
  for (std::uint32_t i : {5u, 0u, 3u}) {
    s.write_piece(i, f.piece(i));
    s.mark_verified(i);
  }
  CHECK(s.verified_bytes() == 2 * 16384 + 100);
  std::vector<std::uint8_t> out(100);
  s.read_block(5, 0, out);
  CHECK(std::equal(out.begin(), out.end(), f.piece(5).begin()));
  out.resize(10);
  s.read_block(3, 16374, out);
  CHECK(std::equal(out.begin(), out.end(), f.piece(3).begin() + 16374));
  CHECK(fs::file_size(s.partial_path()) == f.content.size());
}

TEST_CASE("state survives a restart and is re-verified", "[piece_store]") {
  Fixture f;
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
    for (std::uint32_t i : {1u, 2u}) {
      s.write_piece(i, f.piece(i));
      s.mark_verified(i);
    }
    s.save_state();
  }
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK(r.from_state == 2);
  CHECK(r.recovered == 0);
  CHECK(r.state_problem.empty());
  CHECK(s.has(1));
  CHECK(s.has(2));
  CHECK_FALSE(s.has(0));
}

TEST_CASE("a verified piece written but not yet recorded is recovered after a crash", "[piece_store]") {
  Fixture f;
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
    s.write_piece(4, f.piece(4));  // crash before save_state
  }
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK(r.recovered == 1);
  CHECK(s.has(4));
  CHECK(s.verified().count() == 1);
}

TEST_CASE("corrupt, foreign or lying state files are not trusted", "[piece_store]") {
  Fixture f;
  auto state = WorkdirLayout::prepare(f.dir / "dl").state_path(f.meta);
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
    s.write_piece(0, f.piece(0));
    s.mark_verified(0);
    s.save_state();
  }
  SECTION("garbage") { test::write_file(state, "{not json"); }
  SECTION("another file's state") {
    std::string text = read_small_file(state, 1 << 20);
    auto pos = text.find(f.meta.info_hash_hex());
    text.replace(pos, 64, std::string(64, 'a'));
    test::write_file(state, text);
  }
  SECTION("claims every piece") {
    std::string text = read_small_file(state, 1 << 20);
    auto pos = text.find("\"verified\":\"");
    text.replace(pos + 12, 2, "fc");
    test::write_file(state, text);
  }
  SECTION("bits past the end") {
    std::string text = read_small_file(state, 1 << 20);
    auto pos = text.find("\"verified\":\"");
    text.replace(pos + 12, 2, "ff");
    test::write_file(state, text);
  }
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK_FALSE(r.state_problem.empty());
  CHECK(s.verified().count() == 1);  // only the piece that really hashes right
  CHECK(s.has(0));
}

TEST_CASE("a damaged piece on disk is not counted even if the state claims it", "[piece_store]") {
  Fixture f;
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
    s.write_piece(2, f.piece(2));
    s.mark_verified(2);
    s.save_state();
    std::vector<std::uint8_t> junk(10, 0xee);
    s.file().write_at(f.meta.piece_offset(2) + 5, junk);
  }
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK_FALSE(s.has(2));
  CHECK(r.state_problem.find("failed their hash check") != std::string::npos);
}

TEST_CASE("finish renames and removes the state", "[piece_store]") {
  Fixture f;
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  for (std::uint32_t i = 0; i < f.meta.piece_count(); ++i) {
    s.write_piece(i, f.piece(i));
    s.mark_verified(i);
  }
  s.save_state();
  CHECK(s.complete());
  auto final_path = s.finish();
  CHECK(final_path == f.dir / "dl" / "src.bin");
  CHECK(read_small_file(final_path, 1 << 20) == f.content);
  CHECK_FALSE(fs::exists(s.state_path()));
  CHECK_FALSE(fs::exists(s.partial_path()));
}

TEST_CASE("our own files live in .p2p under info-hash names; a legacy .partial is adopted", "[piece_store]") {
  Fixture f;
  auto layout = WorkdirLayout::prepare(f.dir / "dl");
  CHECK(layout.partial_path(f.meta).parent_path() == f.dir / "dl" / ".p2p");
  CHECK(layout.partial_path(f.meta).filename() == f.meta.info_hash_hex() + ".partial");
  // The previous release kept WORKDIR/<name>.partial: an interrupted download resumes.
  test::write_file(f.dir / "dl" / "src.bin.partial", f.content.substr(0, f.meta.piece_size));
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, layout, r);
  CHECK(r.recovered == 1);
  CHECK_FALSE(fs::exists(f.dir / "dl" / "src.bin.partial"));
}

TEST_CASE("finish never replaces a file that appeared under the final name", "[piece_store]") {
  Fixture f;
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  for (std::uint32_t i = 0; i < f.meta.piece_count(); ++i) {
    s.write_piece(i, f.piece(i));
    s.mark_verified(i);
  }
  test::write_file(f.dir / "dl" / "src.bin", "the user's own file");
  try {
    s.finish();
    FAIL("finish replaced the user's file");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::file_exists);
  }
  CHECK(read_small_file(f.dir / "dl" / "src.bin", 1 << 20) == "the user's own file");
  CHECK(fs::exists(s.partial_path()));  // the verified download is kept
  // A symbolic link there is "something in the way" too, never written through.
  fs::remove(f.dir / "dl" / "src.bin");
  fs::create_symlink(f.dir / "elsewhere", f.dir / "dl" / "src.bin");
  CHECK_THROWS_AS(s.finish(), Error);
  CHECK_FALSE(fs::exists(f.dir / "elsewhere"));
}

TEST_CASE("a symbolic link planted where our .partial goes is refused, not followed", "[piece_store]") {
  Fixture f;
  auto layout = WorkdirLayout::prepare(f.dir / "dl");
  test::write_file(f.dir / "victim", "precious");
  fs::create_symlink(f.dir / "victim", layout.partial_path(f.meta));
  PieceStore::ResumeReport r;
  CHECK_THROWS_AS(PieceStore::open_partial(f.meta, layout, r), Error);
  CHECK(read_small_file(f.dir / "victim", 1 << 20) == "precious");
  // And a link in place of .p2p itself.
  fs::create_directories(f.dir / "dl2");
  fs::create_directory_symlink(f.dir.path(), f.dir / "dl2" / ".p2p");
  CHECK_THROWS_AS(WorkdirLayout::prepare(f.dir / "dl2"), Error);
}

TEST_CASE("a seed source must match piece by piece", "[piece_store]") {
  Fixture f;
  CHECK(PieceStore::open_complete(f.meta, f.dir / "src.bin").complete());
  std::string bad = f.content;
  bad[3 * 16384 + 7] ^= 1;
  test::write_file(f.dir / "bad.bin", bad);
  try {
    PieceStore::open_complete(f.meta, f.dir / "bad.bin");
    FAIL("mismatch accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::source_mismatch);
    CHECK(std::string(e.what()).find("piece 3") != std::string::npos);
  }
  test::write_file(f.dir / "short.bin", f.content.substr(1));
  CHECK_THROWS_AS(PieceStore::open_complete(f.meta, f.dir / "short.bin"), Error);
}

TEST_CASE("an unwritable workdir is a disk error", "[piece_store]") {
  Fixture f;
  test::write_file(f.dir / "afile", "x");
  PieceStore::ResumeReport r;
  try {
    PieceStore::open_partial(f.meta, f.dir / "afile" / "sub", r);
    FAIL("opened under a file");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::disk);
  }
}

TEST_CASE("kill -9 during state writes never leaves a torn state file", "[piece_store][crash]") {
  // A child rewrites the state file in a loop; we kill it at random moments and
  // check that what is on disk is always one complete version, never a mix.
  test::TempDir dir;
  auto path = dir / "x.state.json";
  std::vector<std::string> versions;
  for (int v = 0; v < 4; ++v) versions.push_back(std::string(200000 + v * 1000, static_cast<char>('a' + v)));
  write_file_atomically(path, versions[0]);
  std::mt19937 rng(42);
  for (int round = 0; round < 30; ++round) {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      for (int i = 0;; ++i) write_file_atomically(path, versions[static_cast<std::size_t>(i % 4)]);
    }
    ::usleep(1000 + rng() % 20000);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    std::string now = read_small_file(path, 1 << 20);
    bool whole = std::find(versions.begin(), versions.end(), now) != versions.end();
    REQUIRE(whole);
  }
}

TEST_CASE("a temp file left by a crash before the rename is ignored", "[piece_store][crash]") {
  Fixture f;
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
    s.write_piece(1, f.piece(1));
    s.mark_verified(1);
    s.save_state();
  }
  // What a crash halfway through the next save leaves behind.
  test::write_file(f.dir / "dl" / "src.bin.state.json.tmp.4242", "{\"version\":1,\"info_ha");
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK(r.state_problem.empty());
  CHECK(r.from_state == 1);
  CHECK(s.has(1));
}

TEST_CASE("a moved store keeps writing into its .partial", "[piece_store]") {
  Fixture f;
  PieceStore::ResumeReport r;
  std::optional<PieceStore> moved;
  {
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
    moved.emplace(std::move(s));
  }
  for (std::uint32_t i = 0; i < f.meta.piece_count(); ++i) {
    moved->write_piece(i, f.piece(i));
    moved->mark_verified(i);
  }
  auto final_path = moved->finish();
  CHECK(read_small_file(final_path, 1 << 20) == f.content);
}

TEST_CASE("a format-1 meta downloads into the same store", "[piece_store]") {
  Fixture f;
  // The same file described in format 1 (whole-file hash, no root): pieces and resume work alike.
  Meta v1 = f.meta;
  v1.version = 1;
  v1.root = Digest{};
  v1.has_file_hash = true;
  v1.file_hash = sha256(f.content);
  v1.info_hash = sha256(canonical_info(v1));
  v1 = parse_meta(meta_to_json(v1), "v1");
  CHECK(v1.info_hash != f.meta.info_hash);
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(v1, f.dir / "dl", r);
    s.write_piece(2, f.piece(2));
    s.mark_verified(2);
    s.save_state();
  }
  // Resuming the same .partial with the format-2 meta of the same bytes: the state file
  // belongs to another info hash and is not trusted, but the verified piece is recovered.
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK_FALSE(r.state_problem.empty());
  CHECK(r.recovered == 1);
  CHECK(s.has(2));
}

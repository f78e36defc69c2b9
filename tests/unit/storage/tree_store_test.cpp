// PieceStore over a tree: per-file data files, files moved to their final paths in
// <name>/ when verified, resume, files of the user's in the way (never replaced),
// finishing, refusals (a planted link, a folder of the user's), seeding from a folder
// in place, and the bounded descriptor cache.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/limits.hpp"
#include "storage/meta_creation.hpp"
#include "storage/piece_store.hpp"
#include "test_support.hpp"

using namespace p2p;
namespace fs = std::filesystem;

namespace {
struct TreeFixture {
  test::TempDir dir;
  fs::path src = dir / "src" / "tree";
  Meta meta;
  TreeFixture() {
    fs::create_directories(src / "sub" / "deep");
    fs::create_directories(src / "void");
    test::write_file(src / "a.bin", test::random_bytes(40000, 1));  // 3 pieces
    test::write_file(src / "sub" / "b.bin", test::random_bytes(100, 2));  // 1 piece
    test::write_file(src / "sub" / "deep" / "run", test::random_bytes(16384, 3));  // 1 piece
    test::write_file(src / "sub" / "empty", "");
    ::chmod((src / "sub" / "deep" / "run").c_str(), 0755);
    meta = create_tree_meta(src, 16384, {}, false, [](const std::string&) {});
    fs::create_directories(dir / "dl");
  }
  std::string piece(std::uint32_t i) const {
    const MetaFile& f = meta.files[meta.file_of_piece(i)];
    std::string all = read_small_file(src / f.path, 1 << 20);
    return all.substr(meta.piece_offset(i), meta.piece_length(i));
  }
  void deliver(PieceStore& s, std::uint32_t i) const {
    std::string p = piece(i);
    s.write_piece(i, std::span(reinterpret_cast<const std::uint8_t*>(p.data()), p.size()));
    s.mark_verified(i);
  }
  fs::path partial() const { return dir / "dl" / "tree"; }  // downloaded in place
};

std::size_t open_fds() {
  std::size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/self/fd"); it != fs::directory_iterator(); ++it) ++n;
  return n;
}
}  // namespace

TEST_CASE("a tree downloads file by file into <name>/, finished when its state goes", "[piece_store][tree]") {
  TreeFixture f;
  REQUIRE(f.meta.piece_count() == 5);  // a.bin 0-2, sub/b.bin 3, sub/deep/run 4 (sorted: a.bin, sub/b.bin, sub/deep/run, sub/empty)
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK(s.partial_path() == f.partial());
  // Nothing is at a final path yet: empty files and folders are made by finish(), last
  // (a meta cannot make a downloader fill a disk with folders before a piece arrives).
  CHECK_FALSE(fs::exists(f.partial() / "sub" / "empty"));
  CHECK_FALSE(fs::exists(f.partial() / "void"));
  CHECK_FALSE(fs::exists(f.partial() / "a.bin"));
  CHECK(s.files_done() == 1);  // an empty file is done: it needs no piece

  f.deliver(s, 0);
  f.deliver(s, 2);
  CHECK_FALSE(fs::exists(f.partial() / "a.bin"));  // not all of its pieces yet
  CHECK(s.verified_bytes() == 16384 + (40000 - 32768));
  std::vector<std::uint8_t> out(100);
  s.read_block(2, 0, out);  // served from the data file while incomplete
  CHECK(std::string(out.begin(), out.end()) == f.piece(2).substr(0, 100));
  std::string p1 = f.piece(1);
  s.write_piece(1, std::span(reinterpret_cast<const std::uint8_t*>(p1.data()), p1.size()));
  auto done = s.mark_verified(1);
  REQUIRE(done);
  CHECK(f.meta.files[*done].path == "a.bin");
  CHECK(fs::file_size(f.partial() / "a.bin") == 40000);
  CHECK(read_small_file(f.partial() / "a.bin", 1 << 20) == read_small_file(f.src / "a.bin", 1 << 20));
  s.read_block(2, 0, out);  // and from its final place once moved
  CHECK(std::string(out.begin(), out.end()) == f.piece(2).substr(0, 100));
  f.deliver(s, 3);
  f.deliver(s, 4);
  CHECK(s.complete());
  CHECK(s.files_done() == 4);
  CHECK((fs::status(f.partial() / "sub" / "deep" / "run").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK((fs::status(f.partial() / "a.bin").permissions() & fs::perms::owner_exec) == fs::perms::none);
  s.save_state();
  CHECK(fs::exists(s.state_path()));  // unfinished until finish()
  auto final_path = s.finish();
  CHECK(final_path == f.dir / "dl" / "tree");
  CHECK_FALSE(fs::exists(s.state_path()));
  CHECK_FALSE(fs::exists(WorkdirLayout{f.dir / "dl", f.dir / "dl" / ".p2p"}.tree_data_dir(f.meta)));
  CHECK(fs::is_directory(final_path / "void"));
  CHECK(fs::is_regular_file(final_path / "sub" / "empty"));
  CHECK(read_small_file(final_path / "sub" / "b.bin", 1 << 20) == read_small_file(f.src / "sub" / "b.bin", 1 << 20));
}

TEST_CASE("a tree resumes: saved pieces, unsaved ones on disk, and finished files", "[piece_store][tree]") {
  TreeFixture f;
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
    f.deliver(s, 3);  // sub/b.bin complete and moved
    f.deliver(s, 0);
    s.save_state();
    f.deliver(s, 1);  // written after the last save
  }
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK(s.has(0));
  CHECK(s.has(1));
  CHECK(s.has(3));
  CHECK_FALSE(s.has(2));
  CHECK(r.from_state == 2);
  CHECK(r.recovered == 1);
  CHECK(fs::exists(f.partial() / "sub" / "b.bin"));
  CHECK(s.files_done() == 2);  // b.bin and the empty file

  // A finished file changed while we were away (by the user: it is where they look) is
  // in the way: not ours any more, never moved or replaced; its pieces are fetched again
  // into its data file, and moving it in is refused while the user's file is there.
  std::string bad = read_small_file(f.partial() / "sub" / "b.bin", 1 << 20);
  bad[0] ^= 1;
  test::write_file(f.partial() / "sub" / "b.bin", bad);
  PieceStore::ResumeReport r2;
  PieceStore s2 = PieceStore::open_partial(f.meta, f.dir / "dl", r2);
  CHECK_FALSE(s2.has(3));
  REQUIRE(s2.files_in_the_way().size() == 1);
  CHECK(f.meta.files[s2.files_in_the_way()[0]].path == "sub/b.bin");
  CHECK(s2.files_done() == 1);  // the empty file only
  CHECK(read_small_file(f.partial() / "sub" / "b.bin", 1 << 20) == bad);
  try {
    f.deliver(s2, 3);
    FAIL("replaced the user's file");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::file_exists);
    CHECK_THAT(std::string(e.what()), Catch::Contains("in the way"));
  }
  CHECK(read_small_file(f.partial() / "sub" / "b.bin", 1 << 20) == bad);
  // Moved away: the verified piece waiting in the data file takes its place.
  fs::rename(f.partial() / "sub" / "b.bin", f.dir / "mine.bin");
  PieceStore::ResumeReport r3;
  PieceStore s3 = PieceStore::open_partial(f.meta, f.dir / "dl", r3);
  CHECK(s3.has(3));
  CHECK(s3.files_in_the_way().empty());
  CHECK(read_small_file(f.partial() / "sub" / "b.bin", 1 << 20) == read_small_file(f.src / "sub" / "b.bin", 1 << 20));
}

TEST_CASE("files of the user's at a tree's final paths are never replaced nor truncated", "[piece_store][tree]") {
  TreeFixture f;
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);  // the state exists: <name>/ is ours
  }
  test::write_file(f.partial() / "a.bin", "mine");         // where a 3-piece file goes
  fs::create_directories(f.partial() / "sub");
  test::write_file(f.partial() / "sub" / "empty", "mine too");  // where an empty file goes (made only at the end)
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
    auto way = s.files_in_the_way();
    REQUIRE(way.size() == 2);
    CHECK(f.meta.files[way[0]].path == "a.bin");
    CHECK(f.meta.files[way[1]].path == "sub/empty");
    CHECK_FALSE(s.has(0));
    CHECK(read_small_file(f.partial() / "sub" / "empty", 1 << 20) == "mine too");
    f.deliver(s, 3);
    f.deliver(s, 4);
    f.deliver(s, 0);
    f.deliver(s, 2);
    CHECK_THROWS_AS(f.deliver(s, 1), Error);  // a.bin complete, but the user's file is there
    s.save_state();
  }
  CHECK(read_small_file(f.partial() / "a.bin", 1 << 20) == "mine");
  // Its verified pieces wait in the data file: nothing lost, nothing replaced.
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  CHECK(s.has(0));
  CHECK(s.has(1));
  CHECK(s.has(2));
  CHECK(s.files_in_the_way().size() == 2);
  CHECK(read_small_file(f.partial() / "a.bin", 1 << 20) == "mine");
  CHECK(read_small_file(f.partial() / "sub" / "empty", 1 << 20) == "mine too");
}

TEST_CASE("a tree's <name>.partial/ of an earlier version becomes <name>/ and resumes", "[piece_store][tree]") {
  TreeFixture f;
  WorkdirLayout layout = WorkdirLayout::prepare(f.dir / "dl");
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(f.meta, layout, r);
    f.deliver(s, 3);
    s.save_state();
  }
  fs::rename(f.partial(), f.dir / "dl" / "tree.partial");  // as the earlier version left it
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, layout, r);
  CHECK(s.has(3));
  CHECK_FALSE(fs::exists(f.dir / "dl" / "tree.partial"));
  CHECK(fs::is_regular_file(f.partial() / "sub" / "b.bin"));
  CHECK(layout.downloads_in_progress().count("tree") == 1);
}

TEST_CASE("a symbolic link planted inside <name>/ stops the download; nothing goes through it", "[piece_store][tree]") {
  TreeFixture f;
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  fs::create_directories(f.dir / "outside");
  fs::remove_all(f.partial() / "sub");  // held the empty file
  fs::create_directory_symlink(f.dir / "outside", f.partial() / "sub");
  f.deliver(s, 0);
  f.deliver(s, 1);
  f.deliver(s, 2);  // a.bin is at the root: fine
  try {
    f.deliver(s, 3);  // sub/b.bin would go through the link
    FAIL("wrote through a planted link");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::file_exists);
    CHECK_THAT(std::string(e.what()), Catch::Contains("symbolic link"));
  }
  CHECK(fs::is_empty(f.dir / "outside"));
}

TEST_CASE("a link as <name> itself, or a folder of the user's there (no state of ours), is refused", "[piece_store][tree]") {
  TreeFixture f;
  fs::create_directories(f.partial());
  PieceStore::ResumeReport r;
  try {
    PieceStore::open_partial(f.meta, f.dir / "dl", r);
    FAIL("took over the user's folder");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::file_exists);
  }
  fs::remove(f.partial());
  fs::create_directories(f.dir / "outside");
  fs::create_directory_symlink(f.dir / "outside", f.partial());
  CHECK_THROWS_AS(PieceStore::open_partial(f.meta, f.dir / "dl", r), Error);
  CHECK(fs::is_empty(f.dir / "outside"));
}

TEST_CASE("a tree is seeded in place and checked piece by piece", "[piece_store][tree]") {
  TreeFixture f;
  PieceStore s = PieceStore::open_complete(f.meta, f.src);
  CHECK(s.complete());
  CHECK(s.is_source());
  std::vector<std::uint8_t> out(50);
  s.read_block(4, 10, out);
  CHECK(std::string(out.begin(), out.end()) == f.piece(4).substr(10, 50));
  auto where = s.block_file(4, 10);
  CHECK(where.fd >= 0);
  CHECK(where.offset == 10);

  std::string b = read_small_file(f.src / "sub" / "b.bin", 1 << 20);
  b[5] ^= 1;
  test::write_file(f.src / "sub" / "b.bin", b);
  try {
    PieceStore::open_complete(f.meta, f.src);
    FAIL("a corrupt source was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::source_mismatch);
    CHECK_THAT(std::string(e.what()), Catch::Contains("sub/b.bin"));
  }
  fs::remove(f.src / "sub" / "b.bin");
  fs::create_symlink(f.dir / "dl", f.src / "sub" / "b.bin");
  CHECK_THROWS_AS(PieceStore::open_complete(f.meta, f.src), Error);
}

TEST_CASE("a tree of many files holds a bounded number of descriptors", "[piece_store][tree]") {
  test::TempDir dir;
  auto root = dir / "many";
  fs::create_directories(root);
  for (int i = 0; i < 300; ++i) test::write_file(root / fmt::format("f{:03}", i), test::random_bytes(10, i));
  Meta m = create_tree_meta(root, 16384, {}, false, [](const std::string&) {});
  std::size_t before = open_fds();
  PieceStore s = PieceStore::open_complete(m, root);
  std::vector<std::uint8_t> out(10);
  for (std::uint32_t i = 0; i < m.piece_count(); ++i) s.read_block(i, 0, out);
  CHECK(open_fds() <= before + p2p::limits::kMaxOpenTreeFiles + 2);
}

TEST_CASE("a tree's files get their modes whatever the umask, written at once or piece by piece", "[piece_store][tree]") {
  TreeFixture f;
  mode_t old = ::umask(077);  // would leave 0600 / 0700 if the mode came from the create alone
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  ::umask(old);
  for (std::uint32_t i = 0; i < f.meta.piece_count(); ++i) f.deliver(s, i);
  REQUIRE(s.complete());
  auto mode = [](const fs::path& p) {
    struct stat st{};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  CHECK(mode(f.partial() / "sub" / "deep" / "run") == 0755);  // one piece, executable
  CHECK(mode(f.partial() / "sub" / "b.bin") == 0644);         // one piece
  CHECK(mode(f.partial() / "a.bin") == 0644);                 // three pieces
  for (const char* p : {"sub/deep/run", "sub/b.bin", "a.bin"})
    CHECK(read_small_file(f.partial() / p, 1 << 20) == read_small_file(f.src / p, 1 << 20));
}

TEST_CASE("a tree's state save flushes the files placed since the last one; an unchanged state is not rewritten",
          "[piece_store][tree]") {
  TreeFixture f;
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(f.meta, f.dir / "dl", r);
  REQUIRE(fs::exists(s.state_path()));  // saved as the download began
  // A save with nothing new leaves the file alone (a marker written over it stays).
  test::write_file(s.state_path(), "marker");
  s.save_state();
  CHECK(read_small_file(s.state_path(), 1 << 20) == "marker");
  f.deliver(s, 3);  // sub/b.bin: one piece, placed at once
  s.save_state();
  std::string saved = read_small_file(s.state_path(), 1 << 20);
  CHECK(saved == s.state_json());
  CHECK(saved != "marker");
  // A placed file the user moved away has nothing to flush: the save goes on (its
  // pieces are checked again when the download resumes).
  f.deliver(s, 0);
  f.deliver(s, 1);
  f.deliver(s, 2);  // a.bin placed
  fs::remove(f.partial() / "a.bin");
  s.save_state();
  saved = read_small_file(s.state_path(), 1 << 20);
  CHECK(saved == s.state_json());
  // A few placed files are flushed one by one, each opened again along its path
  // without following links: a folder on the way replaced by a link is an error that
  // names it, and nothing is saved.
  f.deliver(s, 4);  // sub/deep/run
  fs::rename(f.partial() / "sub" / "deep", f.dir / "elsewhere");
  fs::create_directory_symlink(f.dir / "elsewhere", f.partial() / "sub" / "deep");
  try {
    s.save_state();
    FAIL("a link planted on a placed file's path was followed");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::disk);
    CHECK_THAT(e.what(), Catch::Contains("sub/deep"));
  }
  CHECK(read_small_file(s.state_path(), 1 << 20) == saved);
}

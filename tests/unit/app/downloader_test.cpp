// The downloader's steps without a swarm: prepare_download (lock, final-path checks,
// files in the way of a folder downloaded in place), tree_missing_files, and the
// exit code of a run with several downloads.
#include <catch2/catch.hpp>

#include "app/downloader.hpp"
#include "base/error.hpp"
#include "storage/meta_creation.hpp"
#include "storage/piece_store.hpp"
#include "test_support.hpp"

using namespace p2p;
namespace fs = std::filesystem;

namespace {
struct Folder {
  test::TempDir dir;
  fs::path src = dir / "src" / "album";
  std::shared_ptr<const Meta> meta;
  WorkdirLayout layout;
  ProgressReporter quiet{OutputMode::quiet, "download"};
  Folder() {
    fs::create_directories(src / "2024");
    test::write_file(src / "2024" / "a.jpg", test::random_bytes(40000, 1));
    test::write_file(src / "2024" / "b.jpg", test::random_bytes(20000, 2));
    test::write_file(src / "notes.txt", test::random_bytes(100, 3));
    meta = std::make_shared<const Meta>(create_tree_meta(src, 16384, {}, false, [](const std::string&) {}));
    layout = WorkdirLayout::prepare(dir / "dl");
  }
  fs::path final_path() const { return dir / "dl" / "album"; }
  void deliver_file(PieceStore& s, const std::string& path) const {
    for (const auto& f : meta->files) {
      if (f.path != path) continue;
      std::string all = read_small_file(src / f.path, 1 << 20);
      for (std::uint32_t p = f.first_piece; p < f.first_piece + f.piece_count; ++p) {
        std::string piece = all.substr(meta->piece_offset(p), meta->piece_length(p));
        s.write_piece(p, std::span(reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size()));
        s.mark_verified(p);
      }
    }
  }
};
}  // namespace

TEST_CASE("an --only download puts its files at their final paths and names the rest as missing", "[downloader]") {
  Folder f;
  {
    auto job = prepare_download(f.meta, {"2024/*"}, f.layout, f.quiet);
    REQUIRE(job.opened);
    CHECK_FALSE(job.opened->already_complete);
    CHECK(job.selected_files == 2);
    REQUIRE(job.selection);
    CHECK(job.opened->final_path == f.final_path());
    f.deliver_file(job.opened->store, "2024/a.jpg");
    job.opened->store.save_state();
  }
  CHECK(read_small_file(f.final_path() / "2024" / "a.jpg", 1 << 20) == read_small_file(f.src / "2024" / "a.jpg", 1 << 20));
  CHECK_FALSE(fs::exists(f.final_path() / "2024" / "b.jpg"));
  CHECK(tree_missing_files(f.meta, f.layout).names() == std::vector<std::string>{"2024/b.jpg", "notes.txt"});
  // The folder is unfinished: not taken for a finished download by a rerun, nor shared.
  CHECK(f.layout.downloads_in_progress().count("album") == 1);
  auto again = prepare_download(f.meta, {}, f.layout, f.quiet);
  CHECK_FALSE(again.opened->already_complete);
  CHECK(again.opened->store.has(f.meta->files[0].first_piece));
}

TEST_CASE("a file of the user's in the way is refused when it is to be fetched, left alone when not", "[downloader]") {
  Folder f;
  { auto job = prepare_download(f.meta, {"2024/*"}, f.layout, f.quiet); }  // the folder is now ours, unfinished
  test::write_file(f.final_path() / "notes.txt", "my notes");
  // Not selected: prepared, the file untouched.
  CHECK_NOTHROW(prepare_download(f.meta, {"2024/*"}, f.layout, f.quiet));
  CHECK(read_small_file(f.final_path() / "notes.txt", 1 << 20) == "my notes");
  // Selected (or everything): refused before anything is fetched, naming it.
  for (const auto& only : {std::vector<std::string>{"*.txt"}, std::vector<std::string>{}}) {
    try {
      prepare_download(f.meta, only, f.layout, f.quiet);
      FAIL("a file of the user's in the way was accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::file_exists);
      CHECK_THAT(std::string(e.what()), Catch::Contains((f.final_path() / "notes.txt").string() + " is in the way"));
    }
  }
  CHECK(read_small_file(f.final_path() / "notes.txt", 1 << 20) == "my notes");
}

TEST_CASE("a finished folder is verified, a folder of the user's is refused", "[downloader]") {
  Folder f;
  fs::create_directories(f.dir / "dl");
  fs::copy(f.src, f.final_path(), fs::copy_options::recursive);
  {
    auto job = prepare_download(f.meta, {}, f.layout, f.quiet);
    CHECK(job.opened->already_complete);
    CHECK(tree_missing_files(f.meta, f.layout).empty());
  }
  test::write_file(f.final_path() / "notes.txt", "changed");
  try {
    prepare_download(f.meta, {}, f.layout, f.quiet);
    FAIL("a folder that is not the download was taken for it");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::file_exists);
  }
  CHECK(read_small_file(f.final_path() / "notes.txt", 1 << 20) == "changed");
}

TEST_CASE("several downloads: the exit code is the first failure's, in the order given", "[downloader]") {
  DownloadResult r;
  r.items.resize(3);
  for (auto& i : r.items) i.torrent.complete = true;
  CHECK(r.exit_code() == 0);
  r.items[2].torrent.complete = false;
  r.items[2].error = Error(ExitCode::bad_meta, "bad");
  r.items[1].torrent.complete = false;
  r.items[1].error = Error(ExitCode::peers_failed, "no peer");
  CHECK(r.exit_code() == static_cast<int>(ExitCode::peers_failed));
  r.items[1].error.reset();
  r.items[1].torrent.selection_complete = true;
  CHECK(r.exit_code() == static_cast<int>(ExitCode::bad_meta));
  r.items[2].error.reset();
  r.interrupted = true;
  CHECK(r.exit_code() == static_cast<int>(ExitCode::interrupted));
}

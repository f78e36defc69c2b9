// StateSaver: background writes of state files, the newest content per path, errors
// reported by the next call for that path; and PieceStore's background save.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/error.hpp"
#include "storage/meta_creation.hpp"
#include "storage/piece_store.hpp"
#include "storage/state_saver.hpp"
#include "test_support.hpp"

using namespace p2p;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}
}  // namespace

TEST_CASE("a saved state is on disk once wait returns, and the newest content wins", "[state_saver]") {
  test::TempDir dir;
  StateSaver saver;
  for (int i = 0; i < 50; ++i) saver.save(dir / "a.json", "version " + std::to_string(i));
  saver.save(dir / "b.json", "other");
  saver.wait(dir / "a.json");
  CHECK(slurp(dir / "a.json") == "version 49");
  saver.wait(dir / "b.json");
  CHECK(slurp(dir / "b.json") == "other");
  // Nothing is left behind in the folder but the two files (no temp files).
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.is_regular_file() ? 1 : 0;
  CHECK(entries == 2);
}

TEST_CASE("a failed background write is reported by the next save or wait of its path", "[state_saver]") {
  test::TempDir dir;
  StateSaver saver;
  fs::path missing = dir / "no such folder" / "s.json";
  saver.save(missing, "x");
  CHECK_THROWS_AS(saver.wait(missing), Error);
  saver.wait(missing);  // reported once
  // Not waited for: a later save of the path throws it (each save queues another write).
  bool thrown = false;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!thrown && std::chrono::steady_clock::now() < until) {
    try {
      saver.save(missing, "y");
    } catch (const Error&) {
      thrown = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(thrown);
  // Other paths are not affected.
  saver.save(dir / "ok.json", "fine");
  saver.wait(dir / "ok.json");
  CHECK(slurp(dir / "ok.json") == "fine");
}

TEST_CASE("the saver writes what is queued before it is destroyed", "[state_saver]") {
  test::TempDir dir;
  {
    StateSaver saver;
    saver.save(dir / "last.json", "kept");
  }
  CHECK(slurp(dir / "last.json") == "kept");
}

TEST_CASE("a store's background save reaches the disk, and save_state waits for it", "[state_saver][piece_store]") {
  test::TempDir dir;
  std::string content = test::random_bytes(3 * 16384, 7);
  test::write_file(dir / "src.bin", content);
  Meta meta = create_meta(dir / "src.bin", 16384, {});
  fs::create_directories(dir / "dl");
  auto piece = [&](std::uint32_t i) {
    return std::span(reinterpret_cast<const std::uint8_t*>(content.data()) + meta.piece_offset(i), meta.piece_length(i));
  };
  {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(meta, dir / "dl", r);
    s.write_piece(1, piece(1));
    s.mark_verified(1);
    s.save_state_in_background();
    StateSaver::shared().wait(s.state_path());
    CHECK(slurp(s.state_path()) == s.state_json());
    s.write_piece(2, piece(2));
    s.mark_verified(2);
    s.save_state_in_background();
    s.save_state();  // returns with the newest state on disk
    CHECK(slurp(s.state_path()) == s.state_json());
  }
  PieceStore::ResumeReport r;
  PieceStore s = PieceStore::open_partial(meta, dir / "dl", r);
  CHECK(r.from_state == 2);
  CHECK(r.recovered == 0);
}

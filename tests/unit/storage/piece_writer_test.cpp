// PieceWriter: every byte lands where it belongs whatever the order and the number
// of writing threads, write-behind starts exactly for fully written regions and
// keeps at most kRegionsInFlight of them unsettled, and failures name the file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "storage/piece_writer.hpp"
#include "test_support.hpp"

using namespace p2p;

namespace {
std::span<const std::uint8_t> bytes_of(const std::string& s, std::uint64_t off, std::uint64_t len) {
  return std::span(reinterpret_cast<const std::uint8_t*>(s.data()) + off, len);
}
}  // namespace

TEST_CASE("pieces written from many threads in random order land at their offsets", "[piece_writer]") {
  test::TempDir dir;
  const std::uint64_t piece = 256 * 1024;
  const std::uint64_t size = 5 * PieceWriter::kRegionBytes + 3 * piece + 1234;  // 6 regions, the last one short
  const std::string content = test::random_bytes(size, 7);
  File file(dir / "out.partial", File::Mode::read_write_create);
  file.preallocate(size);
  PieceWriter writer(file.fd(), file.path(), size);

  const std::uint64_t count = size / piece + 1;
  std::vector<std::uint64_t> order(count);
  for (std::uint64_t i = 0; i < count; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(3));
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (std::size_t k = next++; k < count; k = next++) {
        std::uint64_t off = order[k] * piece;
        writer.write(off, bytes_of(content, off, std::min(piece, size - off)));
      }
    });
  for (auto& t : threads) t.join();

  CHECK(read_small_file(dir / "out.partial", size) == content);
  CHECK(writer.started_bytes() == size);  // every region was completed, so every one was started
  CHECK(writer.settled_bytes() <= size);
  CHECK(writer.settled_bytes() >= size - PieceWriter::kRegionsInFlight * PieceWriter::kRegionBytes);
}

TEST_CASE("write-behind starts only for regions written in full", "[piece_writer]") {
  test::TempDir dir;
  const std::uint64_t region = PieceWriter::kRegionBytes;
  const std::uint64_t size = 3 * region;
  const std::string content = test::random_bytes(size, 9);
  File file(dir / "out.partial", File::Mode::read_write_create);
  file.preallocate(size);
  PieceWriter writer(file.fd(), file.path(), size);

  writer.write(0, bytes_of(content, 0, region - 1));  // region 0 one byte short
  writer.write(2 * region, bytes_of(content, 2 * region, region / 2));
  CHECK(writer.started_bytes() == 0);
  writer.write(region - 1, bytes_of(content, region - 1, 1 + region));  // ends region 0 and fills region 1
  CHECK(writer.started_bytes() == 2 * region);
  writer.write(2 * region + region / 2, bytes_of(content, 2 * region + region / 2, region / 2));
  CHECK(writer.started_bytes() == size);
  CHECK(writer.settled_bytes() == 0);  // 3 regions in flight: none had to be waited for yet
  CHECK(read_small_file(dir / "out.partial", size) == content);
}

TEST_CASE("files smaller than a region, and empty writes", "[piece_writer]") {
  test::TempDir dir;
  const std::string content = test::random_bytes(1000, 11);
  File file(dir / "small.partial", File::Mode::read_write_create);
  PieceWriter writer(file.fd(), file.path(), content.size());
  writer.write(0, {});
  CHECK(writer.started_bytes() == 0);
  writer.write(500, bytes_of(content, 500, 500));
  writer.write(0, bytes_of(content, 0, 500));
  CHECK(writer.started_bytes() == 1000);
  CHECK(read_small_file(dir / "small.partial", 1000) == content);
}

TEST_CASE("a failed write is a disk error naming the file and offset", "[piece_writer]") {
  test::TempDir dir;
  test::write_file(dir / "ro.bin", std::string(100, 'x'));
  File readonly(dir / "ro.bin", File::Mode::read);
  PieceWriter writer(readonly.fd(), readonly.path(), 100);
  const std::string data(10, 'y');
  try {
    writer.write(40, bytes_of(data, 0, 10));
    FAIL("wrote through a read-only descriptor");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::disk);
    CHECK_THAT(e.what(), Catch::Contains("ro.bin") && Catch::Contains("offset 40"));
  }
}

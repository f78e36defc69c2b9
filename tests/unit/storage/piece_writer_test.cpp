// PieceWriter: every byte lands where it belongs whatever the order and the number
// of writing threads; write-behind starts for every 8 MiB written in any order and
// keeps at most kBatchesInFlight batches unsettled; failures name the file.
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
constexpr std::uint64_t kBatch = PieceWriter::kBatchBytes;
}  // namespace

TEST_CASE("pieces written from many threads in random order land at their offsets", "[piece_writer]") {
  test::TempDir dir;
  const std::uint64_t piece = 256 * 1024;
  const std::uint64_t size = 7 * kBatch + 3 * piece + 1234;  // the last piece short
  const std::string content = test::random_bytes(size, 7);
  File file(dir / "out.partial", File::Mode::read_write_create);
  file.preallocate(size);
  PieceWriter writer(file.fd(), file.path());

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
  // Every full batch was started, whatever the order (less than a batch is left pending);
  // the unsettled ones are at most kBatchesInFlight. A batch closes once it holds at least
  // kBatch bytes, so with the short last piece in it one can hold up to a piece more.
  CHECK(writer.started_bytes() <= size);
  CHECK(writer.started_bytes() > size - kBatch);
  CHECK(writer.settled_bytes() <= writer.started_bytes());
  CHECK(writer.settled_bytes() + PieceWriter::kBatchesInFlight * (kBatch + piece) >= writer.started_bytes());
  CHECK(writer.settled_bytes() > 0);
}

TEST_CASE("write-behind starts after each batch of written bytes, in any order", "[piece_writer]") {
  test::TempDir dir;
  const std::uint64_t size = 6 * kBatch;
  const std::string content = test::random_bytes(size, 9);
  File file(dir / "out.partial", File::Mode::read_write_create);
  file.preallocate(size);
  PieceWriter writer(file.fd(), file.path());
  const std::uint64_t half = kBatch / 2;

  writer.write(5 * kBatch, bytes_of(content, 5 * kBatch, half));  // far apart: two ranges in one batch
  CHECK(writer.started_bytes() == 0);
  writer.write(0, bytes_of(content, 0, half - 1));
  CHECK(writer.started_bytes() == 0);  // one byte short of a batch
  writer.write(half - 1, bytes_of(content, half - 1, 1));
  CHECK(writer.started_bytes() == kBatch);
  // Four more batches fill the window; the sixth makes the writer wait for the first.
  for (std::uint64_t b = 1; b < 5; ++b) writer.write(b * kBatch - half, bytes_of(content, b * kBatch - half, kBatch));
  CHECK(writer.started_bytes() == 5 * kBatch);
  CHECK(writer.settled_bytes() == kBatch);
  writer.write(5 * kBatch - half, bytes_of(content, 5 * kBatch - half, half));
  writer.write(5 * kBatch + half, bytes_of(content, 5 * kBatch + half, half));
  CHECK(writer.started_bytes() == 6 * kBatch);
  CHECK(writer.settled_bytes() == 2 * kBatch);
  CHECK(read_small_file(dir / "out.partial", size) == content);
}

TEST_CASE("small files and empty writes", "[piece_writer]") {
  test::TempDir dir;
  const std::string content = test::random_bytes(1000, 11);
  File file(dir / "small.partial", File::Mode::read_write_create);
  PieceWriter writer(file.fd(), file.path());
  writer.write(0, {});
  writer.write(500, bytes_of(content, 500, 500));
  writer.write(0, bytes_of(content, 0, 500));
  CHECK(writer.started_bytes() == 0);  // left to the final fdatasync
  CHECK(read_small_file(dir / "small.partial", 1000) == content);
}

TEST_CASE("a failed write is a disk error naming the file and offset", "[piece_writer]") {
  test::TempDir dir;
  test::write_file(dir / "ro.bin", std::string(100, 'x'));
  File readonly(dir / "ro.bin", File::Mode::read);
  PieceWriter writer(readonly.fd(), readonly.path());
  const std::string data(10, 'y');
  try {
    writer.write(40, bytes_of(data, 0, 10));
    FAIL("wrote through a read-only descriptor");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::disk);
    CHECK_THAT(e.what(), Catch::Contains("ro.bin") && Catch::Contains("offset 40"));
  }
}

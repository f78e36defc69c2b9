// WholeFileVerifier: the whole-file SHA-256 of a download whose pieces arrive in
// any order, and no work at all for a meta without a whole-file hash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>

#include "storage/meta_creation.hpp"
#include "storage/piece_store.hpp"
#include "storage/whole_file_verifier.hpp"
#include "test_support.hpp"

using namespace p2p;

namespace {
struct Download {
  test::TempDir dir;
  std::string content = test::random_bytes(7 * 16384 + 5, 21);  // 8 pieces, the last 5 bytes
  Meta meta;
  explicit Download(bool whole_file_hash) {
    test::write_file(dir / "src.bin", content);
    meta = create_meta(dir / "src.bin", 16384, {}, whole_file_hash);
  }
  std::span<const std::uint8_t> piece(std::uint32_t i) const {
    return std::span(reinterpret_cast<const std::uint8_t*>(content.data()) + meta.piece_offset(i), meta.piece_length(i));
  }
};
}  // namespace

TEST_CASE("the whole-file hash follows pieces verified in any order", "[whole_file_verifier]") {
  Download d(true);
  REQUIRE(d.meta.has_file_hash);
  PieceStore::ResumeReport r;
  PieceStore store = PieceStore::open_partial(d.meta, d.dir / "dl", r);
  WholeFileVerifier verifier(d.meta, store.file(), store.verified());
  std::vector<std::uint32_t> order{7, 2, 0, 1, 5, 3, 6, 4};
  for (auto i : order) {
    store.write_piece(i, d.piece(i));
    store.mark_verified(i);
    verifier.piece_verified(i);
  }
  CHECK(verifier.wait_result() == sha256(d.content));
  CHECK(verifier.wait_result() != Digest{});
}

TEST_CASE("a resumed download hashes what is already on disk", "[whole_file_verifier]") {
  Download d(true);
  {
    PieceStore::ResumeReport r;
    PieceStore store = PieceStore::open_partial(d.meta, d.dir / "dl", r);
    for (std::uint32_t i = 0; i < 5; ++i) store.write_piece(i, d.piece(i));
  }
  PieceStore::ResumeReport r;
  PieceStore store = PieceStore::open_partial(d.meta, d.dir / "dl", r);
  CHECK(r.recovered == 5);
  WholeFileVerifier verifier(d.meta, store.file(), store.verified());
  for (std::uint32_t i = 5; i < 8; ++i) {
    store.write_piece(i, d.piece(i));
    verifier.piece_verified(i);
  }
  CHECK(verifier.wait_result() == sha256(d.content));
}

TEST_CASE("without a whole-file hash the verifier does nothing and matches the meta", "[whole_file_verifier]") {
  Download d(false);
  REQUIRE_FALSE(d.meta.has_file_hash);
  PieceStore::ResumeReport r;
  PieceStore store = PieceStore::open_partial(d.meta, d.dir / "dl", r);
  WholeFileVerifier verifier(d.meta, store.file(), store.verified());
  // No piece is verified, yet the result is there at once: nothing is read or hashed.
  CHECK(verifier.wait_result() == Digest{});
  CHECK(verifier.wait_result() == d.meta.file_hash);
  verifier.piece_verified(3);  // harmless
}

TEST_CASE("when_done hands over the whole-file hash without blocking the caller", "[whole_file_verifier]") {
  Download d(true);
  PieceStore::ResumeReport r;
  PieceStore store = PieceStore::open_partial(d.meta, d.dir / "dl", r);
  WholeFileVerifier verifier(d.meta, store.file(), store.verified());
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Digest> got;
  std::exception_ptr error;
  int calls = 0;
  verifier.when_done([&](Digest digest, std::exception_ptr e) {
    std::lock_guard lock(mu);
    got = digest;
    error = e;
    ++calls;
    cv.notify_all();
  });
  for (std::uint32_t i = 0; i < 8; ++i) {
    {
      std::lock_guard lock(mu);
      CHECK(!got);  // not before the last piece
    }
    store.write_piece(i, d.piece(i));
    verifier.piece_verified(i);
  }
  std::unique_lock lock(mu);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.has_value(); }));
  CHECK(*got == sha256(d.content));
  CHECK(!error);
  CHECK(calls == 1);
}

TEST_CASE("when_done on a finished verifier, or without a whole-file hash, answers at once", "[whole_file_verifier]") {
  Download with(true), without(false);
  PieceStore::ResumeReport r;
  PieceStore a = PieceStore::open_partial(with.meta, with.dir / "dl", r);
  for (std::uint32_t i = 0; i < 8; ++i) {
    a.write_piece(i, with.piece(i));
    a.mark_verified(i);
  }
  PieceStore b = PieceStore::open_partial(without.meta, without.dir / "dl", r);
  WholeFileVerifier va(with.meta, a.file(), a.verified());  // resumed: every piece on disk
  WholeFileVerifier vb(without.meta, b.file(), b.verified());
  CHECK(va.wait_result() == sha256(with.content));
  std::optional<Digest> got_a, got_b;
  va.when_done([&](Digest digest, std::exception_ptr) { got_a = digest; });
  vb.when_done([&](Digest digest, std::exception_ptr) { got_b = digest; });
  REQUIRE(got_a);
  CHECK(*got_a == sha256(with.content));  // the same digest as wait_result's, not a fresh hash
  REQUIRE(got_b);
  CHECK(*got_b == Digest{});
}

// Computes the whole-file SHA-256 of a download while it is still running:
// a background thread hashes the verified prefix of the file as it grows, so
// the final check costs little more than the pieces that arrived last.
// Only for metas that carry a whole-file hash (format 1, or format 2 made with
// --sha256); for the others it starts no thread, reads nothing, and its result is
// the all-zero digest at once (equal to such a meta's file_hash).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "base/bitfield.hpp"
#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "base/sha256.hpp"

namespace p2p {

class WholeFileVerifier {
 public:
  WholeFileVerifier(const Meta& meta, const File& file, const Bitfield& already_verified);
  ~WholeFileVerifier();
  WholeFileVerifier(const WholeFileVerifier&) = delete;
  WholeFileVerifier& operator=(const WholeFileVerifier&) = delete;

  void piece_verified(std::uint32_t piece);  // thread-safe
  // Blocks until every piece is hashed; returns the whole-file digest (all-zero when
  // the meta has none). Rethrows read errors. For tests and tools: a network thread
  // uses when_done instead.
  Digest wait_result();
  // The same without blocking: `done` gets the digest (or the read error, with an
  // all-zero digest) once every piece is hashed, on the verifier's thread, or at once on
  // the caller's if that is so already. One `done` per verifier; it is not called if the
  // verifier is destroyed first.
  using Done = std::function<void(Digest digest, std::exception_ptr error)>;
  void when_done(Done done);

 private:
  void run();
  // Calls `done` with the result: only once next_ == piece count (the thread no longer hashes).
  void deliver(const Done& done);
  Digest result();  // under mu_, once next_ == piece count: the digest, computed once

  const Meta& meta_;
  const File& file_;
  std::mutex mu_;
  std::condition_variable cv_;
  Bitfield ready_;
  std::uint32_t next_ = 0;
  bool stop_ = false;
  std::exception_ptr failure_;
  std::optional<Digest> result_;
  Done done_;  // when_done's, until the last piece is hashed
  Sha256 hash_;
  std::thread thread_;
};

}  // namespace p2p

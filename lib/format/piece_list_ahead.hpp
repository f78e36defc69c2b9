// PieceListAhead: a big meta file's "pieces" list, read on a thread of its own while
// the meta reader (format/meta_reader.cpp) parses the rest of the file. In a tree's
// meta the list is about 40 % of the bytes and of the parse, and p2p-download reads
// a meta before anything else it does (`--only` of one file of a 20,000-file tree).
//
// The thread finds the top-level object's first "pieces" key with a string-aware scan
// of the bytes, then parses that array alone with nlohmann's SAX parser, each element
// checked as the reader checks it (64 hex digits, at most kMaxPieces). It keeps the
// list only when the array is plainly written: strings without escapes and short runs
// of bytes between them. The reader takes the list only when its own parse reaches that
// very array (JsonByteSource::Splice); otherwise (no such array, a key spelled with
// escapes, a bad element, anything unusual) it reads those bytes itself as before, so
// what a meta means, and every refusal and its wording, stay those of one pass.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/sha256.hpp"

namespace p2p {

class File;

class PieceListAhead {
 public:
  // Starts reading `size` bytes of `file` (which must outlive this) on a new thread.
  PieceListAhead(const File& file, std::uint64_t size);
  ~PieceListAhead();  // stops the thread and joins it
  PieceListAhead(const PieceListAhead&) = delete;
  PieceListAhead& operator=(const PieceListAhead&) = delete;

  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
  // The offset of the array's '[' if it is below `limit`, else kNone (not there, or not
  // before `limit`). Waits until the scan has found it or passed `limit`.
  std::uint64_t start_before(std::uint64_t limit);

  struct List {
    std::uint64_t begin = 0, end = 0;  // the array's bytes: its '[' to one past its ']'
    std::uint64_t tail_run = 0;        // bytes after its last string, up to `end`
    std::vector<Digest> pieces;
  };
  // Waits for the thread; the list if it was found, read whole and plainly written.
  std::optional<List> take();

 private:
  void run();
  void scan();   // finds the array: begin_, end_, tail_run_
  void parse();  // parses it into list_
  void publish_scan(std::uint64_t scanned, bool done);

  const File& file_;
  const std::uint64_t size_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t scanned_ = 0;  // bytes the scan has passed (guarded by mutex_)
  bool scan_done_ = false;     // the scan ended (guarded by mutex_)
  bool finished_ = false;      // the thread ended (guarded by mutex_)
  std::uint64_t begin_ = kNone, end_ = kNone, tail_run_ = 0;  // begin_: guarded by mutex_ once published
  std::optional<List> list_;
  std::thread thread_;
};

}  // namespace p2p

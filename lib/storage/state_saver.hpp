// Writes small state files (a download's .state.json) crash-safely on a thread of its
// own, so that the session's io thread never waits for a disk.
//
// Why: write_file_atomically ends in fsync, and on ext4 (data=ordered) fsync of even a
// tiny file commits the journal, which first writes out the data of the blocks that
// other files just had allocated: with a 1 GiB download arriving at several hundred
// MiB/s, the io thread's save every 2 s blocked it 0.13-0.28 s, and with it every
// connection. One thread for the process: the writes are small and rare; what is slow
// is waiting for the journal, and one waiter at a time is enough.
//
// Per path, the newest content wins: a save queued while an older one of the same path
// waits replaces it, and the writes of one path never overlap or reorder. A failed
// write is kept for its path and reported by the next save or wait of it.
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace p2p {

class StateSaver {
 public:
  // The process-wide saver, started on first use; it writes what is queued before the
  // process exits.
  static StateSaver& shared();

  StateSaver() = default;
  ~StateSaver();  // writes what is queued, then joins
  StateSaver(const StateSaver&) = delete;
  StateSaver& operator=(const StateSaver&) = delete;

  // Queues `content` to be written to `path` (write_file_atomically). Rethrows, once,
  // the error of an earlier background write of `path` (and queues nothing then).
  void save(const std::filesystem::path& path, std::string content);
  // Returns once nothing of `path` is queued or being written; rethrows, once, the
  // error of a write of it that failed.
  void wait(const std::filesystem::path& path);

 private:
  struct Entry {
    std::string content;
    bool queued = false;   // content waits to be written
    bool writing = false;  // a write of this path is under way
    std::exception_ptr error;
  };
  void work();
  void rethrow_error(Entry& e);

  std::mutex mu_;
  std::condition_variable cv_;  // work queued, a write done, or stopping
  std::map<std::filesystem::path, Entry> entries_;
  std::deque<std::filesystem::path> order_;  // queued paths, oldest first
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace p2p

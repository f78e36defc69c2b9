// Writes verified pieces into a download's .partial, for all hashing threads.
// One write at a time: hashing threads that wrote into the file at once spun on
// its inode lock in the kernel (6% of a 4 GiB download's samples). Write-behind:
// every 8 MiB written, in whatever order the pieces came, goes to the disk at once
// (sync_file_range) and is waited for four batches later, so this file never has
// more than ~40 MiB of dirty pages: they no longer pile up until the kernel
// throttles every writer, and the final fdatasync has little left to do.
#pragma once
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

namespace p2p {

class PieceWriter {
 public:
  // Bytes written before their writeback is started together (coalesced where contiguous).
  static constexpr std::uint64_t kBatchBytes = 8ull << 20;
  // Batches handed to the disk and not yet waited for; one more makes a writer wait for the oldest.
  static constexpr std::size_t kBatchesInFlight = 4;

  // fd stays owned by the caller (the PieceStore's File) and must outlive this.
  PieceWriter(int fd, std::filesystem::path path);

  // Thread-safe. Writes all of data at offset; when it returns the bytes are in the
  // kernel. May then start writeback of a batch and wait for an older one. Throws
  // Error(disk) naming the file and offset on any failure (ENOSPC, EIO...).
  void write(std::uint64_t offset, std::span<const std::uint8_t> data);

  // Bytes whose writeback was started, and of those, waited for (for tests).
  std::uint64_t started_bytes() const;
  std::uint64_t settled_bytes() const;

 private:
  using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;  // (offset, length)
  void sync_range(std::uint64_t offset, std::uint64_t length, unsigned flags, const char* what) const;
  [[noreturn]] void fail(const char* what, std::uint64_t offset, int err) const;

  int fd_;
  std::filesystem::path path_;
  std::mutex write_mu_;    // one pwrite at a time
  mutable std::mutex mu_;  // the bookkeeping below
  Ranges pending_;         // written, writeback not started yet
  std::uint64_t pending_bytes_ = 0;
  std::deque<Ranges> in_flight_;  // batches being written back, oldest first
  std::uint64_t started_ = 0, settled_ = 0;
};

}  // namespace p2p

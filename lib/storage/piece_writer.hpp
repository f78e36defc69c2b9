// Writes verified pieces into a download's .partial, for all hashing threads.
// One write at a time: hashing threads that wrote into the file at once spun on
// its inode lock in the kernel (6% of a 4 GiB download's samples). Write-behind:
// each region of the file that is fully written goes to the disk at once
// (sync_file_range) and is waited for a few regions later, so dirty pages stay
// bounded instead of piling up until the kernel throttles every writer, and the
// final fdatasync has little left to do.
#pragma once
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <span>
#include <unordered_map>

namespace p2p {

class PieceWriter {
 public:
  // Regions handed to the disk and not yet waited for: at most this many
  // (kRegionBytes each) are in flight before a writer waits for the oldest.
  static constexpr std::uint64_t kRegionBytes = 8ull << 20;
  static constexpr std::size_t kRegionsInFlight = 4;

  // fd stays owned by the caller (the PieceStore's File) and must outlive this.
  PieceWriter(int fd, std::filesystem::path path, std::uint64_t file_size);

  // Thread-safe. Writes all of data at offset, then starts writeback of regions it
  // completed. Throws Error(disk) naming the file on any failure (ENOSPC, EIO...).
  void write(std::uint64_t offset, std::span<const std::uint8_t> data);

  // Bytes written through this writer whose writeback was started, and waited for.
  std::uint64_t started_bytes() const;
  std::uint64_t settled_bytes() const;

 private:
  [[noreturn]] void fail(const char* what, std::uint64_t offset, int err) const;

  int fd_;
  std::filesystem::path path_;
  std::uint64_t size_;
  std::mutex write_mu_;  // one pwrite at a time
  mutable std::mutex mu_;  // the bookkeeping below
  std::unordered_map<std::uint64_t, std::uint64_t> filling_;  // region -> bytes written so far
  std::deque<std::uint64_t> in_flight_;  // regions handed to the disk, oldest first
  std::uint64_t started_ = 0, settled_ = 0;
};

}  // namespace p2p

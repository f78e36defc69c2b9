// PieceWriter: serialised pwrite, then write-behind in batches of written bytes.
#include "storage/piece_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/core.h>

#include "base/error.hpp"

namespace p2p {

PieceWriter::PieceWriter(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}

void PieceWriter::fail(const char* what, std::uint64_t offset, int err) const {
  // ENOSPC, EDQUOT, EROFS, EIO: all are "disk" to the user.
  throw Error(ExitCode::disk, fmt::format("cannot {} {} at offset {}: {}", what, path_.string(), offset, std::strerror(err)));
}

void PieceWriter::sync_range(std::uint64_t offset, std::uint64_t length, unsigned flags, const char* what) const {
  if (::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(length), flags) != 0)
    fail(what, offset, errno);
}

void PieceWriter::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  {
    std::lock_guard lock(write_mu_);
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("write", offset + done, errno);
      done += static_cast<std::size_t>(n);
    }
  }
  if (data.empty()) return;

  Ranges batch, oldest;
  {
    std::lock_guard lock(mu_);
    pending_.emplace_back(offset, data.size());
    pending_bytes_ += data.size();
    if (pending_bytes_ < kBatchBytes) return;
    batch.swap(pending_);
    pending_bytes_ = 0;
  }
  // Contiguous pieces (the usual case: pieces arrive nearly in order) become one range.
  std::sort(batch.begin(), batch.end());
  Ranges merged;
  for (const auto& r : batch) {
    if (!merged.empty() && merged.back().first + merged.back().second == r.first) merged.back().second += r.second;
    else merged.push_back(r);
  }
  // SYNC_FILE_RANGE_WRITE only queues the I/O; it blocks only when the device queue is
  // full, which is the back-pressure we want.
  std::uint64_t bytes = 0;
  for (const auto& [off, len] : merged) {
    sync_range(off, len, SYNC_FILE_RANGE_WRITE, "start writing back");
    bytes += len;
  }
  {
    std::lock_guard lock(mu_);
    started_ += bytes;
    in_flight_.push_back(std::move(merged));
    if (in_flight_.size() <= kBatchesInFlight) return;
    oldest = std::move(in_flight_.front());
    in_flight_.pop_front();
  }
  // Outside the locks: the other hashing threads keep writing meanwhile.
  bytes = 0;
  for (const auto& [off, len] : oldest) {
    sync_range(off, len, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER, "write back");
    bytes += len;
  }
  std::lock_guard lock(mu_);
  settled_ += bytes;
}

std::uint64_t PieceWriter::started_bytes() const {
  std::lock_guard lock(mu_);
  return started_;
}

std::uint64_t PieceWriter::settled_bytes() const {
  std::lock_guard lock(mu_);
  return settled_;
}

}  // namespace p2p

// PieceWriter: serialised pwrite, then write-behind per fully written region.
#include "storage/piece_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>
#include <vector>

#include "base/error.hpp"

namespace p2p {

PieceWriter::PieceWriter(int fd, std::filesystem::path path, std::uint64_t file_size)
    : fd_(fd), path_(std::move(path)), size_(file_size) {}

void PieceWriter::fail(const char* what, std::uint64_t offset, int err) const {
  // ENOSPC, EDQUOT, EROFS, EIO: all are "disk" to the user.
  throw Error(ExitCode::disk, fmt::format("cannot {} {} at offset {}: {}", what, path_.string(), offset, std::strerror(err)));
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

  auto region_len = [&](std::uint64_t r) { return std::min(kRegionBytes, size_ - r * kRegionBytes); };
  std::vector<std::uint64_t> filled, to_settle;
  {
    std::lock_guard lock(mu_);
    const std::uint64_t end = offset + data.size();
    for (std::uint64_t r = offset / kRegionBytes; r * kRegionBytes < end && r * kRegionBytes < size_; ++r) {
      std::uint64_t from = std::max(offset, r * kRegionBytes), to = std::min(end, r * kRegionBytes + region_len(r));
      std::uint64_t& bytes = filling_[r];
      bytes += to - from;
      if (bytes >= region_len(r)) {
        filling_.erase(r);
        filled.push_back(r);
      }
    }
  }
  // Start writeback of what this write completed. SYNC_FILE_RANGE_WRITE only queues
  // the I/O; it blocks only when the device queue is full, which is the back-pressure we want.
  for (std::uint64_t r : filled) {
    if (::sync_file_range(fd_, static_cast<off_t>(r * kRegionBytes), static_cast<off_t>(region_len(r)),
                          SYNC_FILE_RANGE_WRITE) != 0)
      fail("start writing back", r * kRegionBytes, errno);
    std::lock_guard lock(mu_);
    in_flight_.push_back(r);
    started_ += region_len(r);
    while (in_flight_.size() > kRegionsInFlight) {
      to_settle.push_back(in_flight_.front());
      in_flight_.pop_front();
    }
  }
  // Wait for the oldest regions (outside the locks: other threads keep writing), so
  // no more than kRegionsInFlight regions of this file are ever dirty at once.
  for (std::uint64_t r : to_settle) {
    if (::sync_file_range(fd_, static_cast<off_t>(r * kRegionBytes), static_cast<off_t>(region_len(r)),
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
      fail("write back", r * kRegionBytes, errno);
    std::lock_guard lock(mu_);
    settled_ += region_len(r);
  }
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

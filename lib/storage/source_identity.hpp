// What identifies a file's content without reading it: device, inode, size,
// modification and change times. Equal identities mean the file was not
// written to, truncated, replaced or renamed over since (ctime moves on every
// write and every metadata change, and cannot be set by users).
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace p2p {

struct SourceIdentity {
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const SourceIdentity&) const = default;

  // nullopt if the path does not exist or is not a regular file (links are not followed).
  static std::optional<SourceIdentity> of_path(const std::filesystem::path& path);
  // Of an open file; `linked` is false once the file has been deleted or renamed over.
  static SourceIdentity of_fd(int fd, bool& linked);
  // What changed, for messages: "size 10 -> 12 bytes", "replaced", "modified".
  std::string difference(const SourceIdentity& now) const;
};

}  // namespace p2p

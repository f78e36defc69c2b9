// SourceIdentity from lstat/fstat.
#include "storage/source_identity.hpp"

#include <fmt/core.h>
#include <sys/stat.h>

namespace p2p {

namespace {
SourceIdentity from_stat(const struct stat& st) {
  SourceIdentity id;
  id.device = static_cast<std::uint64_t>(st.st_dev);
  id.inode = static_cast<std::uint64_t>(st.st_ino);
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  id.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return id;
}
}  // namespace

std::optional<SourceIdentity> SourceIdentity::of_path(const std::filesystem::path& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return from_stat(st);
}

SourceIdentity SourceIdentity::of_fd(int fd, bool& linked) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    linked = false;
    return {};
  }
  linked = st.st_nlink > 0;
  return from_stat(st);
}

std::string SourceIdentity::difference(const SourceIdentity& now) const {
  if (now.device != device || now.inode != inode) return "replaced by another file";
  if (now.size != size) return fmt::format("size changed from {} to {} bytes", size, now.size);
  if (now.mtime_ns != mtime_ns) return "modified";
  if (now.ctime_ns != ctime_ns) return "changed (written to or its attributes changed)";
  return "unchanged";
}

}  // namespace p2p

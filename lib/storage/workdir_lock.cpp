// WorkdirLock: open with O_NOFOLLOW, flock(LOCK_EX | LOCK_NB), pid inside.
#include "storage/workdir_lock.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.hpp"

namespace p2p {

WorkdirLock::WorkdirLock(const std::filesystem::path& lock_file, const std::string& what) {
  fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw Error(ExitCode::disk, fmt::format("cannot create lock {}: {}", lock_file.string(), std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK)
      throw Error(ExitCode::disk, fmt::format("cannot lock {}: {}", lock_file.string(), std::strerror(err)));
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    throw Error(ExitCode::in_use, fmt::format("{} is in use by process {} (lock {}); wait for it to finish or stop it",
                                              what, pid, lock_file.string()));
  }
  std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message; the lock itself is what protects.
  }
}

WorkdirLock::~WorkdirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

WorkdirLock::WorkdirLock(WorkdirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

}  // namespace p2p

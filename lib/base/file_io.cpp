// POSIX file helpers: every failure becomes an Error that names the file and the errno text.
#include "base/file_io.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

#include "base/error.hpp"

namespace p2p {

namespace {
std::string errno_text(int err) { return std::strerror(err); }
}  // namespace

File::File(const std::filesystem::path& path, Mode mode) : path_(path) {
  int flags = mode == Mode::read ? O_RDONLY : mode == Mode::read_no_follow ? (O_RDONLY | O_NOFOLLOW) : (O_RDWR | O_CREAT | O_NOFOLLOW);
  fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    int err = errno;
    if (err == ELOOP && mode == Mode::read_write_create)
      throw Error(ExitCode::disk, fmt::format("{} is a symbolic link; refusing to write through it (remove it)",
                                              path.string()));
    throw Error(mode != Mode::read_write_create ? ExitCode::input_file : ExitCode::disk,
                fmt::format("cannot open {}: {}", path.string(), errno_text(err)));
  }
  struct stat st{};
  if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw Error(ExitCode::input_file, fmt::format("{} is a directory, not a file", path.string()));
  }
}

File File::adopt(int fd, std::filesystem::path path) {
  File f;
  f.fd_ = fd;
  f.path_ = std::move(path);
  return f;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

std::uint64_t File::size() const {
  struct stat st{};
  if (::fstat(fd_, &st) != 0)
    throw Error(ExitCode::input_file, fmt::format("cannot stat {}: {}", path_.string(), errno_text(errno)));
  return static_cast<std::uint64_t>(st.st_size);
}

void File::read_at(std::uint64_t offset, std::span<std::uint8_t> out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Error(ExitCode::input_file,
                  fmt::format("cannot read {} at offset {}: {}", path_.string(), offset + done, errno_text(errno)));
    if (n == 0)
      throw Error(ExitCode::input_file,
                  fmt::format("{} ended early: wanted {} bytes at offset {}", path_.string(), out.size(), offset));
    done += static_cast<std::size_t>(n);
  }
}

void File::write_at(std::uint64_t offset, std::span<const std::uint8_t> data) const {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      // ENOSPC, EDQUOT, EROFS, EACCES, EIO: all are "disk" to the user.
      throw Error(ExitCode::disk,
                  fmt::format("cannot write {} at offset {}: {}", path_.string(), offset + done, errno_text(err)));
    }
    done += static_cast<std::size_t>(n);
  }
}

void File::truncate(std::uint64_t size) const {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
    throw Error(ExitCode::disk, fmt::format("cannot resize {} to {} bytes: {}", path_.string(), size, errno_text(errno)));
}

void File::preallocate(std::uint64_t size) const {
  int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
  if (err == 0) return;
  if (err == EOPNOTSUPP || err == EINVAL) return truncate(size);
  throw Error(ExitCode::disk, fmt::format("cannot reserve {} bytes for {}: {}", size, path_.string(), errno_text(err)));
}

void File::sync_data() const {
  if (::fdatasync(fd_) != 0)
    throw Error(ExitCode::disk, fmt::format("cannot flush {} to disk: {}", path_.string(), errno_text(errno)));
}

void File::advise_sequential() const {
  (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);  // only a hint: nothing to do if refused
}

bool File::has_data(std::uint64_t offset, std::uint64_t len) const {
  if (len == 0) return false;
  off_t data = ::lseek(fd_, static_cast<off_t>(offset), SEEK_DATA);
  if (data < 0) return errno != ENXIO;  // ENXIO: only a hole follows; other errors: assume data
  return static_cast<std::uint64_t>(data) < offset + len;
}

std::string read_small_file(const std::filesystem::path& path, std::uint64_t max_bytes, bool follow_links) {
  if (!follow_links) {
    std::error_code ec;
    if (std::filesystem::is_symlink(path, ec))
      throw Error(ExitCode::input_file, fmt::format("{} is a symbolic link; not reading through it", path.string()));
  }
  File f(path, File::Mode::read);
  std::uint64_t size = f.size();
  if (size > max_bytes)
    throw Error(ExitCode::input_file,
                fmt::format("{} is {} bytes, more than the {} allowed", path.string(), size, max_bytes));
  std::string text(size, '\0');
  f.read_at(0, std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
  return text;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode) {
  auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  auto tmp = path;
  tmp += fmt::format(".tmp.{}", ::getpid());
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0 && errno == EEXIST) {
      // Left by a crashed process with our pid, or planted: remove the name (never
      // what a link points to) and create our own.
      ::unlink(tmp.c_str());
      fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(mode));
    }
    if (fd < 0)
      throw Error(ExitCode::disk, fmt::format("cannot create {}: {}", tmp.string(), errno_text(errno)));
    std::size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(ExitCode::disk, fmt::format("cannot write {}: {}", tmp.string(), errno_text(err)));
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(ExitCode::disk, fmt::format("cannot flush {}: {}", tmp.string(), errno_text(err)));
    }
    ::close(fd);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(ExitCode::disk, fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), errno_text(err)));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // makes the rename itself durable
    ::close(dfd);
  }
}

bool rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  int err = errno;
  if (err == EEXIST) return false;
  if (err == EINVAL || err == ENOSYS) {
    // A file system without RENAME_NOREPLACE: link() also refuses an existing name.
    if (::link(from.c_str(), to.c_str()) == 0) {
      ::unlink(from.c_str());
      return true;
    }
    err = errno;
    if (err == EEXIST) return false;
  }
  throw Error(ExitCode::disk,
              fmt::format("cannot rename {} to {}: {}", from.string(), to.string(), errno_text(err)));
}

void ensure_writable_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw Error(ExitCode::disk, fmt::format("cannot create folder {}: {}", dir.string(), ec.message()));
  if (!std::filesystem::is_directory(dir))
    throw Error(ExitCode::disk, fmt::format("{} is not a folder", dir.string()));
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw Error(ExitCode::disk, fmt::format("folder {} is not writable: {}", dir.string(), errno_text(errno)));
}

}  // namespace p2p

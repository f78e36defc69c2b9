// Thin RAII wrappers over POSIX files: positional reads and writes that either
// complete or throw an Error naming the file, and crash-safe whole-file writes.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace p2p {

class File {
 public:
  // read: a file the user named (links followed, as any tool does).
  // read_write_create: one of our own files; a symbolic link in its place is
  // refused (O_NOFOLLOW), never written through.
  // read_no_follow: a file inside a shared tree; a link in its place is refused.
  enum class Mode { read, read_write_create, read_no_follow };
  File() = default;
  File(const std::filesystem::path& path, Mode mode);
  // Takes ownership of an open descriptor (opened relative to a folder: openat).
  static File adopt(int fd, std::filesystem::path path);
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }
  std::uint64_t size() const;

  // Reads exactly out.size() bytes at offset; throws on error or short file.
  void read_at(std::uint64_t offset, std::span<std::uint8_t> out) const;
  // Writes all of data at offset; throws (ExitCode::disk) on error, e.g. ENOSPC.
  void write_at(std::uint64_t offset, std::span<const std::uint8_t> data) const;
  void truncate(std::uint64_t size) const;
  // Reserves disk blocks for [0, size) so later writes cannot fail for lack of space
  // (ENOSPC surfaces now, clearly) and do not allocate blocks one page at a time.
  // Falls back to a sparse truncate where the file system cannot preallocate.
  void preallocate(std::uint64_t size) const;
  void sync_data() const;
  // Hint that the file will be read front to back: the kernel reads further ahead.
  void advise_sequential() const;
  // True if [offset, offset+len) may hold written data (false only for holes).
  bool has_data(std::uint64_t offset, std::uint64_t len) const;

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// Reads a whole (small) file, refusing anything larger than max_bytes; the size
// is checked before anything is read. `follow_links` false for our own files.
std::string read_small_file(const std::filesystem::path& path, std::uint64_t max_bytes, bool follow_links = true);

// Temp file in the same folder (created with O_EXCL | O_NOFOLLOW: never through a
// planted link), write, fsync, rename over path, fsync the folder. A crash at any
// moment leaves either the old or the new content, never a mix. `mode`: the new
// file's permissions (0600 for secrets), before the umask.
void write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode = 0644);

// Renames `from` to `to` only if nothing (file, folder or link) is at `to`
// (renameat2 RENAME_NOREPLACE). Returns false with errno EEXIST if something is;
// throws Error(disk) for other failures.
bool rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to);

// Throws ExitCode::disk with a clear message if dir cannot be created or written.
void ensure_writable_dir(const std::filesystem::path& dir);

}  // namespace p2p

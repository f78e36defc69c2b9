// TreeFiles: a tree's files opened beneath its root folder, never through a link.
#include "storage/tree_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fmt/core.h>

#include "base/error.hpp"
#include "base/limits.hpp"

namespace p2p {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

[[noreturn]] void not_followed(const fs::path& where, const char* what) {
  throw Error(ExitCode::file_exists,
              fmt::format("{} is {}; p2p-share opens a tree's files only beneath its folder and never through a "
                          "symbolic link: nothing was written through it (remove it and rerun)",
                          where.string(), what));
}

// Something not put there by this download holds a file's final path.
[[noreturn]] void taken(const fs::path& where) {
  throw Error(ExitCode::file_exists,
              fmt::format("{} is in the way: it is not the file the meta describes, and a download never replaces "
                          "what it did not put there; move it away and rerun",
                          where.string()));
}

// The names in the folder open as dir_fd ("." and ".." left out), read once; the
// descriptor itself stays open and unmoved.
std::vector<std::string> folder_names(int dir_fd, const fs::path& where) {
  int fd = ::dup(dir_fd);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!d) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    throw Error(ExitCode::disk, fmt::format("cannot list folder {}: {}", where.string(), errno_text(err)));
  }
  ::rewinddir(d);  // a dup shares its offset with dir_fd: read from the start
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(d);
  return names;
}

// Up to this many files placed between two state saves are flushed one by one; past
// it one syncfs is cheaper than a file's and its folders' flushes each.
constexpr std::size_t kFewPlacedFiles = 8;

// The folder `rel` (relative, no "." or "..") beneath dir_fd in one system call, never
// through a link (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); -1 with errno
// otherwise (ENOSYS before Linux 5.6: the caller walks the path instead).
int open_folder_beneath(int dir_fd, const std::string& rel) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, dir_fd, rel.c_str(), &how, sizeof how));
}

// The process's umask, read without changing it (/proc/self/status, Linux 4.7+);
// 0777 (everything masked: always set the mode explicitly) if it cannot be read.
mode_t current_umask() {
  FILE* f = ::fopen("/proc/self/status", "re");
  if (!f) return 0777;
  char line[256];
  mode_t mask = 0777;
  while (::fgets(line, sizeof line, f))
    if (std::strncmp(line, "Umask:", 6) == 0) {
      mask = static_cast<mode_t>(std::strtoul(line + 6, nullptr, 8));
      break;
    }
  ::fclose(f);
  return mask;
}

int open_root(const fs::path& root, bool create) {
  if (create && ::mkdir(root.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error(ExitCode::disk, fmt::format("cannot create folder {}: {}", root.string(), errno_text(errno)));
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (create ? O_NOFOLLOW : 0));
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) not_followed(root, "a symbolic link or not a folder");
    throw Error(create ? ExitCode::disk : ExitCode::input_file,
                fmt::format("cannot open folder {}: {}", root.string(), errno_text(err)));
  }
  return fd;
}

}  // namespace

TreeFiles::TreeFiles(const Meta& meta, fs::path root, int root_fd, fs::path data, int data_fd)
    : meta_(meta), root_path_(std::move(root)), data_path_(std::move(data)), root_fd_(root_fd), data_fd_(data_fd),
      umask_(current_umask()), in_tree_(meta.files.size(), 0), in_data_(meta.files.size(), 0),
      in_way_(meta.files.size(), 0), mode_set_(meta.files.size(), 0) {}

TreeFiles::~TreeFiles() {
  open_.clear();
  if (root_fd_ >= 0) ::close(root_fd_);
  if (data_fd_ >= 0) ::close(data_fd_);
}

std::unique_ptr<TreeFiles> TreeFiles::open_source(const Meta& meta, const fs::path& root) {
  int fd = open_root(root, false);
  std::unique_ptr<TreeFiles> t(new TreeFiles(meta, root, fd, {}, -1));
  std::fill(t->in_tree_.begin(), t->in_tree_.end(), 1);
  return t;
}

std::unique_ptr<TreeFiles> TreeFiles::open_download(const Meta& meta, const fs::path& root, const fs::path& data) {
  Fd root_fd(open_root(root, true));
  Fd data_fd(open_root(data, true));
  std::unique_ptr<TreeFiles> t(new TreeFiles(meta, root, root_fd.release(), data, data_fd.release()));
  // Where each file is now: finished in the tree, or (if anything) in its data file.
  // Each folder is listed once, so that a fresh download of a tree of a million
  // files does not probe a million paths that cannot exist yet.
  for (const auto& name : folder_names(t->data_fd_, data)) {
    std::uint32_t i = 0;
    // Our names only: the index in plain decimal (name == to_string(i) also refuses "007", "7x").
    if (std::from_chars(name.data(), name.data() + name.size(), i).ec == std::errc() && i < meta.files.size() &&
        name == std::to_string(i))
      t->in_data_[i] = 1;
  }
  if (folder_names(t->root_fd_, root).empty()) return t;  // nothing finished yet
  for (std::uint32_t i = 0; i < meta.files.size(); ++i) {
    std::string leaf;
    int dir = t->open_parent(meta.files[i].path, false, leaf);
    if (dir < 0) continue;
    Fd parent(dir);
    struct stat st{};
    if (::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISLNK(st.st_mode)) not_followed(root / meta.files[i].path, "a symbolic link");
    if (!S_ISREG(st.st_mode)) {
      t->in_way_[i] = 1;  // a folder (or other) of the user's: in the way, never ours
      continue;
    }
    t->in_tree_[i] = 1;
  }
  return t;
}

std::string TreeFiles::describe(std::uint32_t file) const { return (root_path_ / meta_.files[file].path).string(); }

bool TreeFiles::nothing_there() const {
  std::lock_guard lock(mu_);
  auto none = [](const std::vector<std::uint8_t>& v) { return std::find(v.begin(), v.end(), 1) == v.end(); };
  return none(in_tree_) && none(in_data_) && none(in_way_);
}

bool TreeFiles::in_tree(std::uint32_t file) const {
  std::lock_guard lock(mu_);
  return in_tree_[file] != 0;
}

void TreeFiles::set_in_the_way(std::uint32_t file) {
  std::lock_guard lock(mu_);
  if (auto it = open_.find(file); it != open_.end()) {
    lru_.erase(it->second.second);
    open_.erase(it);
  }
  in_tree_[file] = 0;
  in_way_[file] = 1;
}

bool TreeFiles::in_the_way(std::uint32_t file) const {
  std::lock_guard lock(mu_);
  return in_way_[file] != 0;
}

int TreeFiles::open_parent(const std::string& path, bool create, std::string& leaf) const {
  std::size_t slash = path.rfind('/');
  leaf = slash == std::string::npos ? path : path.substr(slash + 1);
  if (slash != std::string::npos) {
    // The usual case, one system call: the folder exists and no link is on the way.
    // Anything else (missing, a link, not a folder) takes the walk below, which
    // creates what is missing or says precisely what is in the way.
    int fd = open_folder_beneath(root_fd_, path.substr(0, slash));
    if (fd >= 0) return fd;
  }
  int dir = ::dup(root_fd_);
  if (dir < 0) throw Error(ExitCode::disk, fmt::format("cannot open folder {}: {}", root_path_.string(), errno_text(errno)));
  if (slash == std::string::npos) return dir;
  Fd cur(dir);
  for (std::size_t at = 0; at < slash;) {
    std::size_t next = path.find('/', at);
    std::string part = path.substr(at, next - at);
    int fd = ::openat(cur.fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(cur.fd, part.c_str(), 0755) != 0 && errno != EEXIST)
        throw Error(ExitCode::disk, fmt::format("cannot create folder {}: {}", (root_path_ / path.substr(0, next)).string(),
                                                errno_text(errno)));
      fd = ::openat(cur.fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT && !create) return -1;
      if (err == ELOOP || err == ENOTDIR) not_followed(root_path_ / path.substr(0, next), "a symbolic link or not a folder");
      throw Error(ExitCode::disk,
                  fmt::format("cannot open folder {}: {}", (root_path_ / path.substr(0, next)).string(), errno_text(err)));
    }
    ::close(cur.release());
    cur.fd = fd;
    at = next + 1;
  }
  return cur.release();
}

void TreeFiles::remember(std::uint32_t file, OpenFile f) {
  lru_.push_front(file);
  open_[file] = {std::move(f), lru_.begin()};
  while (open_.size() > limits::kMaxOpenTreeFiles) {
    open_.erase(lru_.back());
    lru_.pop_back();
  }
}

TreeFiles::OpenFile TreeFiles::open_locked(std::uint32_t file, bool create) {
  if (auto it = open_.find(file); it != open_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return it->second.first;
  }
  const MetaFile& mf = meta_.files[file];
  int fd = -1;
  fs::path where;
  if (in_tree_[file]) {
    where = root_path_ / mf.path;
    std::string leaf;
    int dir = open_parent(mf.path, false, leaf);
    if (dir < 0) {
      if (!create) return nullptr;
      throw Error(ExitCode::input_file, fmt::format("cannot open {}: a folder on its path is missing", where.string()));
    }
    Fd parent(dir);
    fd = ::openat(dir, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == ELOOP) not_followed(where, "a symbolic link");
      if (err == ENOENT && !create) return nullptr;
      throw Error(ExitCode::input_file, fmt::format("cannot open {}: {}", where.string(), errno_text(err)));
    }
  } else {
    if (!in_data_[file] && !create) return nullptr;  // never written: no data file (see open_download)
    where = data_path_ / std::to_string(file);
    // Created with its final mode (move_into_tree then has no chmod to do, unless the
    // umask takes bits from it or the file is from an earlier run).
    mode_t mode = mf.executable ? 0755 : 0644;
    fd = ::openat(data_fd_, std::to_string(file).c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), mode);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT && !create) return nullptr;
      if (err == ELOOP) not_followed(where, "a symbolic link");
      throw Error(ExitCode::disk, fmt::format("cannot open {}: {}", where.string(), errno_text(err)));
    }
    if (!in_data_[file] && (mode & umask_) == 0) mode_set_[file] = 1;
    in_data_[file] = 1;
  }
  auto f = std::make_shared<const File>(File::adopt(fd, where));
  struct stat st{};
  if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) not_followed(where, "not a regular file");
  if (!in_tree_[file] && create && static_cast<std::uint64_t>(st.st_size) < mf.size)
    f->preallocate(mf.size);  // writing into reserved blocks, and ENOSPC now rather than mid-file
  remember(file, f);
  return f;
}

TreeFiles::OpenFile TreeFiles::open(std::uint32_t file) {
  std::lock_guard lock(mu_);
  return open_locked(file, true);
}

TreeFiles::OpenFile TreeFiles::open_existing(std::uint32_t file) {
  std::lock_guard lock(mu_);
  return open_locked(file, false);
}

void TreeFiles::write_piece(std::uint32_t piece, std::span<const std::uint8_t> data) {
  std::uint32_t file = meta_.file_of_piece(piece);
  if (meta_.files[file].piece_count == 1 && write_whole(file, data)) return;
  auto f = open(file);
  f->write_at(meta_.piece_offset(piece), data);
}

bool TreeFiles::write_whole(std::uint32_t file, std::span<const std::uint8_t> data) {
  bool existed = false;
  {
    std::lock_guard lock(mu_);
    if (in_tree_[file] || open_.count(file)) return false;  // (resume) already open: written through that
    existed = in_data_[file] != 0;
    in_data_[file] = 1;
  }
  const MetaFile& mf = meta_.files[file];
  std::string name = std::to_string(file);
  fs::path where = data_path_ / name;
  mode_t mode = mf.executable ? 0755 : 0644;
  // O_RDWR, not O_WRONLY: a FIFO someone put here then fails at the write instead of blocking the open.
  int fd = ::openat(data_fd_, name.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) not_followed(where, "a symbolic link");
    throw Error(ExitCode::disk, fmt::format("cannot open {}: {}", where.string(), errno_text(err)));
  }
  {
    File f = File::adopt(fd, where);
    if ((existed || (mode & umask_) != 0) && ::fchmod(fd, mode) != 0)
      throw Error(ExitCode::disk, fmt::format("cannot set the mode of {}: {}", where.string(), errno_text(errno)));
    f.write_at(0, data);
  }
  {
    std::lock_guard lock(mu_);
    mode_set_[file] = 1;
  }
  // Its one piece is verified (hashed before it was written): the file is whole, and
  // moves into the tree here, on this hashing thread, not on the network thread.
  place(file);
  return true;
}

void TreeFiles::read(std::uint32_t piece, std::uint64_t begin, std::span<std::uint8_t> out) {
  auto f = open(meta_.file_of_piece(piece));
  f->read_at(meta_.piece_offset(piece) + begin, out);
}

void TreeFiles::move_into_tree(std::uint32_t file) {
  {
    std::lock_guard lock(mu_);
    if (in_tree_[file]) return;
  }
  place(file);
}

void TreeFiles::place(std::uint32_t file) {
  // Only the flags are read and set under the lock: the folder walk and the rename
  // (the system calls) do not hold up the other threads' opens. One thread places a
  // given file (the network thread, or the hashing thread that wrote its only piece).
  bool mode_set = false;
  {
    std::lock_guard lock(mu_);
    if (in_tree_[file]) return;
    mode_set = mode_set_[file] != 0;
  }
  const MetaFile& mf = meta_.files[file];
  std::string name = std::to_string(file), leaf;
  if (!mode_set) {
    // The mode is set on the data file before it takes its name: it appears whole.
    int fd = ::openat(data_fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      throw Error(ExitCode::disk, fmt::format("cannot open {}: {}", (data_path_ / name).string(), errno_text(errno)));
    Fd f(fd);
    if (::fchmod(fd, mf.executable ? 0755 : 0644) != 0)
      throw Error(ExitCode::disk, fmt::format("cannot set the mode of {}: {}", (data_path_ / name).string(), errno_text(errno)));
  }
  Fd parent(open_parent(mf.path, true, leaf));
  if (::renameat2(data_fd_, name.c_str(), parent.fd, leaf.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EEXIST) taken(root_path_ / mf.path);
    throw Error(ExitCode::disk, fmt::format("cannot move {} to {}: {}", (data_path_ / name).string(),
                                            (root_path_ / mf.path).string(), errno_text(err)));
  }
  std::lock_guard lock(mu_);
  in_tree_[file] = 1;  // an open descriptor follows the file: the cache stays valid
  if (!unsynced_many_ && unsynced_.size() < kFewPlacedFiles)
    unsynced_.push_back(file);
  else
    unsynced_many_ = true;
  in_data_[file] = 0;
  in_way_[file] = 0;
  mode_set_[file] = 0;
}

void TreeFiles::create_empty_file(std::uint32_t file) {
  std::lock_guard lock(mu_);
  const MetaFile& mf = meta_.files[file];
  std::string leaf;
  Fd parent(open_parent(mf.path, true, leaf));
  // O_EXCL: never truncates what is there (it may be the user's).
  int fd = ::openat(parent.fd, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    struct stat st{};
    if (err == EEXIST && ::fstatat(parent.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        st.st_size == 0) {
      in_tree_[file] = 1;  // the empty file it should be: taken as it is
      in_way_[file] = 0;
      return;
    }
    if (err == ELOOP || (err == EEXIST && S_ISLNK(st.st_mode))) not_followed(root_path_ / mf.path, "a symbolic link");
    if (err == EEXIST || err == EISDIR) taken(root_path_ / mf.path);
    throw Error(ExitCode::disk, fmt::format("cannot create {}: {}", (root_path_ / mf.path).string(), errno_text(err)));
  }
  Fd f(fd);
  ::fchmod(fd, mf.executable ? 0755 : 0644);
  in_tree_[file] = 1;
  in_way_[file] = 0;
  unsynced_many_ = true;  // (the last step: one syncfs then)
}

void TreeFiles::create_folder(const std::string& path) {
  std::lock_guard lock(mu_);
  std::string leaf;
  Fd parent(open_parent(path + "/x", true, leaf));  // walks and creates every component of path
  unsynced_many_ = true;
}

void TreeFiles::check_complete() {
  std::lock_guard lock(mu_);
  for (std::uint32_t i = 0; i < meta_.files.size(); ++i)
    if (!in_tree_[i]) throw Error(ExitCode::internal, fmt::format("{} is not finished", describe(i)));
  for (const auto& d : meta_.empty_dirs) {
    std::string leaf;
    int fd = open_parent(d + "/x", false, leaf);
    if (fd < 0) throw Error(ExitCode::disk, fmt::format("folder {} is missing", (root_path_ / d).string()));
    ::close(fd);
  }
}

void TreeFiles::sync() {
  std::vector<std::uint32_t> files;
  bool many = false;
  {
    std::lock_guard lock(mu_);
    files.swap(unsynced_);
    many = unsynced_many_;
    unsynced_many_ = false;
  }
  try {
    if (many) return sync_file_system();
    std::vector<std::string> done;
    for (std::uint32_t f : files) sync_placed(f, done);
  } catch (const Error&) {
    std::lock_guard lock(mu_);
    unsynced_many_ = true;  // not known to be on disk: the next save flushes everything
    throw;
  }
}

void TreeFiles::sync_placed(std::uint32_t file, std::vector<std::string>& done) const {
  auto flush = [](int fd, const fs::path& what) {
    if (::fsync(fd) != 0)
      throw Error(ExitCode::disk, fmt::format("cannot flush {} to disk: {}", what.string(), errno_text(errno)));
  };
  const std::string& path = meta_.files[file].path;
  // The tree's own folder, once: its entry in WORKDIR was made when the download began.
  if (done.empty()) {
    fs::path outer = root_path_.parent_path().empty() ? fs::path(".") : root_path_.parent_path();
    Fd up(::open(outer.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (up.fd < 0) throw Error(ExitCode::disk, fmt::format("cannot open folder {}: {}", outer.string(), errno_text(errno)));
    flush(up.fd, outer);
    flush(root_fd_, root_path_);
    done.emplace_back();
  }
  // Every folder on the way (some were made for this file), then the file. Opened for
  // reading, not O_PATH: fsync needs a descriptor that can be read.
  Fd cur(::dup(root_fd_));
  if (cur.fd < 0) throw Error(ExitCode::disk, fmt::format("cannot open folder {}: {}", root_path_.string(), errno_text(errno)));
  std::size_t at = 0;
  // A file or folder no longer there (the user moved a finished file away) has nothing
  // to flush: the state's claim on its pieces is checked again when the download resumes.
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', at)) {
    std::string part = path.substr(at, slash - at), folder = path.substr(0, slash);
    int fd = ::openat(cur.fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return;
    if (fd < 0)
      throw Error(ExitCode::disk, fmt::format("cannot open folder {}: {}", (root_path_ / folder).string(), errno_text(errno)));
    ::close(cur.release());
    cur.fd = fd;
    if (std::find(done.begin(), done.end(), folder) == done.end()) {
      flush(fd, root_path_ / folder);
      done.push_back(std::move(folder));
    }
    at = slash + 1;
  }
  int fd = ::openat(cur.fd, path.c_str() + at, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return;
  if (fd < 0) throw Error(ExitCode::disk, fmt::format("cannot open {}: {}", describe(file), errno_text(errno)));
  Fd f(fd);
  if (::fdatasync(fd) != 0)
    throw Error(ExitCode::disk, fmt::format("cannot flush {} to disk: {}", describe(file), errno_text(errno)));
}

void TreeFiles::sync_file_system() const {
  if (::syncfs(root_fd_) != 0)
    throw Error(ExitCode::disk, fmt::format("cannot flush {} to disk: {}", root_path_.string(), errno_text(errno)));
  struct stat a{}, b{};
  if (data_fd_ >= 0 && ::fstat(root_fd_, &a) == 0 && ::fstat(data_fd_, &b) == 0 && a.st_dev != b.st_dev &&
      ::syncfs(data_fd_) != 0)
    throw Error(ExitCode::disk, fmt::format("cannot flush {} to disk: {}", data_path_.string(), errno_text(errno)));
}

void TreeFiles::remove_data_dir() {
  if (data_fd_ < 0) return;
  std::error_code ec;
  fs::remove(data_path_, ec);  // empty by now; left in place if not
}

}  // namespace p2p

// The files of a tree (format-3 meta) on disk, opened only relative to the
// tree's root folder without following links: every folder is walked with
// openat(O_DIRECTORY | O_NOFOLLOW) / mkdirat, files are opened with O_NOFOLLOW
// and moved with renameat2(RENAME_NOREPLACE) between folder descriptors, so a
// symbolic link planted in the tree stops the download instead of being written
// through. Descriptors are kept in a bounded LRU (limits::kMaxOpenTreeFiles).
//
// Download: a file's bytes are written to DATA/<file index> (our folder
// WORKDIR/.p2p/<info hash>.files, flat names: nothing of the user's there) and
// moved into ROOT/<path> (ROOT = WORKDIR/<name>, the tree's final folder) once all
// its pieces are verified, never over anything already there: so every file under
// ROOT is either whole and verified or not ours. Seeding: every file is already in
// place under ROOT.
#pragma once
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

#include "base/file_io.hpp"
#include "format/meta.hpp"

namespace p2p {

class TreeFiles {
 public:
  using OpenFile = std::shared_ptr<const File>;  // a block being sent keeps its file open after eviction

  // Seeding: every file of `meta` lives under `root` (a folder the user named).
  static std::unique_ptr<TreeFiles> open_source(const Meta& meta, const std::filesystem::path& root);
  // Downloading: `root` (WORKDIR/<name>) and `data` (.p2p/<ih>.files) are
  // created if missing; `root` must not be a link. Every file is first looked for
  // in the tree (finished before, or someone else's: see set_in_the_way), else its
  // data file is used.
  static std::unique_ptr<TreeFiles> open_download(const Meta& meta, const std::filesystem::path& root,
                                                  const std::filesystem::path& data);
  ~TreeFiles();

  const std::filesystem::path& root() const { return root_path_; }
  // No file of the meta is anywhere yet: not in the tree, not in a data file, nothing
  // in the way (a fresh download: resuming has nothing to look at).
  bool nothing_there() const;
  bool in_tree(std::uint32_t file) const;
  // Something that is not this download's verified file sits at the file's path (a
  // file of the user's, or one changed since it was verified): it is never read as
  // ours, written, moved or replaced; the file's pieces go to its data file and
  // move_into_tree refuses while it is there.
  void set_in_the_way(std::uint32_t file);
  bool in_the_way(std::uint32_t file) const;
  // Thread-safe. The file's descriptor (opening it, or its data file for writing).
  // Error(input_file) for a missing source file; Error(file_exists) for a link in the way.
  OpenFile open(std::uint32_t file);
  // Like open, but a file that is not there yet yields nullptr (resume, hashing).
  OpenFile open_existing(std::uint32_t file);
  // Thread-safe: a verified piece into its file's data file. A file that is this one
  // piece is written at once and moved into the tree here (see move_into_tree).
  void write_piece(std::uint32_t piece, std::span<const std::uint8_t> data);
  void read(std::uint32_t piece, std::uint64_t begin, std::span<std::uint8_t> out);

  // Download side. All pieces of `file` verified: set its mode (exec bit) and move
  // it from DATA/<index> to ROOT/<path>, creating its folders. Error(file_exists)
  // if a link or anything else is in the way.
  void move_into_tree(std::uint32_t file);
  // Empty files are created in the tree at once (verified by definition), and empty
  // folders; an empty file already there is taken as it is, anything else in its
  // place is refused (Error(file_exists)), never truncated.
  void create_empty_file(std::uint32_t file);
  void create_folder(const std::string& path);
  // Every file is in the tree and every empty folder exists (or Error naming what is not).
  void check_complete();
  // Before a state save: makes the files placed in the tree since the last call
  // durable, with their folders. A few files (kFewPlacedFiles) are flushed one by one
  // (fdatasync, then fsync of each folder from the tree's parent down), so an --only
  // of one file does not wait for every other writer on the disk; more, or empty
  // files and folders made by finish(), take one syncfs of the file system.
  void sync();
  // Removes the (empty) data folder after the tree is finished; best effort.
  void remove_data_dir();
  std::string describe(std::uint32_t file) const;

 private:
  TreeFiles(const Meta& meta, std::filesystem::path root, int root_fd, std::filesystem::path data, int data_fd);
  // The folder holding `path`'s last component (walked from root_fd_), or -1 if a
  // folder on the way is missing and !create. Throws on a link or non-folder.
  int open_parent(const std::string& path, bool create, std::string& leaf) const;
  OpenFile open_locked(std::uint32_t file, bool create);
  // A file that is one piece, written at once into its data file: one open, no
  // preallocation, created with its mode, closed at once (not kept in the LRU).
  // False if the file is open already (the caller writes through open()).
  bool write_whole(std::uint32_t file, std::span<const std::uint8_t> data);
  // move_into_tree's work: mode, folders, rename (no lock held across the system calls).
  void place(std::uint32_t file);
  void remember(std::uint32_t file, OpenFile f);
  // Flushes one placed file and the folders on its path (each folder once: `done`).
  void sync_placed(std::uint32_t file, std::vector<std::string>& done) const;
  void sync_file_system() const;

  const Meta& meta_;
  std::filesystem::path root_path_, data_path_;
  int root_fd_ = -1, data_fd_ = -1;
  mode_t umask_;  // the process's, read once: bits a create leaves out
  mutable std::mutex mu_;
  std::vector<std::uint8_t> in_tree_;  // per file: at its final path in the tree
  std::vector<std::uint8_t> in_data_;  // per file: has a data file DATA/<index> (listed once, then kept)
  std::vector<std::uint8_t> in_way_;   // per file: something not ours at its path (set_in_the_way)
  std::vector<std::uint8_t> mode_set_;  // per file: its data file has its final mode already
  std::vector<std::uint32_t> unsynced_;  // placed since the last sync() (at most kFewPlacedFiles)
  bool unsynced_many_ = false;          // more than that, or empty files/folders made: syncfs
  std::list<std::uint32_t> lru_;       // most recent first
  std::unordered_map<std::uint32_t, std::pair<OpenFile, std::list<std::uint32_t>::iterator>> open_;
};

}  // namespace p2p

// Where a file's pieces live on disk and which of them are verified.
// A download writes into <workdir>/<name>.partial and records verified pieces
// in <name>.state.json (crash-safe). A seeder opens a complete file in place.
//
// Piece states: missing -> (bytes in flight, owned by the session) -> verified.
// A piece is written to disk only after its SHA-256 matched, so the .partial
// never holds unverified bytes at a verified index.
// A tree (format-3 meta) is stored through TreeFiles: each file's pieces go to
// .p2p/<info hash>.files/<index>, and the file moves to its final path
// WORKDIR/<name>/<path> once all of them are verified, never over anything there.
// While the state file .p2p/<info hash>.state.json exists the folder is unfinished
// (some files missing); finish() removes it once every file is in place.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/bitfield.hpp"
#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "storage/workdir_layout.hpp"
#include "storage/piece_writer.hpp"
#include "storage/tree_files.hpp"

namespace p2p {

class PieceStore {
 public:
  // What open_partial() found, for the user: resumed, rebuilt, or fresh.
  struct ResumeReport {
    std::uint32_t from_state = 0;  // pieces the state file vouched for (and still hash-checked)
    std::uint32_t recovered = 0;   // pieces found on disk by re-verifying, not in the state file
    std::string state_problem;     // why the state file was not trusted, if it wasn't
  };

  // Download side: creates or resumes the .partial of `meta` in the layout's
  // .p2p folder (see WorkdirLayout).
  static PieceStore open_partial(const Meta& meta, const WorkdirLayout& layout, ResumeReport& report);
  // The same in WorkdirLayout::prepare(workdir).
  static PieceStore open_partial(const Meta& meta, const std::filesystem::path& workdir, ResumeReport& report) {
    return open_partial(meta, WorkdirLayout::prepare(workdir), report);
  }
  // Seed side: a complete file (or a tree's folder), used in place. Verifies every piece.
  static PieceStore open_complete(const Meta& meta, const std::filesystem::path& source);
  // Seed side, for a source verified before whose identity (size, mtime, inode,
  // ctime) has not changed since (see VerifiedSources): checks the size only.
  static PieceStore open_trusted(const Meta& meta, const std::filesystem::path& source);

  PieceStore(PieceStore&&) noexcept;
  ~PieceStore();

  const Meta& meta() const { return *meta_; }
  const Bitfield& verified() const { return verified_; }
  bool has(std::uint32_t piece) const { return verified_.test(piece); }
  bool complete() const { return verified_.all(); }
  bool is_source() const { return is_source_; }
  std::uint64_t verified_bytes() const;
  // Trees: files whose every piece is verified (empty files count as done), of meta().files.size().
  std::uint32_t files_done() const { return files_done_; }

  // Thread-safe: may run on a disk/hash thread. Writes a piece that has been verified;
  // when it returns the bytes are in the kernel (page cache or on their way to disk),
  // so the caller may reuse its buffer and mark the piece verified. See PieceWriter.
  void write_piece(std::uint32_t piece, std::span<const std::uint8_t> data) const;
  // Network thread: record the piece as verified (call after write_piece returned).
  // For a tree, returns the file this piece completed, now at its final path
  // WORKDIR/<name>/<path> (Error(file_exists) if a link or anything else is in its way).
  std::optional<std::uint32_t> mark_verified(std::uint32_t piece);
  // Thread-safe read of part of a verified piece, for serving it.
  void read_block(std::uint32_t piece, std::uint32_t begin, std::span<std::uint8_t> out) const;
  // The single file (not open for a tree: see block_file).
  const File& file() const { return file_; }
  // Where a block of a verified piece is, for sendfile: the file (kept open by
  // `keep` while it is sent, for a tree's LRU) and the offset in it.
  struct BlockFile {
    int fd = -1;
    std::uint64_t offset = 0;
    std::shared_ptr<const void> keep;
  };
  BlockFile block_file(std::uint32_t piece, std::uint32_t begin) const;

  // Flushes the data, then atomically replaces the state file. No-op for a complete
  // source, and when the state is what this store saved last (nothing to flush then).
  void save_state() const;
  // The same without waiting for the disk, for the periodic saves while pieces arrive: a
  // single file's state is written by the StateSaver's thread (an fsync there waited
  // up to 0.28 s for the journal, which stalled every connection of the io thread); a
  // tree's at once, as by save_state(). Throws the error of an earlier background write.
  void save_state_in_background() const;
  // Whole-file check passed: rename .partial to the final name, remove the state
  // file. Never replaces anything at the final name: Error(file_exists) if a file
  // (or link) appeared there meanwhile; the .partial and its state are kept.
  // A tree's files are in place already: its state file is removed.
  std::filesystem::path finish();

  // Trees, downloads: files whose final path holds something that is not this
  // download's verified file (see TreeFiles::set_in_the_way): never replaced, and
  // not done until it is moved away.
  std::vector<std::uint32_t> files_in_the_way() const;
  // A tree's file i at its path (WORKDIR/<name>/<path>), for messages.
  std::string describe_file(std::uint32_t file) const;

  // Where the data being downloaded is: .p2p/<info hash>.partial, or a tree's final folder.
  std::filesystem::path partial_path() const;
  std::filesystem::path state_path() const;
  std::filesystem::path final_path() const;

  // Exposed for tests: the state file's JSON for the current bitfield.
  std::string state_json() const;

 private:
  PieceStore(const Meta& meta, WorkdirLayout layout, File file, bool is_source);
  bool piece_matches(std::uint32_t piece, std::vector<std::uint8_t>& buf) const;
  void adopt_verified(const Bitfield& good, const Bitfield& claimed, ResumeReport& report);
  static PieceStore open_partial_tree(const Meta& meta, const WorkdirLayout& layout, ResumeReport& report);
  static PieceStore open_tree_source(const Meta& meta, const std::filesystem::path& source, bool verify);
  void count_files();

  const Meta* meta_;
  WorkdirLayout layout_;  // downloads only
  File file_;
  std::unique_ptr<PieceWriter> writer_;  // downloads only
  bool is_source_ = false;
  Bitfield verified_;
  std::unique_ptr<TreeFiles> tree_;        // trees only
  std::vector<std::uint32_t> file_pieces_;  // trees: verified pieces per file
  std::uint32_t files_done_ = 0;
  std::uint64_t tree_verified_bytes_ = 0;
  mutable std::string last_saved_;  // the state file's text as this store last wrote it
};

// Hashes the listed pieces of a tree's files (through `tree`, files that are
// missing or short count as not matching); returns those that match the meta.
Bitfield verify_tree_pieces(const Meta& meta, TreeFiles& tree, const Bitfield& candidates, bool read_errors_mismatch);

// Parses a state file's text: on success returns "" and sets `claimed` (pieces it says
// are verified: still to be hash-checked); otherwise says why the state is unusable.
std::string parse_state(const Meta& meta, std::string_view text, const std::string& origin, Bitfield& claimed);

// Hashes the listed pieces of `file` on all cores; returns those that match the meta.
Bitfield verify_pieces(const Meta& meta, const File& file, const Bitfield& candidates);

}  // namespace p2p

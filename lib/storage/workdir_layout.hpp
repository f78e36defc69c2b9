// Where p2p-share keeps its own files in a workdir, apart from the user's:
// everything of ours lives in WORKDIR/.p2p/ (a name no meta may take), under
// names derived from info hashes, never from file names — so a downloaded file
// can never be named like one of ours, two files with one name cannot share a
// .partial, and every name that validates (up to 255 bytes) has room for our
// suffixes.
//
//   WORKDIR/<name>                      the finished download (the user's)
//   WORKDIR/.p2p/<info hash>.partial    data being downloaded
//   WORKDIR/.p2p/<info hash>.state.json verified pieces (temp, fsync, rename)
//   WORKDIR/<name>/                     a tree: each file appears at its path once verified;
//                                       unfinished while its .state.json exists
//   WORKDIR/.p2p/<info hash>.files/<i>  a tree's file i while its pieces arrive
//   WORKDIR/.p2p/<sha256(name)>.lock    one writer per final name (flock)
//   WORKDIR/.p2p/reputation.db          peer scores and bans (SQLite, + -wal/-shm)
//   WORKDIR/.p2p/verified-sources.json  seeded sources verified (p2p-seed)
//   WORKDIR/.p2p/metas/                 metas created for p2p-seed --dir
//   WORKDIR/.p2p/<info hash>.p2pmeta    a meta fetched from a tracker (--name / --id)
#pragma once
#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "format/meta.hpp"

namespace p2p {

inline constexpr std::string_view kOwnDirName = ".p2p";

struct WorkdirLayout {
  std::filesystem::path workdir, own_dir;

  // Creates WORKDIR and WORKDIR/.p2p if needed; refuses a .p2p that is a symbolic
  // link or not a folder (Error(disk)), so nothing of ours is written elsewhere.
  static WorkdirLayout prepare(const std::filesystem::path& workdir);

  std::filesystem::path final_path(const Meta& m) const { return workdir / m.name; }
  // The .partial file; for a tree, its final folder WORKDIR/<name> (downloaded in place).
  std::filesystem::path partial_path(const Meta& m) const;
  // A tree's files being downloaded, by index (WORKDIR/.p2p/<info hash>.files).
  std::filesystem::path tree_data_dir(const Meta& m) const;
  std::filesystem::path state_path(const Meta& m) const;
  std::filesystem::path lock_path(std::string_view name) const;
  std::filesystem::path reputation_db() const { return own_dir / "reputation.db"; }
  std::filesystem::path verified_sources() const { return own_dir / "verified-sources.json"; }
  std::filesystem::path meta_dir() const { return own_dir / "metas"; }
  // A meta fetched from a tracker: in our folder under its info hash, never beside the
  // download (WORKDIR/<name>.p2pmeta may be a file of the user's).
  std::filesystem::path fetched_meta_path(const Meta& m) const;
  // A .partial and .state.json of the previous release (WORKDIR/<name>.partial) are
  // moved into .p2p/ so an interrupted download resumes across the upgrade; a tree's
  // WORKDIR/<name>.partial/ of an earlier release (ours: its state file exists)
  // becomes WORKDIR/<name>/ unless something is there already.
  // Also: a .partial left by another meta of the same name and size (e.g. the
  // format-1 meta of the same file) is taken over. Safe: every piece of it is
  // hashed against this meta before it counts, and the name's lock keeps other
  // writers away. Error(disk) if .p2p or a state file in it cannot be read.
  void adopt_legacy_partial(const Meta& m) const;
  // The names of the downloads unfinished in this workdir (a state file in .p2p/
  // names each): WORKDIR/<name> is then not a finished folder, whatever it holds
  // (p2p-seed --dir does not share it). Files that are not state files of ours are
  // passed over; no .p2p folder is no download. A state file or .p2p folder that
  // cannot be read (permissions, I/O) is Error(disk) naming it, never "none".
  std::set<std::string> downloads_in_progress() const;
};

}  // namespace p2p

// The first step of every download (p2p-download, and a p2p-seed node's queue):
// take the name's lock, then look at what is at the final name. Already there
// and matching the meta: opened as a complete source (nothing to fetch). Someone
// else's file or link in the way: refused, never replaced. Otherwise the
// .partial is created or resumed (every piece claimed by the state file is
// hash-checked again). A folder is downloaded in place (WORKDIR/<name>/, each file
// moved there once verified; unfinished while its state file exists): a file at
// the path of one to fetch that is not this download's verified file is refused
// (Error(file_exists), naming it), one at a file not wanted is left alone.
#pragma once
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "format/meta.hpp"
#include "storage/piece_store.hpp"
#include "storage/workdir_layout.hpp"
#include "storage/workdir_lock.hpp"

namespace p2p {

struct OpenedDownload {
  WorkdirLock lock;  // one writer per final name; held while the download (or its seeding) runs
  PieceStore store;
  bool already_complete = false;  // the final file was there and matched: `store` serves it
  PieceStore::ResumeReport resume;
  std::filesystem::path final_path, partial;
};

// Throws Error(in_use) (another process or download has the name), Error(file_exists)
// (something of the user's is in the way), Error(disk). `info` gets one line when a
// .partial is being checked for resuming, and one naming files of the user's left
// alone. `wanted`: a folder's files to fetch, by index (select_files; empty: all).
OpenedDownload open_download(const WorkdirLayout& layout, const Meta& meta,
                             const std::function<void(const std::string&)>& info,
                             const std::vector<bool>& wanted = {});

}  // namespace p2p

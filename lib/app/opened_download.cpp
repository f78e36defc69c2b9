// open_download: the lock, the checks of the final name, then open or resume.
#include "app/opened_download.hpp"

#include <fmt/core.h>

#include "base/error.hpp"

namespace p2p {

namespace fs = std::filesystem;

OpenedDownload open_download(const WorkdirLayout& layout, const Meta& meta,
                             const std::function<void(const std::string&)>& info, const std::vector<bool>& wanted) {
  // One writer per final name: a second download of this name (this file or
  // another with the same name) into this workdir stops here, saying who has it.
  WorkdirLock lock(layout.lock_path(meta.name), layout.final_path(meta).string());
  fs::path final_path = layout.final_path(meta);
  fs::path partial = layout.partial_path(meta);
  layout.adopt_legacy_partial(meta);
  std::error_code ec;
  bool final_taken = fs::symlink_status(final_path, ec).type() != fs::file_type::not_found;
  // A tree is downloaded in place: WORKDIR/<name> is ours, unfinished, only while our state file says so.
  bool has_partial = meta.is_tree() ? fs::symlink_status(layout.state_path(meta), ec).type() != fs::file_type::not_found
                                    : fs::exists(partial, ec);
  if (final_taken && !has_partial) {
    // Already downloaded? Check it rather than trust it; never overwrite someone's file.
    if (fs::is_symlink(final_path, ec) ||
        (meta.is_tree() ? !fs::is_directory(final_path, ec) : !fs::is_regular_file(final_path, ec)))
      throw Error(ExitCode::file_exists, fmt::format("{} is in the way (not a {}); not replacing it: move it "
                                                     "away or download into another --workdir",
                                                     final_path.string(), meta.is_tree() ? "folder" : "regular file"));
    try {
      PieceStore store = PieceStore::open_complete(meta, final_path);
      return OpenedDownload{std::move(lock), std::move(store), true, {}, final_path, partial};
    } catch (const Error& e) {
      // A folder in the way of a tree may lack its files (input_file): not ours either way.
      if (e.code() != ExitCode::source_mismatch && !(meta.is_tree() && e.code() == ExitCode::input_file)) throw;
      throw Error(ExitCode::file_exists,
                  fmt::format("{} already exists and is not the {} this meta describes ({}); not overwriting it: "
                              "move it away or download into another --workdir",
                              final_path.string(), meta.is_tree() ? "folder" : "file", e.what()));
    }
  }
  if (final_taken && !meta.is_tree())
    throw Error(ExitCode::file_exists,
                fmt::format("{} is in the way of the download kept in {}; not overwriting it: move it away and rerun",
                            final_path.string(), partial.string()));
  PieceStore::ResumeReport rr;
  if (has_partial && fs::exists(partial, ec)) info(fmt::format("checking {} to resume", partial.string()));
  PieceStore store = PieceStore::open_partial(meta, layout, rr);
  // Something not ours at the path of a file to fetch: refused now, before any of it
  // is fetched; one at a file not wanted is left alone (and named).
  std::string refused, left;
  std::size_t n_refused = 0;
  for (std::uint32_t f : store.files_in_the_way()) {
    bool want = wanted.empty() || (f < wanted.size() && wanted[f]);
    std::string& list = want ? refused : left;
    n_refused += want;
    list += fmt::format("{}{}", list.empty() ? "" : ", ", store.describe_file(f));
  }
  if (!left.empty()) info(fmt::format("not the files the meta describes, left alone (not selected by --only): {}", left));
  if (n_refused)
    throw Error(ExitCode::file_exists,
                fmt::format("{} {} in the way: not the file{} the meta describes (a file of yours, or changed since it "
                            "was downloaded); a download never replaces what it did not put there: move {} away and rerun",
                            refused, n_refused == 1 ? "is" : "are", n_refused == 1 ? "" : "s",
                            n_refused == 1 ? "it" : "them"));
  return OpenedDownload{std::move(lock), std::move(store), false, rr, final_path, partial};
}

}  // namespace p2p

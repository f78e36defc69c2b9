// FolderShare: scan, share (background: meta, verification, publish), withdraw.
#include "app/folder_share.hpp"

#include <fmt/core.h>

#include <sys/stat.h>

#include <memory>
#include <set>

#include "app/publish_and_keep_tokens.hpp"
#include "app/tracker_list.hpp"
#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "storage/meta_creation.hpp"
#include "storage/workdir_layout.hpp"

namespace p2p {

namespace fs = std::filesystem;

namespace {

// A folder's identity for the stability check: its own device and inode, the total
// size of its files, and a fold of every entry's path, size, inode and times (links
// not followed), so that any file written, added, removed or renamed changes it.
std::optional<SourceIdentity> tree_identity(const fs::path& dir) {
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
  SourceIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  std::uint64_t fold = 1469598103934665603ull;  // FNV-1a
  auto mix = [&](const void* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) fold = (fold ^ static_cast<const unsigned char*>(data)[i]) * 1099511628211ull;
  };
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end; !ec && it != end; it.increment(ec)) {
    std::string rel = it->path().lexically_relative(dir).generic_string();
    struct stat e{};
    if (::lstat(it->path().c_str(), &e) != 0) continue;
    mix(rel.data(), rel.size() + 1);
    std::int64_t v[] = {static_cast<std::int64_t>(e.st_size), static_cast<std::int64_t>(e.st_ino),
                        e.st_mtim.tv_sec * 1000000000ll + e.st_mtim.tv_nsec, e.st_ctim.tv_sec * 1000000000ll + e.st_ctim.tv_nsec,
                        static_cast<std::int64_t>(e.st_mode)};
    mix(v, sizeof v);
    if (S_ISREG(e.st_mode)) id.size += static_cast<std::uint64_t>(e.st_size);
    id.mtime_ns = std::max<std::int64_t>(id.mtime_ns, v[2]);
  }
  if (ec) return std::nullopt;
  id.ctime_ns = static_cast<std::int64_t>(fold);
  return id;
}
}  // namespace

FolderShare::FolderShare(Session& session, SourceOpener& opener, Options options)
    : session_(session), opener_(opener), opt_(std::move(options)) {}

bool FolderShare::ignored_name(const std::string& name) {
  return name.empty() || name[0] == '.' || name.ends_with(".p2pmeta") || name.ends_with(".partial") ||
         name.ends_with(".state.json") || name.find(".state.json.tmp") != std::string::npos ||
         name.rfind("reputation.db", 0) == 0 || name == "verified-sources.json";
}

void FolderShare::start() {
  std::error_code ec;
  if (!fs::is_directory(opt_.dir, ec))
    throw Error(ExitCode::input_file, fmt::format("--dir {}: not a folder", opt_.dir.string()));
  ensure_writable_dir(opt_.meta_dir);
  session_.every(std::chrono::duration_cast<std::chrono::milliseconds>(kScanInterval), [this] { scan(); });
  // `systemctl reload`: the folder list is what a seeder can reload; re-read it now and say so.
  session_.on_hangup([this] {
    scan();
    std::size_t shared = 0;
    for (const auto& [path, e] : entries_) shared += e.info_hash.has_value();
    session_.report("", EventKind::notice,
                    fmt::format("SIGHUP: re-scanned {}: {} shared, {} waiting or refused", opt_.dir.string(), shared,
                                entries_.size() - shared));
  });
}

void FolderShare::scan() {
  std::map<fs::path, SourceIdentity> present;
  std::error_code ec;
  // A download still running into this folder (its state in .p2p/) is not a finished file or tree.
  std::set<std::string> downloading;
  try {
    downloading = WorkdirLayout{opt_.dir, opt_.dir / std::string(kOwnDirName)}.downloads_in_progress();
  } catch (const Error& e) {
    // Which files are still downloading is unknown: share nothing new until it is known.
    if (e.what() != scan_problem_)
      session_.report("", EventKind::notice, fmt::format("not scanning {} for now: {}", opt_.dir.string(), e.what()));
    scan_problem_ = e.what();
    return;
  }
  scan_problem_.clear();
  for (fs::directory_iterator it(opt_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (ignored_name(name) || downloading.count(name)) continue;
    if (auto id = SourceIdentity::of_path(it->path())) present[it->path()] = *id;  // regular files only, links not followed
    else if (it->is_directory(ec) && !it->is_symlink(ec))
      if (auto tid = tree_identity(it->path())) present[it->path()] = *tid;  // a sub-folder is shared as a tree
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!present.count(it->first) && !it->second.busy) {
      withdraw(it->first, it->second, "removed from the shared folder");
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [path, id] : present) {
    Entry& e = entries_[path];
    if (e.busy) continue;
    if (e.identity != id) {
      if (e.info_hash) withdraw(path, e, "changed in the shared folder; re-sharing it once it is stable");
      e.identity = id;
      e.stable_scans = 0;
      e.refused = false;
      continue;
    }
    if (e.info_hash && !session_.has_torrent(*e.info_hash)) e.info_hash.reset();  // its torrent failed: retry
    if (e.info_hash || e.refused) continue;
    // Files still being written keep changing; share one that looked the same on two scans.
    if (++e.stable_scans >= 2) share(path, e);
  }
}

void FolderShare::share(const fs::path& path, Entry& e) {
  e.busy = true;
  struct Job {
    std::shared_ptr<const Meta> meta;
    std::optional<PieceStore> store;
    std::string error, notice;
    fs::path meta_path;
    bool rehashed = false;
  };
  auto job = std::make_shared<Job>();
  session_.in_background(
      [this, path, job] {
        try {
          std::string name = path.filename().string();
          std::error_code ec;
          const bool folder = fs::is_directory(path, ec) && !fs::is_symlink(path, ec);
          fs::path beside = opt_.dir / (name + ".p2pmeta"), kept = opt_.meta_dir / (name + ".p2pmeta");
          for (const auto& candidate : {beside, kept}) {
            if (!fs::exists(candidate, ec)) continue;
            Meta m = load_meta(candidate);
            bool same = folder ? m.is_tree() && same_listing(m, scan_tree(path, [](const std::string&) {}))
                               : !m.is_tree() && m.size == fs::file_size(path, ec);
            if (m.name == name && same) {
              job->meta = std::make_shared<const Meta>(std::move(m));
              job->meta_path = candidate;
              break;
            }
          }
          auto create_tree = [&] {
            std::string skipped;
            job->meta = std::make_shared<const Meta>(create_tree_meta(path, 0, opt_.trackers, false, [&](const std::string& w) {
              skipped += (skipped.empty() ? "" : "; ") + w;
            }));
            write_file_atomically(kept, meta_to_json(*job->meta));
            job->meta_path = kept;
            job->notice = fmt::format("created {}{}{}", kept.string(), skipped.empty() ? "" : ": ", skipped);
          };
          bool found = job->meta != nullptr;
          if (!job->meta && folder) {
            create_tree();
          } else if (!job->meta) {
            job->meta = std::make_shared<const Meta>(create_meta(path, 0, opt_.trackers));
            write_file_atomically(kept, meta_to_json(*job->meta));
            job->meta_path = kept;
            job->notice = fmt::format("created {}", kept.string());
          }
          try {
            job->store.emplace(opener_.open(*job->meta, path, job->rehashed));
          } catch (const Error& e) {
            // A folder changed since its meta was made (files added, removed or edited): describe it anew.
            if (!folder || !found || (e.code() != ExitCode::source_mismatch && e.code() != ExitCode::input_file)) throw;
            create_tree();
            job->store.emplace(opener_.open(*job->meta, path, job->rehashed));
          }
          opener_.save();
          if (opt_.publish)
            for (const auto& line : publish_and_keep_tokens(*job->meta, meta_to_json(*job->meta), job->meta_path,
                                                            merge_trackers(job->meta->trackers, opt_.trackers)))
              job->notice += (job->notice.empty() ? "" : "; ") + line;
        } catch (const std::exception& ex) {
          job->error = ex.what();
        }
      },
      [this, path, job] {
        auto it = entries_.find(path);
        if (it == entries_.end()) return;
        Entry& entry = it->second;
        entry.busy = false;
        std::string name = path.filename().string();
        if (!job->error.empty()) {
          entry.refused = true;  // until the file changes
          session_.report(name, EventKind::notice, fmt::format("not sharing {}: {}", path.string(), job->error));
          return;
        }
        if (session_.has_torrent(job->meta->info_hash)) {
          entry.refused = true;
          session_.report(name, EventKind::notice,
                          fmt::format("not sharing {}: the same content is already shared", path.string()));
          return;
        }
        TorrentOptions to;
        to.trackers = merge_trackers(job->meta->trackers, opt_.trackers);
        to.keep_seeding = true;
        if (!job->notice.empty()) session_.report(name, EventKind::notice, job->notice);
        session_.add_torrent(job->meta, std::move(*job->store), to);
        entry.info_hash = job->meta->info_hash;
        session_.report(name, EventKind::torrent_added,
                        fmt::format("sharing {} ({}; {})", path.string(), job->meta->info_hash_hex().substr(0, 16),
                                    job->rehashed ? "verified" : "unchanged since verified, not re-hashed"));
      });
}

void FolderShare::withdraw(const fs::path& path, Entry& e, const std::string& why) {
  if (!e.info_hash) return;
  session_.remove_torrent(*e.info_hash, fmt::format("{} {}", path.string(), why));
  opener_.forget(path);
  e.info_hash.reset();
}

}  // namespace p2p

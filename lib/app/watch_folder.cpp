// WatchFolder: scan, stability, hand-over to the queue, filing away.
#include "app/watch_folder.hpp"

#include <fmt/core.h>

#include <memory>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "web/node_api.hpp"
#include "web/node_web.hpp"

namespace p2p {

namespace fs = std::filesystem;

WatchFolder::WatchFolder(Session& session, web::DownloadControl& downloads, fs::path dir)
    : session_(session), downloads_(downloads), dir_(std::move(dir)) {}

void WatchFolder::start() {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) throw Error(ExitCode::input_file, fmt::format("--watch {}: not a folder", dir_.string()));
  ensure_writable_dir(dir_ / ".added");
  ensure_writable_dir(dir_ / ".failed");
  session_.every(std::chrono::duration_cast<std::chrono::milliseconds>(kScanInterval), [this] { scan(); });
}

fs::path WatchFolder::free_name(const fs::path& folder, const std::string& name) {
  std::error_code ec;
  fs::path p = folder / name;
  if (fs::symlink_status(p, ec).type() == fs::file_type::not_found) return p;
  std::string stem = fs::path(name).stem().string(), ext = fs::path(name).extension().string();
  for (int i = 1; i <= 1000; ++i) {
    p = folder / fmt::format("{}-{}{}", stem, i, ext);
    if (fs::symlink_status(p, ec).type() == fs::file_type::not_found) return p;
  }
  return {};
}

void WatchFolder::scan() {
  std::map<fs::path, SourceIdentity> present;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !name.ends_with(".p2pmeta")) continue;
    if (auto id = SourceIdentity::of_path(it->path())) present[it->path()] = *id;  // regular files only, links not followed
  }
  std::erase_if(entries_, [&](const auto& e) { return !present.count(e.first) && !e.second.busy; });
  for (auto& [path, id] : present) {
    Entry& e = entries_[path];
    if (e.busy) continue;
    if (e.identity != id) {
      e.identity = id;
      e.stable_scans = 0;
      continue;
    }
    // Being copied or written, a file keeps changing; take one that looked the same on two scans.
    if (++e.stable_scans >= 2) take(path);
  }
}

void WatchFolder::take(const fs::path& path) {
  entries_[path].busy = true;
  struct Job {
    std::string text, error;
  };
  auto job = std::make_shared<Job>();
  session_.in_background(
      [job, path] {
        try {
          job->text = read_small_file(path, web::kMaxMetaUploadBytes, /*follow_links=*/false);
        } catch (const std::exception& e) {
          job->error = e.what();
        }
      },
      [this, job, path] {
        if (!job->error.empty()) return file_away(path, false, job->error);
        web::DownloadRequest r;
        r.meta_text = std::move(job->text);
        r.origin = path.string();
        downloads_.add(std::move(r), [this, path](web::ActionResult result) {
          file_away(path, result.status < 300, result.message);
        });
      });
}

void WatchFolder::file_away(const fs::path& path, bool added, const std::string& reason) {
  std::string name = path.filename().string();
  fs::path folder = dir_ / (added ? ".added" : ".failed");
  fs::path to = free_name(folder, name);
  bool moved = false;
  try {
    moved = !to.empty() && rename_no_replace(path, to);
  } catch (const std::exception&) {
    moved = false;
  }
  if (moved && !added) {
    try {
      write_file_atomically(fs::path(to.string() + ".txt"), reason + "\n");
    } catch (const std::exception&) {
      // The reason is also in the node's log below.
    }
  }
  session_.report(name, EventKind::notice,
                  fmt::format("--watch: {} {}{}{}", path.string(), added ? "added" : "not added: " + reason,
                              moved ? fmt::format("; moved to {}", to.string()) : "; could not move it away",
                              added ? fmt::format(" ({})", reason) : ""));
  if (moved) {
    entries_.erase(path);
  } else {
    Entry& e = entries_[path];  // left where it is: not taken again until it changes
    e.busy = false;
    e.stable_scans = -1'000'000;
  }
}

}  // namespace p2p

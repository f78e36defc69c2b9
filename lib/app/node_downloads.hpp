// p2p-seed as a node that downloads on request (POST /api/downloads, --watch,
// p2p-seed ctl): the queue's decisions (DownloadQueue) applied to the session.
// A download goes the way a p2p-download run goes — open_download (the name's
// lock, the user's file never replaced, the .partial resumed and re-checked),
// then a torrent in the session until every piece is verified and the file is at
// its final name — and is then seeded. What was asked is kept crash-safely in
// WORKDIR/.p2p/downloads.json (the order and states) and .p2p/downloads/<info
// hash>.p2pmeta (each meta), so a restarted node continues by itself.
// Everything runs on the session's io thread; hashing and tracker calls on its pool.
#pragma once
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/download_queue.hpp"
#include "app/source_opener.hpp"
#include "storage/workdir_layout.hpp"
#include "storage/workdir_lock.hpp"
#include "swarm/session.hpp"
#include "web/download_control.hpp"
#include "web/node_web.hpp"

namespace p2p {

class NodeDownloads final : public web::DownloadControl {
 public:
  static constexpr std::size_t kDefaultMaxActive = 3;
  // A node keeps looking for peers: a download waits (the page says so) rather than fail.
  static constexpr std::chrono::seconds kGiveUpAfter{365L * 24 * 3600};

  struct Options {
    WorkdirLayout layout;
    std::size_t max_active = kDefaultMaxActive;
    std::vector<std::string> trackers;  // the node's --tracker: for an info hash given alone, and added to each meta's
  };

  NodeDownloads(Session& session, SourceOpener& opener, Options options);
  // Loads what the node was asked before (reporting what it cannot use), seeds the
  // downloads that finished, starts the queue, then looks at it every second.
  void start();

  // ---- web::DownloadControl ----
  void add(web::DownloadRequest request, std::function<void(web::ActionResult)> done) override;
  std::optional<web::ActionResult> act(const Digest& info_hash, web::DownloadAction action) override;
  std::vector<web::DownloadView> list() const override;

  const DownloadQueue& queue() const { return queue_; }

 private:
  struct Held {
    std::shared_ptr<const Meta> meta;   // loaded (null if its meta file is unusable)
    std::optional<WorkdirLock> lock;    // while it is being downloaded
  };
  void pump();                              // starts what the queue says may start
  void launch(const std::string& id);       // opens it in the background, then adds its torrent
  void tick();                              // sees what the session did with the running ones
  void seed_finished(const std::string& id);  // a restarted node serves what it downloaded
  TorrentOptions torrent_options(const QueuedDownload& d) const;
  std::filesystem::path meta_file(const std::string& id) const;
  std::filesystem::path shown_path(const QueuedDownload& d) const;  // where it is (once complete), absolute
  bool persist();  // the queue file, temp + fsync + rename; a failure is reported (false), not fatal
  web::ActionResult result(int status, std::string message, const std::string& id) const;

  Session& session_;
  SourceOpener& opener_;
  Options opt_;
  std::filesystem::path file_, metas_dir_, shown_workdir_;
  DownloadQueue queue_;
  std::map<std::string, Held> held_;
};

}  // namespace p2p

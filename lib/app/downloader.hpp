// p2p-download's job: for each file or folder asked for, load its meta, open or
// resume its download, then run one swarm session for all of them until each is
// verified and in place (or has failed).
//
// The steps are usable one by one by anything that runs a session (the node):
//   auto meta = load_item_meta(item, options, reporter);     // meta file or tracker
//   auto job = prepare_download(meta, item.only, layout, reporter);  // lock, resume
//   session.add_torrent(job.meta, std::move(job.opened->store), options_with(job.selection));
//   ... after it stops: tree_missing_files(meta, layout) says what is not there yet.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/progress_reporter.hpp"
#include "base/limits.hpp"
#include "storage/workdir_layout.hpp"
#include "app/opened_download.hpp"
#include "swarm/session.hpp"

namespace p2p {

// One file or folder to fetch: by its .p2pmeta, or from a tracker by info hash or name.
struct DownloadItem {
  std::filesystem::path meta_path;
  std::string name, info_hash;
  // A tree's files to fetch (fnmatch(3) patterns on the relative path, flags 0: `*` also
  // matches '/'); empty: all. The run ends once they are verified, each at its final
  // path WORKDIR/<name>/<path>; the folder stays unfinished (its state in .p2p/).
  std::vector<std::string> only;
  // How messages name it: the meta file, "--id HASH" or "--name NAME".
  std::string label() const;
};

struct DownloadOptions {
  std::vector<DownloadItem> items;    // fetched together in one session, in this order
  std::vector<std::string> trackers;  // added to each meta's own
  std::uint64_t max_upload_rate = 0, max_download_rate = 0;
  std::filesystem::path workdir = "downloads";
  std::vector<std::string> peers;  // "host:port", for every item
  int parallel = 4;
  std::optional<std::uint16_t> listen_port;  // serve verified pieces to others while downloading
  std::string listen_host = "0.0.0.0";
  bool port_mapping = true;           // map the listen port on the gateway (--no-port-mapping turns it off)
  bool lan_discovery = true;  // announce and find peers on the LAN (--no-lan: off)
  bool keep_seeding = false;
  std::optional<std::chrono::seconds> seed_time;
  std::optional<std::string> http;  // HOST:PORT of the node's page and API (--http)
  std::chrono::seconds give_up_after = std::chrono::duration_cast<std::chrono::seconds>(limits::kDefaultGiveUpAfter);
};

// The meta of a file found on the trackers by info hash (or by name), its hash
// checked, the tracker it came from added to its list; `text` as the tracker sent it.
struct FetchedMeta {
  Meta meta;
  std::string text;
  std::string tracker;
};
FetchedMeta fetch_meta_from_trackers(const std::vector<std::string>& trackers, const std::string& name,
                                     const std::string& info_hash);

// The pieces of the files of a tree that `only` selects (fnmatch(3) patterns, flags 0),
// and how many files (and which, by index, into `chosen` if given); Error(usage)
// naming any pattern that matches nothing, or for a single file.
Bitfield select_files(const Meta& meta, const std::vector<std::string>& only, std::size_t& files,
                      std::vector<bool>* chosen = nullptr);

// Fetches the meta from a tracker by info hash (or by name), checks its hash,
// and saves it as <workdir>/<name>.p2pmeta so a rerun needs no tracker.
Meta fetch_meta(const std::vector<std::string>& trackers, const std::string& name, const std::string& info_hash,
                const std::filesystem::path& workdir, ProgressReporter& reporter);
// The item's meta: its file, or fetch_meta with `trackers`.
std::shared_ptr<const Meta> load_item_meta(const DownloadItem& item, const std::vector<std::string>& trackers,
                                           const std::filesystem::path& workdir, ProgressReporter& reporter);

// A download ready to join a session. Keep it (its lock, in `opened`) while the torrent runs.
struct PreparedDownload {
  std::shared_ptr<const Meta> meta;
  std::optional<OpenedDownload> opened;  // the lock, and the resumed download or the finished file
  std::optional<Bitfield> selection;     // --only: the pieces of the selected files
  std::size_t selected_files = 0;
};

// select_files, then open_download (the lock, the final-path checks: a finished
// download is verified, never trusted, anything else there is never replaced), and
// says what it resumed. Throws Error for everything that stops it, e.g. a file of
// the user's in the way of a file it is to fetch.
PreparedDownload prepare_download(std::shared_ptr<const Meta> meta, const std::vector<std::string>& only,
                                  const WorkdirLayout& layout, ProgressReporter& reporter);

// A tree's files not (yet) verified at their final paths, by the saved state (empty
// once the tree is finished, or for a single file).
MissingFiles tree_missing_files(const std::shared_ptr<const Meta>& meta, const WorkdirLayout& layout);

struct ItemResult {
  std::string label;               // DownloadItem::label()
  TorrentOutcome torrent;
  std::string path;                // the final path (a tree's, finished or not), or the .partial
  std::optional<Error> error;      // why it failed, before the swarm or in it
  MissingFiles missing;            // a tree not finished: its files not there yet
};

struct DownloadResult {
  std::vector<ItemResult> items;  // in the order of DownloadOptions::items
  bool interrupted = false;       // stopped by SIGINT/SIGTERM (state saved; rerun resumes)
  // 0 when every item is complete (or its --only selection is); else interrupted, or
  // the code of the first item (in the order given) that failed.
  int exit_code() const;
};

// Fetches every item in one session (one listening port). An item that fails
// (bad meta, no peers, a file in the way...) does not stop the others: its error
// is in its result. Throws Error only for what stops all of them (a busy port).
DownloadResult download(const DownloadOptions& options, ProgressReporter& reporter);

}  // namespace p2p

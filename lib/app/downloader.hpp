// p2p-download's job: load the meta, open or resume the .partial, run a swarm
// until the file is verified and in place.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "app/progress_reporter.hpp"
#include "base/limits.hpp"
#include "swarm/session.hpp"

namespace p2p {

struct DownloadOptions {
  std::filesystem::path meta_path;  // or, with trackers: find the meta by name or info hash
  std::string name, info_hash;
  std::vector<std::string> trackers;  // added to the meta's own
  std::uint64_t max_upload_rate = 0, max_download_rate = 0;
  std::filesystem::path workdir = "downloads";
  std::vector<std::string> peers;  // "host:port"
  int parallel = 4;
  std::optional<std::uint16_t> listen_port;  // serve verified pieces to others while downloading
  std::string listen_host = "0.0.0.0";
  bool port_mapping = true;           // map the listen port on the gateway (--no-port-mapping turns it off)
  bool lan_discovery = true;  // announce and find peers on the LAN (--no-lan: off)
  bool keep_seeding = false;
  std::optional<std::chrono::seconds> seed_time;
  // A tree's files to fetch (fnmatch(3) patterns on the relative path, flags 0: `*` also
  // matches '/'); empty: all. The run ends once they are verified, in <name>.partial/.
  std::vector<std::string> only;
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
// and how many files; Error(usage) naming any pattern that matches nothing, or for a single file.
Bitfield select_files(const Meta& meta, const std::vector<std::string>& only, std::size_t& files);

// Fetches the meta from a tracker by info hash (or by name), checks its hash,
// and saves it as <workdir>/<name>.p2pmeta so a rerun needs no tracker.
Meta fetch_meta(const std::vector<std::string>& trackers, const std::string& name, const std::string& info_hash,
                const std::filesystem::path& workdir, ProgressReporter& reporter);

struct DownloadResult {
  TorrentOutcome torrent;
  bool interrupted = false;  // stopped by SIGINT/SIGTERM (state saved; rerun resumes)
  std::string path;          // the complete file, or the .partial
};

// Returns the outcome; throws Error for everything that stops the download.
DownloadResult download(const DownloadOptions& options, ProgressReporter& reporter);

}  // namespace p2p

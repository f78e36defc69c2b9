// p2p-seed --dir: keeps a session serving every complete file of a folder.
// Every kScanInterval it lists the folder: a file seen unchanged on two scans
// in a row is shared (its meta found or created, its source verified, off the
// io thread); a file that disappeared or changed is withdrawn (and re-shared
// once it is stable again). Metas it creates are kept in WORKDIR/metas/.
#pragma once
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/source_opener.hpp"
#include "storage/source_identity.hpp"
#include "swarm/session.hpp"

namespace p2p {

class FolderShare {
 public:
  static constexpr auto kScanInterval = std::chrono::seconds(1);

  struct Options {
    std::filesystem::path dir;
    std::filesystem::path meta_dir;     // where created metas are kept
    std::vector<std::string> trackers;  // added to each meta's own
    bool publish = false;
  };

  FolderShare(Session& session, SourceOpener& opener, Options options);
  void start();  // scans now and every kScanInterval while the session runs, and at each SIGHUP

  // Whether a folder entry is one of ours or a download in progress, never shared.
  static bool ignored_name(const std::string& name);

 private:
  struct Entry {
    SourceIdentity identity;        // as last seen
    int stable_scans = 0;           // scans in a row it looked the same
    bool busy = false;              // being hashed in the background
    std::optional<Digest> info_hash;  // shared as this torrent
    bool refused = false;           // could not be shared as it is (reported once)
  };
  void scan();
  void share(const std::filesystem::path& path, Entry& e);
  void withdraw(const std::filesystem::path& path, Entry& e, const std::string& why);

  Session& session_;
  SourceOpener& opener_;
  Options opt_;
  std::map<std::filesystem::path, Entry> entries_;
  std::string scan_problem_;  // why the last scan could not run (reported once), empty if it ran
};

}  // namespace p2p

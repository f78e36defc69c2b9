// p2p-seed --watch DIR: every second it lists DIR; a .p2pmeta seen unchanged on two
// scans in a row (so one still being written or copied is left alone) is handed
// to the node's download queue, as an uploaded meta would be, then moved to
// DIR/.added/ — or to DIR/.failed/ with the reason in <name>.txt beside it. Names
// that are taken there get -1, -2, ... Links and hidden files are ignored.
#pragma once
#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "storage/source_identity.hpp"
#include "swarm/session.hpp"
#include "web/download_control.hpp"

namespace p2p {

class WatchFolder {
 public:
  static constexpr auto kScanInterval = std::chrono::seconds(1);

  WatchFolder(Session& session, web::DownloadControl& downloads, std::filesystem::path dir);
  // Error(input_file) if DIR is not a folder, Error(disk) if .added/.failed cannot be made.
  void start();

  // Where `name` goes in `folder`: itself, else name-1, name-2, ... (before the extension); "" if none is free.
  static std::filesystem::path free_name(const std::filesystem::path& folder, const std::string& name);

 private:
  struct Entry {
    SourceIdentity identity;
    int stable_scans = 0;
    bool busy = false;
  };
  void scan();
  void take(const std::filesystem::path& path);
  void file_away(const std::filesystem::path& path, bool added, const std::string& reason);

  Session& session_;
  web::DownloadControl& downloads_;
  std::filesystem::path dir_;
  std::map<std::filesystem::path, Entry> entries_;
};

}  // namespace p2p

// p2p-seed's job: serve any number of files from one session on one port —
// those given with --meta, and every complete file of a shared folder (--dir).
// Sources are verified once; a restart re-hashes only sources that changed.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/progress_reporter.hpp"
#include "swarm/session.hpp"

namespace p2p {

struct SeedOptions {
  std::vector<std::filesystem::path> metas;
  std::vector<std::filesystem::path> sources;  // empty: <workdir>/<name>; else one per meta, in order
  std::optional<std::filesystem::path> dir;    // share every complete file in this folder
  std::filesystem::path workdir = "data";
  std::string host = "0.0.0.0";
  std::uint16_t port = 0;
  bool port_mapping = true;           // map the port on the gateway (--no-port-mapping turns it off)
  bool lan_discovery = true;          // announce our files on the LAN (--no-lan: off)
  std::vector<std::string> trackers;  // added to each meta's own
  bool publish = false;               // publish each meta to the trackers first
  std::uint64_t max_upload_rate = 0;
  std::optional<std::string> http;    // HOST:PORT of the node's page and API (--http)
  std::size_t max_active_downloads = 3;  // downloads fetched at once (--max-active-downloads)
  std::optional<std::filesystem::path> watch;  // a folder whose new .p2pmeta files are downloaded (--watch)
};

struct SeedResult {
  SessionOutcome session;
};

// With --http or --watch (or a download queue kept in WORKDIR/.p2p/) it is also a
// node that downloads on request (app/node_downloads.hpp).
// Runs until SIGINT/SIGTERM (or until every file failed, without --dir or a node); throws
// Error if a source given with --meta does not match, or the port is busy.
SeedResult seed(const SeedOptions& options, ProgressReporter& reporter);

}  // namespace p2p

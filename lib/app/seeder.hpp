// p2p-seed's job: verify the source against the meta, then serve it in place.
#pragma once
#include <filesystem>
#include <string>

#include "app/progress_reporter.hpp"
#include "swarm/swarm.hpp"

namespace p2p {

struct SeedOptions {
  std::filesystem::path meta_path;
  std::filesystem::path source;    // empty: <workdir>/<name from meta>
  std::filesystem::path workdir = "data";
  std::string host = "0.0.0.0";
  std::uint16_t port = 0;
  std::vector<std::string> trackers;  // added to the meta's own
  bool publish = false;               // publish the meta to the trackers first
  std::uint64_t max_upload_rate = 0;
};

// Runs until SIGINT/SIGTERM; throws Error if the source does not match or the port is busy.
SwarmOutcome seed(const SeedOptions& options, ProgressReporter& reporter);

}  // namespace p2p

// seed(): verify every piece of the source, then listen and serve until stopped.
#include "app/seeder.hpp"

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "base/limits.hpp"
#include "storage/piece_store.hpp"
#include "net/tracker_client.hpp"

#include <algorithm>

namespace p2p {

SwarmOutcome seed(const SeedOptions& o, ProgressReporter& reporter) {
  std::string meta_text = read_small_file(o.meta_path, limits::kMaxMetaFileBytes);
  Meta meta = parse_meta(meta_text, o.meta_path.string());
  std::vector<std::string> trackers = meta.trackers;
  for (const auto& t : o.trackers) {
    validate_tracker(t);
    if (std::find(trackers.begin(), trackers.end(), t) == trackers.end()) trackers.push_back(t);
  }
  if (o.publish && trackers.empty()) throw Error(ExitCode::usage, "--publish needs --tracker HOST:PORT (or trackers in the meta)");
  auto source = o.source.empty() ? o.workdir / meta.name : o.source;
  PieceStore store = PieceStore::open_complete(meta, source);  // refuses a mismatch, naming the first bad piece
  reporter.info(fmt::format("verified {} ({} pieces); serving {}", source.string(), meta.piece_count(),
                            meta.info_hash_hex().substr(0, 16)));
  if (o.publish) {
    for (const auto& t : trackers) {
      tracker::publish_meta(t, meta_text, std::chrono::milliseconds(5000));
      reporter.info(fmt::format("published {} to tracker {}", meta.name, t));
    }
  }
  SwarmOptions so;
  ensure_writable_dir(o.workdir);
  so.reputation_db = o.workdir / "reputation.db";
  so.trackers = trackers;
  so.max_upload_rate = o.max_upload_rate;
  so.listen_port = o.port;
  so.listen_host = o.host;
  so.keep_seeding = true;
  Swarm swarm(meta, store, so, reporter);
  return swarm.run();
}

}  // namespace p2p

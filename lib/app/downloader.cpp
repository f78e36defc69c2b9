// download(): meta -> piece store (resume) -> swarm -> verified file in the workdir.
#include "app/downloader.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "base/error.hpp"
#include "format/meta.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "storage/piece_store.hpp"
#include "net/tracker_client.hpp"

namespace p2p {

namespace fs = std::filesystem;

namespace {
constexpr auto kTrackerTimeout = std::chrono::milliseconds(5000);

std::vector<std::string> merged(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const auto& t : b)
    if (std::find(a.begin(), a.end(), t) == a.end()) a.push_back(t);
  return a;
}
}  // namespace

Meta fetch_meta(const std::vector<std::string>& trackers, const std::string& name, const std::string& info_hash,
                const fs::path& workdir, ProgressReporter& reporter) {
  if (trackers.empty()) throw Error(ExitCode::usage, "--name and --id need --tracker HOST:PORT");
  Digest wanted{};
  if (!info_hash.empty() && !digest_from_hex(info_hash, wanted))
    throw Error(ExitCode::usage, fmt::format("--id {:?} is not a 64-digit hex info hash", info_hash));
  std::string errors;
  for (const auto& t : trackers) {
    try {
      std::string id = info_hash.empty() ? tracker::lookup_info_hash_by_name(t, name, kTrackerTimeout) : info_hash;
      std::string text = tracker::fetch_meta_json(t, id, kTrackerTimeout);
      Meta meta = parse_meta(text, fmt::format("from tracker {}", t));
      if (meta.info_hash_hex() != id)
        throw Error(ExitCode::bad_meta, fmt::format("tracker {} sent the meta of {} when asked for {}", t,
                                                    meta.info_hash_hex(), id));
      if (!name.empty() && meta.name != name)
        throw Error(ExitCode::bad_meta, fmt::format("tracker {} sent a meta named {:?} when asked for {:?}", t,
                                                    meta.name, name));
      ensure_writable_dir(workdir);
      auto saved = workdir / (meta.name + ".p2pmeta");
      write_file_atomically(saved, text);
      reporter.info(fmt::format("got the meta of {} ({}) from tracker {}; saved as {}", meta.name,
                                meta.info_hash_hex().substr(0, 16), t, saved.string()));
      if (std::find(meta.trackers.begin(), meta.trackers.end(), t) == meta.trackers.end()) meta.trackers.push_back(t);
      return meta;
    } catch (const Error& e) {
      if (e.code() == ExitCode::bad_meta || e.code() == ExitCode::disk) throw;
      errors += fmt::format("{}{}", errors.empty() ? "" : "; ", e.what());
    }
  }
  throw Error(ExitCode::tracker, fmt::format("could not get the meta of {}: {}",
                                             info_hash.empty() ? fmt::format("{:?}", name) : info_hash, errors));
}

SwarmOutcome download(const DownloadOptions& o, ProgressReporter& reporter) {
  Meta meta = o.meta_path.empty() ? fetch_meta(o.trackers, o.name, o.info_hash, o.workdir, reporter)
                                  : load_meta(o.meta_path);
  auto trackers = merged(meta.trackers, o.trackers);
  if (o.peers.empty() && trackers.empty())
    throw Error(ExitCode::usage,
                "no peers to download from: give --host and --port, --peer HOST:PORT, or --tracker HOST:PORT");
  if (!trackers.empty() && !o.listen_port)
    throw Error(ExitCode::usage, "--no-listen cannot be used with a tracker: trackers only list peers that listen");
  if (o.parallel < 1 || o.parallel > 32)
    throw Error(ExitCode::usage, fmt::format("--parallel {} is outside 1-32", o.parallel));
  SwarmOptions so;
  for (const auto& p : o.peers) so.peers.push_back(parse_peer_address(p));
  so.parallel = o.parallel;
  so.listen_port = o.listen_port;
  so.listen_host = o.listen_host;
  so.keep_seeding = o.keep_seeding;
  so.seed_time = o.seed_time;
  so.trackers = trackers;
  so.max_upload_rate = o.max_upload_rate;
  so.max_download_rate = o.max_download_rate;

  ensure_writable_dir(o.workdir);
  so.reputation_db = o.workdir / "reputation.db";
  fs::path final_path = o.workdir / meta.name;
  fs::path partial = o.workdir / (meta.name + ".partial");
  if (fs::exists(final_path) && !fs::exists(partial)) {
    // Already downloaded? Check it rather than trust it; never overwrite someone's file.
    PieceStore existing = PieceStore::open_complete(meta, final_path);
    reporter.info(fmt::format("{} is already complete and verified", final_path.string()));
    SwarmOutcome out;
    if (so.keep_seeding) {
      Swarm swarm(meta, existing, so, reporter);
      out = swarm.run();
    }
    out.complete = true;
    out.path = final_path.string();
    out.stats.total_bytes = out.stats.verified_bytes = out.stats.resumed_bytes = meta.size;
    out.stats.pieces_total = out.stats.pieces_verified = meta.piece_count();
    return out;
  }
  if (fs::exists(final_path))
    throw Error(ExitCode::disk, fmt::format("{} already exists beside {}; move one of them away", final_path.string(),
                                            partial.string()));

  PieceStore::ResumeReport rr;
  if (fs::exists(partial)) reporter.info(fmt::format("checking {} to resume", partial.string()));
  PieceStore store = PieceStore::open_partial(meta, o.workdir, rr);
  if (!rr.state_problem.empty()) reporter.info(fmt::format("not trusting the saved state: {}; re-verified the data instead", rr.state_problem));
  if (rr.from_state + rr.recovered > 0)
    reporter.on_event("resumed", fmt::format("{} of {} pieces already verified ({} from the state file, {} recovered from disk)",
                                             rr.from_state + rr.recovered, meta.piece_count(), rr.from_state, rr.recovered));
  Swarm swarm(meta, store, so, reporter);
  SwarmOutcome out = swarm.run();
  out.path = out.complete ? final_path.string() : partial.string();
  return out;
}

}  // namespace p2p

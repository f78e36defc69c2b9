// download(): meta -> piece store (resume) -> swarm -> verified file in the workdir.
#include "downloader.hpp"

#include <fmt/core.h>

#include "error.hpp"
#include "meta.hpp"
#include "piece_store.hpp"

namespace p2p {

namespace fs = std::filesystem;

SwarmOutcome download(const DownloadOptions& o, ProgressReporter& reporter) {
  Meta meta = load_meta(o.meta_path);
  if (o.peers.empty() && !o.listen_port)
    throw Error(ExitCode::usage, "no peers to download from: give --host and --port, or --peer HOST:PORT");
  if (o.parallel < 1 || o.parallel > 32)
    throw Error(ExitCode::usage, fmt::format("--parallel {} is outside 1-32", o.parallel));
  SwarmOptions so;
  for (const auto& p : o.peers) so.peers.push_back(parse_peer_address(p));
  so.parallel = o.parallel;
  so.listen_port = o.listen_port;
  so.listen_host = o.listen_host;
  so.keep_seeding = o.keep_seeding;
  so.seed_time = o.seed_time;

  ensure_writable_dir(o.workdir);
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

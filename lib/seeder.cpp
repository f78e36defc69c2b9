// seed(): verify every piece of the source, then listen and serve until stopped.
#include "seeder.hpp"

#include <fmt/core.h>

#include "error.hpp"
#include "file_io.hpp"
#include "meta.hpp"
#include "piece_store.hpp"

namespace p2p {

SwarmOutcome seed(const SeedOptions& o, ProgressReporter& reporter) {
  Meta meta = load_meta(o.meta_path);
  auto source = o.source.empty() ? o.workdir / meta.name : o.source;
  PieceStore store = PieceStore::open_complete(meta, source);  // refuses a mismatch, naming the first bad piece
  reporter.info(fmt::format("verified {} ({} pieces); serving {}", source.string(), meta.piece_count(),
                            meta.info_hash_hex().substr(0, 16)));
  SwarmOptions so;
  so.listen_port = o.port;
  so.listen_host = o.host;
  so.keep_seeding = true;
  Swarm swarm(meta, store, so, reporter);
  return swarm.run();
}

}  // namespace p2p

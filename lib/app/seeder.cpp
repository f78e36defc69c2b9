// seed(): open (verify or trust) every source given, share a folder if asked,
// then serve everything from one session until stopped.
#include "app/seeder.hpp"

#include <fmt/core.h>

#include "app/api_share.hpp"
#include "app/folder_share.hpp"
#include "app/node_downloads.hpp"
#include "app/node_page.hpp"
#include "app/publish_and_keep_tokens.hpp"
#include "app/source_opener.hpp"
#include "app/tracker_list.hpp"
#include "app/watch_folder.hpp"
#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "storage/workdir_layout.hpp"
#include "format/meta.hpp"

namespace p2p {

SeedResult seed(const SeedOptions& o, ProgressReporter& reporter) {
  std::error_code ec;
  // A node takes downloads: asked over its API, from a watched folder, or kept from its last run.
  const bool node = o.http || o.watch || std::filesystem::exists(o.workdir / std::string(kOwnDirName) / "downloads.json", ec);
  if (o.metas.empty() && !o.dir && !node)
    throw Error(ExitCode::usage, "say what to serve: --meta FILE (repeatable) or --dir FOLDER, or run a node that "
                                 "downloads on request: --http [HOST:]PORT and/or --watch FOLDER");
  if (!o.sources.empty() && o.sources.size() != o.metas.size())
    throw Error(ExitCode::usage, fmt::format("{} --source for {} --meta: give one source per meta, in the same order, "
                                             "or none (then each is WORKDIR/<name>)",
                                             o.sources.size(), o.metas.size()));
  for (const auto& t : o.trackers) validate_tracker(t);
  auto layout = WorkdirLayout::prepare(o.workdir);
  SourceOpener opener(layout);
  if (!opener.load_problem().empty()) reporter.info(opener.load_problem());

  SessionOptions so;
  so.listen_port = o.port;
  so.listen_host = o.host;
  so.port_mapping = o.port_mapping;
  so.lan_discovery = o.lan_discovery;
  so.max_upload_rate = o.max_upload_rate;
  so.reputation_db = layout.reputation_db();
  so.run_until_signal = o.dir.has_value() || node;
  auto page = make_node_page(o.http, layout, reporter, "seed");
  Session session(so, observer_of(page, reporter));
  auto serving = serve_node_page(page.get(), session, reporter);
  if (page) page->set_add_handler(api_share_handler(session, opener, ApiShareOptions{layout, o.trackers, o.publish}));
  std::optional<NodeDownloads> downloads;
  if (node) {
    downloads.emplace(session, opener, NodeDownloads::Options{layout, o.max_active_downloads, o.trackers});
    if (page) page->set_download_control(&*downloads, o.trackers);
  }

  for (std::size_t i = 0; i < o.metas.size(); ++i) {
    std::string meta_text = read_small_file(o.metas[i], limits::kMaxMetaFileBytes);
    auto meta = std::make_shared<const Meta>(parse_meta(meta_text, o.metas[i].string()));
    TorrentOptions to;
    to.trackers = merge_trackers(meta->trackers, o.trackers);
    to.keep_seeding = true;
    if (o.publish && !meta->is_private && to.trackers.empty())
      throw Error(ExitCode::usage, "--publish needs --tracker HOST:PORT (or trackers in the meta)");
    auto source = o.sources.empty() ? o.workdir / meta->name : o.sources[i];
    bool rehashed = false;
    PieceStore store = opener.open(*meta, source, rehashed);  // refuses a mismatch, naming the first bad piece
    reporter.on_event(meta->name, EventKind::verifying,
                      rehashed ? fmt::format("verified {} ({} pieces); serving {}", source.string(), meta->piece_count(),
                                             meta->info_hash_hex().substr(0, 16))
                               : fmt::format("{} unchanged since it was verified (size, mtime, inode); serving {} "
                                             "without re-hashing",
                                             source.string(), meta->info_hash_hex().substr(0, 16)));
    if (o.publish)
      for (const auto& line : publish_and_keep_tokens(*meta, meta_text, o.metas[i], to.trackers)) reporter.info(line);
    session.add_torrent(meta, std::move(store), to);
  }
  opener.save();

  if (downloads) downloads->start();
  std::optional<WatchFolder> watch;
  if (o.watch) {
    watch.emplace(session, *downloads, *o.watch);
    watch->start();
  }

  std::optional<FolderShare> share;
  if (o.dir) {
    share.emplace(session, opener, FolderShare::Options{*o.dir, layout.meta_dir(), o.trackers, o.publish});
    share->start();
  } else {
    // A reload sent to every seeder (`systemctl reload`) must not end this one.
    session.on_hangup([&session] { session.report("", EventKind::notice, "SIGHUP: nothing to reload without --dir"); });
  }
  SeedResult result;
  result.session = session.run();
  // Without a folder to watch, a seeder whose every file failed has nothing left to do.
  if (!o.dir && !node && !result.session.interrupted) {
    for (const auto& t : result.session.torrents)
      if (t.error) throw *t.error;
  }
  return result;
}

}  // namespace p2p

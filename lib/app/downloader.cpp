// download(): meta -> piece store (resume) -> swarm -> verified file in the workdir.
#include "app/downloader.hpp"
#include "app/node_page.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fnmatch.h>

#include "base/discovery_switch.hpp"
#include "base/error.hpp"
#include "format/meta.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "storage/piece_store.hpp"
#include "storage/workdir_layout.hpp"
#include "app/opened_download.hpp"
#include "net/tracker_client.hpp"
#include "app/tracker_list.hpp"

namespace p2p {

namespace fs = std::filesystem;

namespace {
constexpr auto kTrackerTimeout = std::chrono::milliseconds(5000);

}  // namespace

FetchedMeta fetch_meta_from_trackers(const std::vector<std::string>& trackers, const std::string& name,
                                     const std::string& info_hash) {
  if (trackers.empty()) throw Error(ExitCode::usage, "--name and --id need --tracker HOST:PORT");
  Digest wanted{};
  if (!info_hash.empty() && !digest_from_hex(info_hash, wanted))
    throw Error(ExitCode::usage, fmt::format("--id {:?} is not a 64-digit hex info hash", info_hash));
  std::string errors;
  for (const auto& t : trackers) {
    try {
      std::string id = info_hash.empty() ? tracker_client::lookup_info_hash_by_name(t, name, kTrackerTimeout) : info_hash;
      std::string text = tracker_client::fetch_meta_json(t, id, kTrackerTimeout);
      Meta meta = parse_meta(text, fmt::format("from tracker {}", t));
      if (meta.info_hash_hex() != id)
        throw Error(ExitCode::bad_meta, fmt::format("tracker {} sent the meta of {} when asked for {}", t,
                                                    meta.info_hash_hex(), id));
      if (!name.empty() && meta.name != name)
        throw Error(ExitCode::bad_meta, fmt::format("tracker {} sent a meta named {:?} when asked for {:?}", t,
                                                    meta.name, name));
      if (std::find(meta.trackers.begin(), meta.trackers.end(), t) == meta.trackers.end()) meta.trackers.push_back(t);
      return FetchedMeta{std::move(meta), std::move(text), t};
    } catch (const Error& e) {
      if (e.code() == ExitCode::bad_meta) throw;
      errors += fmt::format("{}{}", errors.empty() ? "" : "; ", e.what());
    }
  }
  throw Error(ExitCode::tracker, fmt::format("could not get the meta of {}: {}",
                                             info_hash.empty() ? fmt::format("{:?}", name) : info_hash, errors));
}

Meta fetch_meta(const std::vector<std::string>& trackers, const std::string& name, const std::string& info_hash,
                const fs::path& workdir, ProgressReporter& reporter) {
  FetchedMeta f = fetch_meta_from_trackers(trackers, name, info_hash);
  ensure_writable_dir(workdir);
  auto saved = workdir / (f.meta.name + ".p2pmeta");
  write_file_atomically(saved, f.text, meta_file_mode(f.meta));
  reporter.info(fmt::format("got the meta of {} ({}) from tracker {}; saved as {}", f.meta.name,
                            f.meta.info_hash_hex().substr(0, 16), f.tracker, saved.string()));
  return std::move(f.meta);
}

Bitfield select_files(const Meta& meta, const std::vector<std::string>& only, std::size_t& files) {
  if (!meta.is_tree())
    throw Error(ExitCode::usage, fmt::format("--only selects files of a folder's meta; {} is a single file", meta.name));
  Bitfield selection(meta.piece_count());
  std::vector<bool> used(only.size());
  files = 0;
  for (const auto& f : meta.files) {
    bool hit = false;
    for (std::size_t g = 0; g < only.size(); ++g)
      if (::fnmatch(only[g].c_str(), f.path.c_str(), 0) == 0) hit = used[g] = true;
    if (!hit) continue;
    ++files;
    for (std::uint32_t p = f.first_piece; p < f.first_piece + f.piece_count; ++p) selection.set(p);
  }
  std::string unmatched;
  for (std::size_t g = 0; g < only.size(); ++g)
    if (!used[g]) unmatched += fmt::format("{}{:?}", unmatched.empty() ? "" : ", ", only[g]);
  if (!unmatched.empty())
    throw Error(ExitCode::usage, fmt::format("--only {} matches none of the {} files of {}; nothing fetched", unmatched,
                                             meta.files.size(), meta.name));
  return selection;
}

DownloadResult download(const DownloadOptions& o, ProgressReporter& reporter) {
  auto meta = std::make_shared<const Meta>(o.meta_path.empty() ? fetch_meta(o.trackers, o.name, o.info_hash, o.workdir, reporter)
                                                                : load_meta(o.meta_path));
  TorrentOptions to;
  std::size_t selected_files = 0;
  if (!o.only.empty()) to.selection = select_files(*meta, o.only, selected_files);
  to.trackers = merge_trackers(meta->trackers, o.trackers);
  bool lan = o.lan_discovery && o.listen_port && discovery_allowed(o.listen_host);
  if (o.peers.empty() && to.trackers.empty() && !lan)
    throw Error(ExitCode::usage,
                "no peers to download from: give --host and --port, --peer HOST:PORT, or --tracker HOST:PORT "
                "(LAN discovery is off: --no-lan, --no-listen, a loopback --listen-host or P2P_NO_DISCOVERY=1)");
  if (!to.trackers.empty() && !o.listen_port)
    throw Error(ExitCode::usage, "--no-listen cannot be used with a tracker: trackers only list peers that listen");
  if (o.parallel < 1 || o.parallel > limits::kMaxParallel)
    throw Error(ExitCode::usage, fmt::format("--parallel {} is outside 1-{}", o.parallel, limits::kMaxParallel));
  for (const auto& p : o.peers) to.peers.push_back(parse_peer_address(p));
  to.parallel = o.parallel;
  to.keep_seeding = o.keep_seeding;
  to.seed_time = o.seed_time;
  to.give_up_after = o.give_up_after;
  SessionOptions so;
  so.listen_port = o.listen_port;
  so.listen_host = o.listen_host;
  so.port_mapping = o.port_mapping;
  so.lan_discovery = o.lan_discovery;
  so.max_upload_rate = o.max_upload_rate;
  so.max_download_rate = o.max_download_rate;

  auto layout = WorkdirLayout::prepare(o.workdir);
  so.reputation_db = layout.reputation_db();
  OpenedDownload opened = open_download(layout, *meta, [&](const std::string& line) { reporter.info(line); });
  fs::path final_path = opened.final_path, partial = opened.partial;
  DownloadResult result;
  if (opened.already_complete) {
    reporter.info(fmt::format("{} is already complete and verified", final_path.string()));
    if (to.keep_seeding) {
      auto page = make_node_page(o.http, layout, reporter, "download");
      Session session(so, observer_of(page, reporter));
      auto serving = serve_node_page(page.get(), session, reporter);
      session.add_torrent(meta, std::move(opened.store), to);
      auto out = session.run();
      result.interrupted = out.interrupted;
      result.torrent = out.torrents.at(0);
    }
    result.torrent.name = meta->name;
    result.torrent.complete = true;
    result.path = final_path.string();
    auto& st = result.torrent.stats;
    st.total_bytes = st.verified_bytes = st.resumed_bytes = meta->size;
    st.pieces_total = st.pieces_verified = meta->piece_count();
    st.files_total = st.files_done = static_cast<std::uint32_t>(meta->files.size());
    return result;
  }
  const PieceStore::ResumeReport& rr = opened.resume;
  if (!rr.state_problem.empty()) reporter.info(fmt::format("not trusting the saved state: {}; re-verified the data instead", rr.state_problem));
  if (rr.from_state + rr.recovered > 0)
    reporter.on_event(meta->name, EventKind::resumed,
                      fmt::format("{} of {} pieces already verified ({} from the state file, {} recovered from disk)",
                                  rr.from_state + rr.recovered, meta->piece_count(), rr.from_state, rr.recovered));
  auto page = make_node_page(o.http, layout, reporter, "download");
  Session session(so, observer_of(page, reporter));
  auto serving = serve_node_page(page.get(), session, reporter);
  session.add_torrent(meta, std::move(opened.store), to);
  auto out = session.run();
  result.interrupted = out.interrupted;
  result.torrent = out.torrents.at(0);
  if (result.torrent.error) throw *result.torrent.error;
  result.path = result.torrent.complete ? final_path.string() : partial.string();
  if (result.torrent.selection_complete)
    reporter.info(fmt::format("{} of {} files selected by --only are verified in {}; run again without --only for the rest",
                              selected_files, meta->files.size(), partial.string()));
  return result;
}

}  // namespace p2p

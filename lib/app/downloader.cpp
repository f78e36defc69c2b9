// download(): metas -> piece stores (resume) -> one swarm session -> verified files in the workdir.
#include "app/downloader.hpp"
#include "app/node_page.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fnmatch.h>
#include <map>
#include <thread>

#include "base/discovery_switch.hpp"
#include "base/error.hpp"
#include "format/meta.hpp"
#include "base/file_io.hpp"
#include "base/hash_pool.hpp"
#include "base/limits.hpp"
#include "storage/piece_store.hpp"
#include "storage/workdir_layout.hpp"
#include "app/opened_download.hpp"
#include "tracker_client/tracker_client.hpp"
#include "app/tracker_list.hpp"
#include "swarm/reputation.hpp"
#include "swarm/session.hpp"

namespace p2p {

namespace fs = std::filesystem;

FetchedMeta fetch_meta_from_trackers(const std::vector<std::string>& trackers, const std::string& name,
                                     const std::string& info_hash) {
  if (trackers.empty()) throw Error(ExitCode::usage, "--name and --id need --tracker HOST:PORT");
  Digest wanted{};
  if (!info_hash.empty() && !digest_from_hex(info_hash, wanted))
    throw Error(ExitCode::usage, fmt::format("--id {:?} is not a 64-digit hex info hash", info_hash));
  std::string errors;
  for (const auto& t : trackers) {
    try {
      std::string id = info_hash.empty() ? tracker_client::lookup_info_hash_by_name(t, name, tracker_client::kTrackerTimeout) : info_hash;
      std::string text = tracker_client::fetch_meta_json(t, id, tracker_client::kTrackerTimeout);
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
  // Kept in WORKDIR/.p2p/ under its info hash: WORKDIR/<name>.p2pmeta may be the user's.
  auto saved = WorkdirLayout::prepare(workdir).fetched_meta_path(f.meta);
  write_file_atomically(saved, f.text, meta_file_mode(f.meta));
  reporter.info(fmt::format("got the meta of {} ({}) from tracker {}; saved as {}", f.meta.name,
                            f.meta.info_hash_hex().substr(0, 16), f.tracker, saved.string()));
  return std::move(f.meta);
}

Bitfield select_files(const Meta& meta, const std::vector<std::string>& only, std::size_t& files,
                      std::vector<bool>* chosen) {
  if (!meta.is_tree())
    throw Error(ExitCode::usage, fmt::format("--only selects files of a folder's meta; {} is a single file", meta.name));
  Bitfield selection(meta.piece_count());
  std::vector<bool> used(only.size());
  files = 0;
  if (chosen) chosen->assign(meta.files.size(), false);
  for (std::size_t i = 0; i < meta.files.size(); ++i) {
    const MetaFile& f = meta.files[i];
    bool hit = false;
    for (std::size_t g = 0; g < only.size(); ++g)
      if (::fnmatch(only[g].c_str(), f.path.c_str(), 0) == 0) hit = used[g] = true;
    if (!hit) continue;
    ++files;
    if (chosen) (*chosen)[i] = true;
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

std::string DownloadItem::label() const {
  if (!meta_path.empty()) return meta_path.string();
  if (!info_hash.empty()) return fmt::format("--id {}", info_hash);
  return fmt::format("--name {:?}", name);
}

std::shared_ptr<const Meta> load_item_meta(const DownloadItem& item, const std::vector<std::string>& trackers,
                                           const fs::path& workdir, ProgressReporter& reporter) {
  if (!item.meta_path.empty()) return std::make_shared<const Meta>(load_meta(item.meta_path));
  return std::make_shared<const Meta>(fetch_meta(trackers, item.name, item.info_hash, workdir, reporter));
}

PreparedDownload prepare_download(std::shared_ptr<const Meta> meta, const std::vector<std::string>& only,
                                  const WorkdirLayout& layout, ProgressReporter& reporter) {
  PreparedDownload job;
  job.meta = meta;
  std::vector<bool> chosen;
  if (!only.empty()) job.selection = select_files(*meta, only, job.selected_files, &chosen);
  job.opened.emplace(open_download(layout, *meta, [&](const std::string& line) { reporter.info(line); }, chosen));
  if (job.opened->already_complete) {
    reporter.info(fmt::format("{} is already complete and verified", job.opened->final_path.string()));
    return job;
  }
  const PieceStore::ResumeReport& rr = job.opened->resume;
  if (!rr.state_problem.empty()) reporter.info(fmt::format("not trusting the saved state: {}; re-verified the data instead", rr.state_problem));
  if (rr.from_state + rr.recovered > 0)
    reporter.on_event(meta->name, EventKind::resumed,
                      fmt::format("{} of {} pieces already verified ({} from the state file, {} recovered from disk)",
                                  rr.from_state + rr.recovered, meta->piece_count(), rr.from_state, rr.recovered));
  return job;
}

MissingFiles tree_missing_files(const std::shared_ptr<const Meta>& meta_ptr, const WorkdirLayout& layout) {
  MissingFiles missing{meta_ptr, {}};
  const Meta& meta = *meta_ptr;
  if (!meta.is_tree()) return missing;
  std::error_code ec;
  if (!fs::exists(layout.state_path(meta), ec)) {
    if (fs::is_directory(layout.final_path(meta), ec)) return missing;  // finished
    for (std::uint32_t i = 0; i < meta.files.size(); ++i) missing.files.push_back(i);
    return missing;
  }
  Bitfield verified(meta.piece_count());
  std::string text;
  try {
    text = read_small_file(layout.state_path(meta), limits::kMaxStateFileBytes, /*follow_links=*/false);
  } catch (const Error&) {
  }
  if (!parse_state(meta, text, layout.state_path(meta).string(), verified).empty()) verified = Bitfield(meta.piece_count());
  for (std::uint32_t i = 0; i < meta.files.size(); ++i) {
    const MetaFile& f = meta.files[i];
    bool done = true;
    for (std::uint32_t p = f.first_piece; p < f.first_piece + f.piece_count; ++p) done = done && verified.test(p);
    std::error_code e2;
    // Verified and at its path (not a file in the way): there. Empty files: if present.
    if (f.piece_count == 0) done = fs::is_regular_file(layout.final_path(meta) / f.path, e2);
    if (!done) missing.files.push_back(i);
  }
  return missing;
}

int DownloadResult::exit_code() const {
  for (const auto& i : items)
    if (i.error && i.error->code() != ExitCode::interrupted) return static_cast<int>(i.error->code());
  bool all_done = true;
  for (const auto& i : items) all_done = all_done && (i.torrent.complete || i.torrent.selection_complete);
  if (all_done) return 0;
  return static_cast<int>(interrupted ? ExitCode::interrupted : ExitCode::peers_failed);
}

namespace {

// An item's outcome when it never joined the swarm (already complete, not seeding).
TorrentOutcome complete_outcome(const Meta& meta) {
  TorrentOutcome t;
  t.name = meta.name;
  t.complete = true;
  auto& st = t.stats;
  st.name = meta.name;
  st.info_hash_hex = meta.info_hash_hex();
  st.total_bytes = st.verified_bytes = st.resumed_bytes = meta.size;
  st.pieces_total = st.pieces_verified = meta.piece_count();
  st.files_total = st.files_done = static_cast<std::uint32_t>(meta.files.size());
  return t;
}

}  // namespace

DownloadResult download(const DownloadOptions& o, ProgressReporter& reporter) {
  if (o.items.empty()) throw Error(ExitCode::usage, "say which file: --meta FILE, or --name NAME / --id HASH with --tracker");
  if (o.parallel < 1 || o.parallel > limits::kMaxParallel)
    throw Error(ExitCode::usage, fmt::format("--parallel {} is outside 1-{}", o.parallel, limits::kMaxParallel));
  std::vector<wire::PeerAddress> peers;
  for (const auto& p : o.peers) peers.push_back(parse_peer_address(p));
  SessionOptions so;
  so.listen_port = o.listen_port;
  so.listen_host = o.listen_host;
  so.port_mapping = o.port_mapping;
  so.lan_discovery = o.lan_discovery;
  so.max_upload_rate = o.max_upload_rate;
  so.max_download_rate = o.max_download_rate;
  auto layout = WorkdirLayout::prepare(o.workdir);
  so.reputation_db = layout.reputation_db();
  // Made on another thread while the metas are read and checked: the hashing pool's
  // threads (a big meta's digests', the first verified piece's) and a fresh workdir's
  // reputation database (SQLite's first flushes). Joined before the session starts.
  std::jthread warming_up([path = so.reputation_db] {
    try {
      (void)HashPool::shared();
    } catch (const std::exception&) {
      // No threads to spare: its first real use tries again and says so.
    }
    Reputation::create_if_missing(path);
  });
  bool lan = o.lan_discovery && o.listen_port && discovery_allowed(o.listen_host);

  DownloadResult result;
  result.items.resize(o.items.size());
  std::vector<std::optional<PreparedDownload>> jobs(o.items.size());
  std::vector<std::optional<std::size_t>> same_as(o.items.size());  // an item given twice
  std::map<std::string, std::size_t> by_hash, by_name;
  // Each item on its own: one that cannot start (bad meta, nothing to fetch it from,
  // a file in the way...) is named and the others still run.
  for (std::size_t i = 0; i < o.items.size(); ++i) {
    ItemResult& r = result.items[i];
    r.label = o.items[i].label();
    try {
      auto meta = load_item_meta(o.items[i], o.trackers, o.workdir, reporter);
      r.torrent.name = meta->name;
      r.path = layout.final_path(*meta).string();
      if (auto it = by_hash.find(meta->info_hash_hex()); it != by_hash.end()) {
        same_as[i] = it->second;
        reporter.info(fmt::format("{} is the same download as {}: fetched once", r.label, result.items[it->second].label));
        continue;
      }
      if (auto it = by_name.find(meta->name); it != by_name.end())
        throw Error(ExitCode::usage,
                    fmt::format("{} and {} are two different downloads named {:?}: both would be {}; fetch them into "
                                "different --workdir",
                                result.items[it->second].label, r.label, meta->name, r.path));
      by_hash[meta->info_hash_hex()] = i;
      by_name[meta->name] = i;
      auto trackers = merge_trackers(meta->trackers, o.trackers);
      if (peers.empty() && trackers.empty() && !lan)
        throw Error(ExitCode::usage,
                    "no peers to download from: give --host and --port, --peer HOST:PORT, or --tracker HOST:PORT "
                    "(LAN discovery is off: --no-lan, --no-listen, a loopback --listen-host or P2P_NO_DISCOVERY=1)");
      if (!trackers.empty() && !o.listen_port)
        throw Error(ExitCode::usage, "--no-listen cannot be used with a tracker: trackers only list peers that listen");
      jobs[i].emplace(prepare_download(meta, o.items[i].only, layout, reporter));
    } catch (const Error& e) {
      r.error = e;
      jobs[i].reset();
      // Said now, not only at the end (where it is one of the error lines): the others go on.
      if (o.items.size() > 1)
        reporter.on_event(r.torrent.name, EventKind::torrent_stopped,
                          fmt::format("{}: not fetched ({}); the other downloads go on", r.label, e.what()));
    }
  }

  // One session for all that is left to fetch (and, with --seed, to serve).
  std::vector<std::size_t> in_session;
  for (std::size_t i = 0; i < jobs.size(); ++i)
    if (jobs[i] && (!jobs[i]->opened->already_complete || o.keep_seeding)) in_session.push_back(i);
  warming_up.join();
  if (!in_session.empty()) {
    auto page = make_node_page(o.http, layout, reporter, "download");
    Session session(so, observer_of(page, reporter));
    auto serving = serve_node_page(page.get(), session, reporter);
    for (std::size_t i : in_session) {
      TorrentOptions to;
      PreparedDownload& job = *jobs[i];
      to.trackers = merge_trackers(job.meta->trackers, o.trackers);
      to.peers = peers;
      to.parallel = o.parallel;
      to.keep_seeding = o.keep_seeding;
      to.seed_time = o.seed_time;
      to.give_up_after = o.give_up_after;
      to.selection = job.selection;
      session.add_torrent(job.meta, std::move(job.opened->store), to);  // the lock stays in job.opened
    }
    auto out = session.run();
    result.interrupted = out.interrupted;
    for (std::size_t k = 0; k < in_session.size() && k < out.torrents.size(); ++k) {
      ItemResult& r = result.items[in_session[k]];
      r.torrent = out.torrents[k];
      if (r.torrent.error) r.error = r.torrent.error;
      if (jobs[in_session[k]]->opened->already_complete) r.torrent.complete = true;
    }
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    ItemResult& r = result.items[i];
    if (!jobs[i]) continue;
    const PreparedDownload& job = *jobs[i];
    if (job.opened->already_complete && !o.keep_seeding) r.torrent = complete_outcome(*job.meta);
    if (!r.torrent.complete && !job.meta->is_tree() && !r.error) r.path = layout.partial_path(*job.meta).string();
    if (job.meta->is_tree() && !r.torrent.complete) r.missing = tree_missing_files(job.meta, layout);
    if (r.torrent.selection_complete)
      reporter.info(fmt::format("{} of {} files selected by --only are verified in {}; {} not fetched: run again "
                                "without --only for the rest",
                                job.selected_files, job.meta->files.size(), r.path, r.missing.size()));
  }
  for (std::size_t i = 0; i < same_as.size(); ++i)
    if (same_as[i]) {
      std::string label = result.items[i].label;
      result.items[i] = result.items[*same_as[i]];
      result.items[i].label = label;
    }
  return result;
}

}  // namespace p2p

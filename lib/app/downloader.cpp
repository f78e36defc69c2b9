// download(): metas -> piece stores (resume) -> one swarm session -> verified files in the workdir.
#include "app/downloader.hpp"
#include "app/node_page.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fnmatch.h>
#include <map>

#include "base/discovery_switch.hpp"
#include "base/error.hpp"
#include "format/meta.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "storage/piece_store.hpp"
#include "storage/workdir_layout.hpp"
#include "storage/workdir_lock.hpp"
#include "net/tracker_client.hpp"
#include "app/tracker_list.hpp"
#include "swarm/session.hpp"

namespace p2p {

namespace fs = std::filesystem;

namespace {
constexpr auto kTrackerTimeout = std::chrono::milliseconds(5000);

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
      std::string id = info_hash.empty() ? tracker_client::lookup_info_hash_by_name(t, name, kTrackerTimeout) : info_hash;
      std::string text = tracker_client::fetch_meta_json(t, id, kTrackerTimeout);
      Meta meta = parse_meta(text, fmt::format("from tracker {}", t));
      if (meta.info_hash_hex() != id)
        throw Error(ExitCode::bad_meta, fmt::format("tracker {} sent the meta of {} when asked for {}", t,
                                                    meta.info_hash_hex(), id));
      if (!name.empty() && meta.name != name)
        throw Error(ExitCode::bad_meta, fmt::format("tracker {} sent a meta named {:?} when asked for {:?}", t,
                                                    meta.name, name));
      ensure_writable_dir(workdir);
      auto saved = workdir / (meta.name + ".p2pmeta");
      write_file_atomically(saved, text, meta_file_mode(meta));
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

// The pieces of the files that --only selects; Error(usage) naming any pattern that matches nothing.
static Bitfield select_files(const Meta& meta, const std::vector<std::string>& only, std::size_t& files,
                             std::vector<bool>& chosen) {
  if (!meta.is_tree())
    throw Error(ExitCode::usage, fmt::format("--only selects files of a folder's meta; {} is a single file", meta.name));
  Bitfield selection(meta.piece_count());
  std::vector<bool> used(only.size());
  files = 0;
  chosen.assign(meta.files.size(), false);
  for (std::size_t i = 0; i < meta.files.size(); ++i) {
    const MetaFile& f = meta.files[i];
    bool hit = false;
    for (std::size_t g = 0; g < only.size(); ++g)
      if (::fnmatch(only[g].c_str(), f.path.c_str(), 0) == 0) hit = used[g] = true;
    if (!hit) continue;
    ++files;
    chosen[i] = true;
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
  if (!only.empty()) job.selection = select_files(*meta, only, job.selected_files, chosen);
  // One writer per final name: a second download of this name (this file or
  // another with the same name) into this workdir stops here, saying who has it.
  job.lock.emplace(layout.lock_path(meta->name), layout.final_path(*meta).string());
  job.final_path = layout.final_path(*meta);
  const fs::path& final_path = job.final_path;
  fs::path partial = layout.partial_path(*meta);
  layout.adopt_legacy_partial(*meta);
  std::error_code ec;
  bool final_taken = fs::symlink_status(final_path, ec).type() != fs::file_type::not_found;
  // A tree is downloaded in place: WORKDIR/<name> is ours, unfinished, only while our state file says so.
  bool has_partial = meta->is_tree() ? fs::symlink_status(layout.state_path(*meta), ec).type() != fs::file_type::not_found
                                     : fs::exists(partial, ec);
  if (final_taken && !has_partial) {
    // Already downloaded? Check it rather than trust it; never overwrite someone's file.
    if (fs::is_symlink(final_path, ec) ||
        (meta->is_tree() ? !fs::is_directory(final_path, ec) : !fs::is_regular_file(final_path, ec)))
      throw Error(ExitCode::file_exists, fmt::format("{} is in the way (not a {}); not replacing it: move it "
                                                     "away or download into another --workdir",
                                                     final_path.string(), meta->is_tree() ? "folder" : "regular file"));
    try {
      job.store.emplace(PieceStore::open_complete(*meta, final_path));
    } catch (const Error& e) {
      // A folder in the way of a tree may lack its files (input_file): not ours either way.
      if (e.code() != ExitCode::source_mismatch && !(meta->is_tree() && e.code() == ExitCode::input_file)) throw;
      throw Error(ExitCode::file_exists,
                  fmt::format("{} already exists and is not the {} this meta describes ({}); not overwriting it: "
                              "move it away or download into another --workdir",
                              final_path.string(), meta->is_tree() ? "folder" : "file", e.what()));
    }
    job.already_complete = true;
    reporter.info(fmt::format("{} is already complete and verified", final_path.string()));
    return job;
  }
  if (final_taken && !meta->is_tree())
    throw Error(ExitCode::file_exists,
                fmt::format("{} is in the way of the download kept in {}; not overwriting it: move it away and rerun",
                            final_path.string(), partial.string()));

  PieceStore::ResumeReport rr;
  if (has_partial && fs::exists(partial, ec)) reporter.info(fmt::format("checking {} to resume", partial.string()));
  job.store.emplace(PieceStore::open_partial(*meta, layout, rr));
  if (!rr.state_problem.empty()) reporter.info(fmt::format("not trusting the saved state: {}; re-verified the data instead", rr.state_problem));
  if (rr.from_state + rr.recovered > 0)
    reporter.on_event(meta->name, EventKind::resumed,
                      fmt::format("{} of {} pieces already verified ({} from the state file, {} recovered from disk)",
                                  rr.from_state + rr.recovered, meta->piece_count(), rr.from_state, rr.recovered));
  // Something not ours at the path of a file to fetch: refused now, before any of it
  // is fetched; one at a file not selected is left alone (and named).
  std::string refused, left;
  std::size_t n_refused = 0;
  for (std::uint32_t f : job.store->files_in_the_way()) {
    bool wanted = chosen.empty() || chosen[f];
    std::string& list = wanted ? refused : left;
    if (wanted) ++n_refused;
    list += fmt::format("{}{}", list.empty() ? "" : ", ", job.store->describe_file(f));
  }
  if (!left.empty())
    reporter.info(fmt::format("not the files the meta describes, left alone (not selected by --only): {}", left));
  if (n_refused)
    throw Error(ExitCode::file_exists,
                fmt::format("{} {} in the way: not the file{} the meta describes (a file of yours, or changed since it "
                            "was downloaded); a download never replaces what it did not put there: move {} away and rerun",
                            refused, n_refused == 1 ? "is" : "are", n_refused == 1 ? "" : "s",
                            n_refused == 1 ? "it" : "them"));
  return job;
}

std::vector<std::string> tree_missing_files(const Meta& meta, const WorkdirLayout& layout) {
  std::vector<std::string> missing;
  if (!meta.is_tree()) return missing;
  std::error_code ec;
  if (!fs::exists(layout.state_path(meta), ec)) {
    if (fs::is_directory(layout.final_path(meta), ec)) return missing;  // finished
    for (const auto& f : meta.files) missing.push_back(f.path);
    return missing;
  }
  Bitfield verified(meta.piece_count());
  std::string text;
  try {
    text = read_small_file(layout.state_path(meta), limits::kMaxStateFileBytes, /*follow_links=*/false);
  } catch (const Error&) {
  }
  if (!parse_state(meta, text, layout.state_path(meta).string(), verified).empty()) verified = Bitfield(meta.piece_count());
  for (const auto& f : meta.files) {
    bool done = true;
    for (std::uint32_t p = f.first_piece; p < f.first_piece + f.piece_count; ++p) done = done && verified.test(p);
    std::error_code e2;
    // Verified and at its path (not a file in the way): there. Empty files: if present.
    if (f.piece_count == 0) done = fs::is_regular_file(layout.final_path(meta) / f.path, e2);
    if (!done) missing.push_back(f.path);
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
    if (jobs[i] && jobs[i]->store && (!jobs[i]->already_complete || o.keep_seeding)) in_session.push_back(i);
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
      session.add_torrent(job.meta, std::move(*job.store), to);
      job.store.reset();
    }
    auto out = session.run();
    result.interrupted = out.interrupted;
    for (std::size_t k = 0; k < in_session.size() && k < out.torrents.size(); ++k) {
      ItemResult& r = result.items[in_session[k]];
      r.torrent = out.torrents[k];
      if (r.torrent.error) r.error = r.torrent.error;
      if (jobs[in_session[k]]->already_complete) r.torrent.complete = true;
    }
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    ItemResult& r = result.items[i];
    if (!jobs[i]) continue;
    const PreparedDownload& job = *jobs[i];
    if (job.already_complete && !o.keep_seeding) r.torrent = complete_outcome(*job.meta);
    if (!r.torrent.complete && !job.meta->is_tree() && !r.error) r.path = layout.partial_path(*job.meta).string();
    if (job.meta->is_tree() && !r.torrent.complete) r.missing = tree_missing_files(*job.meta, layout);
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

// NodeDownloads: requests checked off the io thread, the queue applied to the
// session, the session's results read back every second, all of it kept on disk.
#include "app/node_downloads.hpp"

#include <fmt/core.h>

#include "app/downloader.hpp"
#include "app/opened_download.hpp"
#include "app/tracker_list.hpp"
#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "format/meta.hpp"
#include "swarm/session_snapshot.hpp"

namespace p2p {

namespace fs = std::filesystem;
using web::ActionResult;
using web::DownloadAction;

namespace {
constexpr std::uint64_t kMaxQueueFileBytes = 64ull * 1024 * 1024;

// The HTTP status for an error found while checking a request.
int status_of(const Error& e) {
  switch (e.code()) {
    case ExitCode::file_exists:
    case ExitCode::in_use: return 409;
    case ExitCode::tracker: return 502;
    case ExitCode::disk:
    case ExitCode::internal: return 500;
    default: return 400;  // usage, input_file, bad_meta, source_mismatch
  }
}
}  // namespace

NodeDownloads::NodeDownloads(Session& session, SourceOpener& opener, Options options)
    : session_(session), opener_(opener), opt_(std::move(options)), queue_(opt_.max_active) {
  file_ = opt_.layout.own_dir / "downloads.json";
  metas_dir_ = opt_.layout.own_dir / "downloads";
  std::error_code ec;
  shown_workdir_ = fs::absolute(opt_.layout.workdir, ec);
  if (ec) shown_workdir_ = opt_.layout.workdir;
  if (opt_.max_active < 1 || opt_.max_active > DownloadQueue::kMaxActiveLimit)
    throw Error(ExitCode::usage, fmt::format("--max-active-downloads {} is outside 1-{}", opt_.max_active,
                                             DownloadQueue::kMaxActiveLimit));
}

fs::path NodeDownloads::meta_file(const std::string& id) const { return metas_dir_ / (id + ".p2pmeta"); }

fs::path NodeDownloads::shown_path(const QueuedDownload& d) const {
  if (d.only.empty()) return shown_workdir_ / d.name;
  // The selected files of a folder: at their final paths in <name>/ (a release before
  // folders were downloaded in place kept them in <name>.partial/).
  std::error_code ec;
  fs::path at = shown_workdir_ / d.name;
  return fs::is_directory(at, ec) && !fs::is_symlink(at, ec) ? at : shown_workdir_ / (d.name + ".partial");
}

ActionResult NodeDownloads::result(int status, std::string message, const std::string& id) const {
  return ActionResult{status, std::move(message), id};
}

void NodeDownloads::start() {
  ensure_writable_dir(metas_dir_);
  std::error_code ec;
  if (fs::exists(file_, ec)) {
    std::vector<std::string> problems;
    try {
      queue_ = DownloadQueue::from_json(read_small_file(file_, kMaxQueueFileBytes, /*follow_links=*/false),
                                        opt_.max_active, problems);
    } catch (const Error& e) {
      problems.push_back(e.what());
    }
    if (!problems.empty() && queue_.entries().empty()) {
      // Unusable as a whole: keep it aside for a person to look at, start empty.
      fs::path aside = file_;
      aside += ".damaged";
      fs::rename(file_, aside, ec);
      session_.report("", EventKind::notice,
                      fmt::format("{} is not usable ({}); moved to {}; starting with an empty download queue",
                                  file_.string(), problems.front(), aside.string()));
    } else {
      for (const auto& p : problems)
        session_.report("", EventKind::notice, fmt::format("{}: skipped {}", file_.string(), p));
    }
  }
  std::size_t unfinished = 0;
  for (const auto& d : std::vector<QueuedDownload>(queue_.entries())) {
    Held& h = held_[d.id];
    try {
      Meta m = load_meta(meta_file(d.id));
      if (m.info_hash_hex() != d.id || m.name != d.name)
        throw Error(ExitCode::bad_meta, fmt::format("it describes {} ({}), not {}", m.name, m.info_hash_hex(), d.name));
      h.meta = std::make_shared<const Meta>(std::move(m));
    } catch (const std::exception& e) {
      queue_.failed(d.id, fmt::format("its meta {} cannot be used: {}", meta_file(d.id).string(), e.what()));
      continue;
    }
    if (d.state == DownloadState::complete) seed_finished(d.id);
    else unfinished += d.state == DownloadState::queued;
  }
  if (!queue_.entries().empty())
    session_.report("", EventKind::notice,
                    fmt::format("download queue: {} downloads kept in {}; {} to continue", queue_.entries().size(),
                                file_.string(), unfinished));
  session_.every(std::chrono::milliseconds(1000), [this] { tick(); });
  pump();
}

TorrentOptions NodeDownloads::torrent_options(const QueuedDownload& d) const {
  const Meta& meta = *held_.at(d.id).meta;
  TorrentOptions to;
  to.trackers = merge_trackers(meta.trackers, merge_trackers(d.trackers, opt_.trackers));
  for (const auto& p : d.peers) to.peers.push_back(parse_peer_address(p));
  to.keep_seeding = true;
  to.give_up_after = kGiveUpAfter;
  if (!d.only.empty()) {
    std::size_t files = 0;
    to.selection = select_files(meta, d.only, files);
  }
  return to;
}

bool NodeDownloads::persist() {
  try {
    write_file_atomically(file_, queue_.to_json());
    return true;
  } catch (const std::exception& e) {
    session_.report("", EventKind::notice, fmt::format("cannot save the download queue: {}", e.what()));
    return false;
  }
}

// ---- adding --------------------------------------------------------------------------------

void NodeDownloads::add(web::DownloadRequest r, std::function<void(ActionResult)> done) {
  struct Job {
    std::shared_ptr<const Meta> meta;
    std::optional<OpenedDownload> opened;  // the file was already at its final name, and matched
    std::string error;
    int status = 201;
  };
  auto job = std::make_shared<Job>();
  auto trackers = r.trackers.empty() && !r.info_hash.empty() ? opt_.trackers : r.trackers;
  session_.in_background(
      [job, r, trackers, layout = opt_.layout, metas_dir = metas_dir_] {
        try {
          if (trackers.size() > limits::kMaxTrackers)
            throw Error(ExitCode::usage, fmt::format("at most {} trackers", limits::kMaxTrackers));
          for (const auto& t : trackers) validate_tracker(t);
          for (const auto& p : r.peers) parse_peer_address(p);
          Meta m;
          if (!r.meta_text.empty()) {
            m = parse_meta(r.meta_text, r.origin);
          } else if (!r.meta_path.empty()) {
            m = load_meta(r.meta_path);
          } else {
            if (trackers.empty())
              throw Error(ExitCode::usage, "an info hash alone needs trackers: give \"trackers\" (this node has no --tracker)");
            m = fetch_meta_from_trackers(trackers, "", r.info_hash).meta;
          }
          job->meta = std::make_shared<const Meta>(std::move(m));
          std::vector<bool> wanted;  // --only: a file of the user's outside the selection is left alone
          if (!r.only.empty()) {
            std::size_t files = 0;
            select_files(*job->meta, r.only, files, &wanted);
          }
          // Something at the final name already: the file itself (seeded, nothing to fetch)
          // or someone else's (refused now; it is never replaced).
          std::error_code ec;
          if (fs::symlink_status(layout.final_path(*job->meta), ec).type() != fs::file_type::not_found)
            job->opened.emplace(open_download(layout, *job->meta, [](const std::string&) {}, wanted));
          write_file_atomically(metas_dir / (job->meta->info_hash_hex() + ".p2pmeta"), meta_to_json(*job->meta),
                                meta_file_mode(*job->meta));
        } catch (const Error& e) {
          job->error = e.what();
          job->status = status_of(e);
        } catch (const std::exception& e) {
          job->error = e.what();
          job->status = 500;
        }
      },
      [this, job, r, trackers, done] {
        std::string id = job->meta ? job->meta->info_hash_hex() : r.info_hash;
        if (job->meta) {
          if (const auto* d = queue_.find(id))
            return done(result(409, fmt::format("{} is already in the download queue ({})", d->name,
                                                download_state_name(d->state)), id));
          if (session_.has_torrent(job->meta->info_hash))
            return done(result(409, fmt::format("{} is already served here", job->meta->name), id));
        }
        auto drop_meta = [&] {
          std::error_code ec;
          if (job->meta && !queue_.find(id)) fs::remove(meta_file(id), ec);
        };
        if (!job->error.empty()) {
          drop_meta();
          return done(result(job->status, job->error, id));
        }
        if (queue_.full()) {
          drop_meta();
          return done(result(409, fmt::format("the download queue holds {} downloads already; remove some first",
                                              DownloadQueue::kMaxDownloads), id));
        }
        QueuedDownload d;
        d.id = id;
        d.name = job->meta->name;
        d.size = job->meta->size;
        d.only = r.only;
        d.trackers = trackers;
        d.peers = r.peers;
        bool complete = job->opened && job->opened->already_complete;
        if (complete) {
          d.state = DownloadState::complete;
          d.only.clear();
          d.verified_bytes = d.size;
        }
        queue_.add(d);
        held_[id].meta = job->meta;
        if (!persist()) {
          queue_.remove(id);
          held_.erase(id);
          drop_meta();
          return done(result(500, fmt::format("cannot save the download queue in {}", file_.string()), id));
        }
        if (complete) {
          fs::path final_path = job->opened->final_path;
          try {
            session_.add_torrent(job->meta, std::move(job->opened->store), torrent_options(d));
          } catch (const Error& e) {
            queue_.failed(id, e.what());
            persist();
            return done(result(500, e.what(), id));
          }
          auto meta = job->meta;
          session_.in_background([this, meta, final_path] {
            opener_.remember(*meta, final_path);
            opener_.save();
          }, [] {});
          session_.report(d.name, EventKind::torrent_added,
                          fmt::format("{} is already here and matches its meta: seeding it", final_path.string()));
          return done(result(201, fmt::format("{} is already complete in {}; seeding it", d.name, final_path.string()), id));
        }
        session_.report(d.name, EventKind::notice,
                        fmt::format("queued for download ({}; place {} of {})", id.substr(0, 16), queue_.position(id),
                                    queue_.entries().size()));
        done(result(201, fmt::format("queued {} (place {})", d.name, queue_.position(id)), id));
        pump();
      });
}

// ---- running the queue ---------------------------------------------------------------------

void NodeDownloads::pump() {
  for (const auto& id : queue_.start_next()) launch(id);
}

void NodeDownloads::launch(const std::string& id) {
  Held& h = held_[id];
  if (!h.meta) {
    queue_.failed(id, fmt::format("its meta {} cannot be used", meta_file(id).string()));
    persist();
    return;
  }
  auto meta = h.meta;
  if (session_.has_torrent(meta->info_hash)) {  // paused earlier in this run: its torrent is still here
    session_.set_paused(meta->info_hash, false);
    queue_.started(id);
    persist();
    return;
  }
  struct Job {
    std::optional<OpenedDownload> opened;
    std::vector<std::string> notes;
    std::string error;
  };
  auto job = std::make_shared<Job>();
  std::vector<bool> wanted;  // --only: a file of the user's outside the selection is left alone
  if (const QueuedDownload* q = queue_.find(id); q && !q->only.empty()) {
    std::size_t files = 0;
    try {
      select_files(*meta, q->only, files, &wanted);
    } catch (const Error&) {
      wanted.clear();  // (checked when it was added) every file then counts as wanted
    }
  }
  session_.in_background(
      [job, meta, wanted, layout = opt_.layout] {
        try {
          job->opened.emplace(
              open_download(layout, *meta, [&](const std::string& line) { job->notes.push_back(line); }, wanted));
        } catch (const std::exception& e) {
          job->error = e.what();
        }
      },
      [this, id, job, meta] {
        const QueuedDownload* d = queue_.find(id);
        auto held = held_.find(id);
        // Paused or removed meanwhile: the lock and the files are let go with the job.
        if (!d || d->state != DownloadState::checking || held == held_.end() || held->second.meta != meta) return;
        for (const auto& n : job->notes) session_.report(meta->name, EventKind::notice, n);
        if (job->error.empty()) {
          try {
            TorrentOptions to = torrent_options(*d);
            if (job->opened->already_complete) {
              session_.add_torrent(meta, std::move(job->opened->store), to);
              queue_.completed(id);
              session_.report(meta->name, EventKind::torrent_added,
                              fmt::format("{} is already here and matches its meta: seeding it",
                                          job->opened->final_path.string()));
            } else {
              const auto& rr = job->opened->resume;
              if (!rr.state_problem.empty())
                session_.report(meta->name, EventKind::notice,
                                fmt::format("not trusting the saved state: {}; re-verified the data instead", rr.state_problem));
              if (rr.from_state + rr.recovered > 0)
                session_.report(meta->name, EventKind::resumed,
                                fmt::format("{} of {} pieces already verified ({} from the state file, {} recovered from disk)",
                                            rr.from_state + rr.recovered, meta->piece_count(), rr.from_state, rr.recovered));
              held->second.lock.emplace(std::move(job->opened->lock));
              session_.add_torrent(meta, std::move(job->opened->store), to);
              queue_.started(id);
              session_.report(meta->name, EventKind::torrent_added,
                              fmt::format("downloading {} ({}) into {}", meta->name, id.substr(0, 16),
                                          shown_workdir_.string()));
            }
          } catch (const std::exception& e) {
            held->second.lock.reset();
            job->error = e.what();
          }
        }
        if (!job->error.empty()) {
          queue_.failed(id, job->error);
          session_.report(meta->name, EventKind::notice, fmt::format("download failed: {}", job->error));
        }
        persist();
        pump();
      });
}

void NodeDownloads::seed_finished(const std::string& id) {
  const QueuedDownload* d = queue_.find(id);
  if (!d || !d->only.empty()) return;  // selected files only: nothing complete to seed
  auto meta = held_[id].meta;
  fs::path final_path = opt_.layout.final_path(*meta);
  struct Job {
    std::optional<PieceStore> store;
    std::string error;
    bool rehashed = false;
  };
  auto job = std::make_shared<Job>();
  session_.in_background(
      [this, job, meta, final_path] {
        try {
          job->store.emplace(opener_.open(*meta, final_path, job->rehashed));
          opener_.save();
        } catch (const std::exception& e) {
          job->error = e.what();
        }
      },
      [this, id, job, meta, final_path] {
        const QueuedDownload* d = queue_.find(id);
        auto held = held_.find(id);
        if (!d || d->state != DownloadState::complete || held == held_.end() || held->second.meta != meta ||
            session_.has_torrent(meta->info_hash))
          return;
        if (job->error.empty()) {
          try {
            session_.add_torrent(meta, std::move(*job->store), torrent_options(*d));
            session_.report(meta->name, EventKind::torrent_added,
                            fmt::format("seeding {}, downloaded earlier ({})", final_path.string(),
                                        job->rehashed ? "verified" : "unchanged since verified, not re-hashed"));
            return;
          } catch (const std::exception& e) {
            job->error = e.what();
          }
        }
        queue_.failed(id, fmt::format("downloaded earlier, but now: {}", job->error));
        session_.report(meta->name, EventKind::notice,
                        fmt::format("not seeding {}: {} (resume downloads it again if it is gone; a different file "
                                    "there is never replaced)",
                                    final_path.string(), job->error));
        persist();
      });
}

void NodeDownloads::tick() {
  bool changed = false;
  for (const auto& d : std::vector<QueuedDownload>(queue_.entries())) {
    if (d.state != DownloadState::running) continue;
    Held& h = held_[d.id];
    auto snap = h.meta ? session_.snapshot_of(h.meta->info_hash) : std::nullopt;
    if (!snap) {
      h.lock.reset();
      queue_.failed(d.id, "its torrent left the session");
      changed = true;
      continue;
    }
    queue_.set_verified_bytes(d.id, snap->stats.verified_bytes);
    switch (snap->phase) {
      case TorrentPhase::complete: {
        queue_.completed(d.id);
        h.lock.reset();  // at its final name: nothing of ours is written any more
        fs::path final_path = opt_.layout.final_path(*h.meta);
        auto meta = h.meta;
        session_.in_background([this, meta, final_path] {
          opener_.remember(*meta, final_path);
          opener_.save();
        }, [] {});
        session_.report(d.name, EventKind::notice, fmt::format("downloaded to {}; seeding it", (shown_workdir_ / d.name).string()));
        changed = true;
        break;
      }
      case TorrentPhase::partial:  // --only: the selected files are verified, at their final paths
        h.lock.reset();
        queue_.completed(d.id);
        session_.remove_torrent(h.meta->info_hash, "the selected files are complete");
        changed = true;
        break;
      case TorrentPhase::failed:
      case TorrentPhase::stopped:  // stopped by itself (not by the queue): it ended without its file
        h.lock.reset();
        queue_.failed(d.id, snap->error.empty() ? std::string(torrent_phase_name(snap->phase)) : snap->error);
        changed = true;
        break;
      default: break;
    }
  }
  if (changed) {
    persist();
    pump();
  }
}

// ---- the user's actions --------------------------------------------------------------------

std::optional<ActionResult> NodeDownloads::act(const Digest& info_hash, DownloadAction action) {
  std::string id = to_hex(info_hash);
  const QueuedDownload* d = queue_.find(id);
  if (!d) return std::nullopt;
  DownloadState was = d->state;
  std::string name = d->name;
  switch (action) {
    case DownloadAction::pause: {
      if (was == DownloadState::complete) return std::nullopt;  // pausing a finished one pauses its seeding
      auto c = queue_.pause(id);
      if (c == DownloadQueue::Change::unchanged) return result(200, fmt::format("{} is paused already", name), id);
      if (c != DownloadQueue::Change::done)
        return result(409, fmt::format("{} failed ({}): resume retries it, remove drops it", name, d->error), id);
      if (was == DownloadState::running) session_.set_paused(info_hash, true);
      persist();
      pump();
      return result(200, fmt::format("paused {}", name), id);
    }
    case DownloadAction::resume: {
      if (was == DownloadState::complete) return std::nullopt;
      auto c = queue_.resume(id);
      if (c == DownloadQueue::Change::unchanged)
        return result(200, fmt::format("{} is {} already", name, download_state_name(was)), id);
      if (was == DownloadState::failed) {
        if (session_.has_torrent(info_hash)) session_.remove_torrent(info_hash, "retrying the download");
        held_[id].lock.reset();
      }
      persist();
      pump();
      return result(200, fmt::format("resumed {}: {}", name, download_state_name(queue_.find(id)->state)), id);
    }
    case DownloadAction::remove: {
      if (session_.has_torrent(info_hash))
        session_.remove_torrent(info_hash, "removed from the download queue (what was downloaded stays on disk)");
      queue_.remove(id);
      held_.erase(id);
      std::error_code ec;
      fs::remove(meta_file(id), ec);
      persist();
      pump();
      return result(200, fmt::format("removed {} (what was downloaded stays on disk)", name), id);
    }
    case DownloadAction::up:
    case DownloadAction::down: {
      bool up = action == DownloadAction::up;
      auto c = queue_.move(id, up);
      if (c == DownloadQueue::Change::not_applicable)
        return result(409, fmt::format("{} is complete: only waiting downloads have a place in line", name), id);
      if (c == DownloadQueue::Change::unchanged)
        return result(200, fmt::format("{} is {} already", name, up ? "first" : "last"), id);
      persist();
      return result(200, fmt::format("moved {} {} (place {})", name, up ? "up" : "down", queue_.position(id)), id);
    }
  }
  return std::nullopt;
}

std::vector<web::DownloadView> NodeDownloads::list() const {
  std::vector<web::DownloadView> out;
  std::size_t pos = 0;
  for (const auto& d : queue_.entries()) {
    web::DownloadView v;
    v.info_hash = d.id;
    v.name = d.name;
    v.size = d.size;
    v.state = std::string(download_state_name(d.state));
    v.position = ++pos;
    v.error = d.error;
    v.path = shown_path(d).string();
    v.only = d.only;
    v.verified_bytes = d.verified_bytes;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace p2p

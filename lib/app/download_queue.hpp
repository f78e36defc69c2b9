// The order and states of a node's downloads (p2p-seed, POST /api/downloads):
// a plain class, no sockets, no disk, no clock; NodeDownloads applies what it
// decides to the session. At most max_active downloads are checking or running
// at once; the others wait in list order. Pausing frees a slot; resuming puts
// the download back in line at its place; move swaps it with its neighbour.
// to_json/from_json give the crash-safe file's text (WORKDIR/.p2p/downloads.json).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

enum class DownloadState {
  queued,    // waiting for a slot
  checking,  // its slot taken: the lock, the final name, the .partial being opened
  running,   // in the session, fetching
  paused,    // set aside by the user (no slot)
  complete,  // verified at its final name (or, with `only`, the selected files verified), seeded
  failed,    // stopped with an error; resume retries
};
std::string_view download_state_name(DownloadState state);
std::optional<DownloadState> parse_download_state(std::string_view name);

struct QueuedDownload {
  std::string id;                     // the info hash, 64 lowercase hex digits
  std::string name;                   // the meta's name
  std::uint64_t size = 0;
  std::vector<std::string> only;      // a folder's files to fetch (fnmatch patterns); empty: all
  std::vector<std::string> trackers;  // added to the meta's own
  std::vector<std::string> peers;     // HOST:PORT dialled at start
  DownloadState state = DownloadState::queued;
  std::string error;                  // why it failed
  std::uint64_t verified_bytes = 0;   // as last seen
};

class DownloadQueue {
 public:
  static constexpr std::size_t kMaxDownloads = 10'000;
  static constexpr std::size_t kMaxActiveLimit = 100;

  explicit DownloadQueue(std::size_t max_active) : max_active_(max_active) {}
  std::size_t max_active() const { return max_active_; }
  const std::vector<QueuedDownload>& entries() const { return entries_; }
  QueuedDownload* find(std::string_view id);
  const QueuedDownload* find(std::string_view id) const;
  // 1-based place in the list, 0 if absent.
  std::size_t position(std::string_view id) const;
  std::size_t active() const;  // checking or running
  bool full() const { return entries_.size() >= kMaxDownloads; }

  // Appends (as given: queued, or complete when the file was already there);
  // false if the id is already listed or the list is full.
  bool add(QueuedDownload d);
  // The queued downloads to start now, in list order, so that at most max_active
  // are checking or running; they become `checking`.
  std::vector<std::string> start_next();

  // What happened to a download that was checking or running. Each returns false
  // (and changes nothing) when the id is absent or the change does not apply.
  bool started(std::string_view id);                            // checking -> running
  bool completed(std::string_view id);                          // checking/running -> complete
  // Any but paused -> failed (complete too: a finished file that is gone or changed).
  bool failed(std::string_view id, std::string why);
  void set_verified_bytes(std::string_view id, std::uint64_t n);

  // The user's actions.
  enum class Change { done, unchanged, unknown, not_applicable };
  Change pause(std::string_view id);   // queued/checking/running -> paused; paused: unchanged
  Change resume(std::string_view id);  // paused/failed -> queued; queued/checking/running: unchanged
  bool remove(std::string_view id);
  // Swaps with the nearest entry before (up) or after (down) that is not complete,
  // so that every move changes the order in which downloads start. unchanged at an end.
  Change move(std::string_view id, bool up);

  // The file's text; states checking/running are written as queued (they start
  // again first, in their place, after a restart).
  std::string to_json() const;
  // Parses that text. Entries that do not validate are skipped and named in
  // `problems` (one line each); a text that is not such a file at all gives an
  // empty queue and says why.
  static DownloadQueue from_json(std::string_view text, std::size_t max_active, std::vector<std::string>& problems);

 private:
  std::size_t max_active_;
  std::vector<QueuedDownload> entries_;
};

}  // namespace p2p

// What the node's API asks of a queue of downloads (p2p-seed: app/node_downloads):
// add one (POST /api/downloads), act on one, list them. Plain values only, so the
// web layer needs nothing of the app that implements it. Everything on the io thread.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/sha256.hpp"

namespace p2p::web {

struct ActionResult;

// POST /api/downloads: exactly one of meta_text (an uploaded meta, as JSON text),
// meta_path (a .p2pmeta on the node's disk) and info_hash (found on the trackers).
struct DownloadRequest {
  std::string meta_text;
  std::filesystem::path meta_path;
  std::string info_hash;
  std::vector<std::string> trackers;  // HOST:PORT; with info_hash, empty: the node's own
  std::vector<std::string> peers;     // HOST:PORT to dial
  std::vector<std::string> only;      // a folder's files to fetch (fnmatch patterns)
  std::string origin = "the uploaded meta";  // names meta_text in errors (a watched file's path)
};

// One download as the API shows it.
struct DownloadView {
  std::string info_hash;  // hex
  std::string name;
  std::uint64_t size = 0;
  std::string state;      // queued, checking, running, paused, complete, failed
  std::size_t position = 0;  // 1-based place in the queue
  std::string error;
  std::string path;       // where it is on disk once complete (shown only then)
  std::vector<std::string> only;
  std::uint64_t verified_bytes = 0;  // last known (the session's figure when it is there)
};

enum class DownloadAction { pause, resume, remove, up, down };

class DownloadControl {
 public:
  virtual ~DownloadControl() = default;
  virtual void add(DownloadRequest request, std::function<void(ActionResult)> done) = 0;
  // nullopt when the file is not one of the queue's (or the action is for the
  // session to take: pausing a finished download pauses its seeding).
  virtual std::optional<ActionResult> act(const Digest& info_hash, DownloadAction action) = 0;
  virtual std::vector<DownloadView> list() const = 0;
};

}  // namespace p2p::web

// A session snapshot as the JSON the page and the API read (docs/API.md):
// pure functions of plain values, unit-tested without sockets.
#pragma once
#include <string>
#include <string_view>

#include "swarm/policy/transfer_bottleneck.hpp"
#include "swarm/session_snapshot.hpp"
#include "web/download_control.hpp"
#include "web/event_log.hpp"
#include "web/rate_history.hpp"

namespace p2p::web {

struct NodeIdentity {
  std::string kind;  // "seed" or "download"
  bool can_add = false;  // whether POST /api/files is served (p2p-seed)
  bool can_download = false;  // whether POST /api/downloads is served (p2p-seed --http)
  std::vector<std::string> trackers;  // the node's own (--tracker): used for an info hash added alone
};

// What limits this file's transfer now (TransferBottleneck over its numbers and the node's).
Bottleneck file_bottleneck(const SessionSnapshot& s, const TorrentSnapshot& t);

inline constexpr std::size_t kMaxPeerRows = 500;
// {"node": {...}, "files": [...], "counters": {...}}; `with_peers` adds each
// file's peer table (the live page), at most `max_peers` rows over all files.
// A file that is one of `downloads` gets "download": {"state", "position"} (and
// "path" once complete); a download not in the session (queued, paused, ...) is
// listed after the session's files with that state as its phase.
std::string status_json(const SessionSnapshot& s, const NodeIdentity& id, const RateSample& rates, bool with_peers,
                        std::size_t max_peers = kMaxPeerRows, const std::vector<DownloadView>& downloads = {});
// {"downloads": [...]} in queue order (GET /api/downloads).
std::string downloads_json(const std::vector<DownloadView>& downloads);
// {"info_hash":..., "peers": [...], "banned": [...]} for one file.
std::string peers_json(const TorrentSnapshot& t);
std::string event_json(const LoggedEvent& e);
std::string history_json(const RateHistory& h);

}  // namespace p2p::web

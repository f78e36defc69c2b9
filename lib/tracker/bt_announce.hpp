// The BitTorrent HTTP dialect of /announce and /scrape (BEP 3, 23, 7, 48; v2
// hashes per BEP 52): 20 raw info-hash bytes in, bencoded answers out, over the
// same SwarmStore as the JSON dialect (keys from bt_swarm.hpp). Api hands a
// request here when its info_hash decodes to 20 bytes and the dialect is on.
#pragma once
#include <string>
#include <string_view>

#include "base/task.hpp"
#include "net/http_types.hpp"
#include "tracker/bt_swarm.hpp"
#include "tracker/query.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

// True when the request speaks the BitTorrent dialect: its (first) info_hash is 20 bytes.
bool is_bt_request(const Query& query);

// A refusal, answered as HTTP 200 with a bencoded "failure reason" (what clients
// show to their user); counted under `status` in /metrics.
struct BtRefusal {
  int status;
  std::string reason;
};

// The bencoded failure answer.
std::string bt_failure(std::string_view reason);

class BtAnnounce {
 public:
  BtAnnounce(SwarmStore& swarms, const BtPolicy& policy, int interval_seconds)
      : swarms_(swarms), policy_(policy), interval_(interval_seconds) {}

  // Both parse everything from `query` before their first co_await (Api reuses it).
  // `remote_ip` must outlive the task. Refusals are thrown as BtRefusal.
  Task<void> announce(const Query& query, std::string_view remote_ip, Clock::time_point now, net::HttpResponse& out);
  Task<void> scrape(const Query& query, net::HttpResponse& out);
  // GET /bittorrent (JSON, for the dashboard): up to kMaxListed swarms with their counts.
  static constexpr std::size_t kMaxListed = 200;
  Task<void> swarms_json(net::HttpResponse& out);

 private:
  SwarmStore& swarms_;
  const BtPolicy& policy_;
  int interval_;
};

// Appends the compact form of peers (BEP 23: 4 bytes address + 2 port; BEP 7: 16 + 2)
// to v4 and v6; entries whose ip is not numeric are skipped.
void compact_peers(const std::vector<PeerEntry>& peers, std::string& v4, std::string& v6);

}  // namespace p2p::tracker

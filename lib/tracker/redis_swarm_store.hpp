// Swarms in Redis (layout in redis_layout.hpp): a known peer's periodic
// announce is five pipelined plain commands; anything else is one EVALSHA
// whose script updates the swarm and picks peers atomically. Every tracker
// sharing the Redis answers alike; one at a time sweeps out silent peers.
#pragma once
#include "tracker/redis_client.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

class RedisSwarmStore final : public SwarmStore {
 public:
  RedisSwarmStore(RedisClient& redis, int interval_seconds);

  Task<AnnounceReply> announce(const AnnounceInput& in, Clock::time_point now) override;
  Task<std::vector<SwarmCounts>> counts(std::span<const Digest> info_hashes) override;
  Task<std::vector<PeerEntry>> peers(const Digest& info_hash, std::size_t max) override;
  // Whichever tracker takes the sweep lock (SET NX PX) walks every swarm;
  // the others return 0 at once.
  Task<std::size_t> expire(Clock::time_point now) override;
  Task<SwarmTotals> totals() override;
  // SSCAN ... MATCH *<hex suffix>: at most kScanCalls round trips.
  Task<std::vector<Digest>> swarms_with_suffix(std::span<const std::uint8_t> suffix, std::size_t max) override;

 private:
  RedisClient& redis_;
  int interval_seconds_;
  std::int64_t window_ms_;    // how long a silent peer stays: kExpiryIntervals intervals
  std::string max_swarms_, max_per_swarm_, max_total_;  // limits as the script reads them
  std::string instance_id_;   // value of the sweep lock while we hold it
};

// "<flags 0-3> <port> <ip>" as stored in the peers hash, checked field by field.
PeerEntry parse_peer_value(std::string_view value);

}  // namespace p2p::tracker

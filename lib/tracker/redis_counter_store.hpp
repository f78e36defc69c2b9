// Request counters summed over every tracker sharing one Redis: each process
// adds what it counted since its last flush (MULTI/EXEC of HINCRBYs, every
// kCounterFlushInterval), and /stats and /metrics read the sums plus what
// this process has not flushed yet.
#pragma once
#include "tracker/redis_client.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

class RedisCounterStore final : public CounterStore {
 public:
  explicit RedisCounterStore(RedisClient& redis) : redis_(redis) {}

  Task<void> flush(Counters& pending) override;
  Task<Counters> totals(const Counters& pending) override;

 private:
  RedisClient& redis_;
};

}  // namespace p2p::tracker

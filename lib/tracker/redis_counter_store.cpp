// Counter flushes and reads. MULTI/EXEC makes a flush all or nothing, so a
// connection lost half-way never counts part of it and then all of it again.
#include "tracker/redis_counter_store.hpp"

#include <unordered_map>

#include "tracker/redis_layout.hpp"

namespace p2p::tracker {

Task<void> RedisCounterStore::flush(Counters& pending) {
  Counters sent = pending;  // more may be counted while we wait; only this much is subtracted
  std::vector<RedisCommand> cmds;
  cmds.push_back({"MULTI"});
  const std::string key = redis_layout::counters_key();
  sent.for_each([&](const std::string& name, std::uint64_t& value) {
    if (value != 0) cmds.push_back({"HINCRBY", key, name, std::to_string(value)});
  });
  if (cmds.size() == 1) co_return;
  const std::size_t increments = cmds.size() - 1;
  cmds.push_back({"EXEC"});
  std::vector<RedisValue> replies = co_await redis_.pipeline(std::move(cmds));
  replies.front().expect_status("MULTI");
  replies.back().as_array("EXEC of the counter flush", increments, increments);
  pending -= sent;
}

Task<Counters> RedisCounterStore::totals(const Counters& pending) {
  RedisCommand cmd{"HGETALL", redis_layout::counters_key()};
  RedisValue v = co_await redis_.command(std::move(cmd));
  const auto& a = v.as_array("the counters", 0, 2 * 1024);
  std::unordered_map<std::string, std::uint64_t> fields;
  for (std::size_t i = 0; i + 1 < a.size(); i += 2)
    fields[a[i].as_string("a counter name", 64)] = static_cast<std::uint64_t>(a[i + 1].as_int("a counter", 0, INT64_MAX));
  Counters totals;
  // Names this version does not know (a newer tracker's) are ignored.
  totals.for_each([&](const std::string& name, std::uint64_t& value) {
    if (auto it = fields.find(name); it != fields.end()) value = it->second;
  });
  // Read after the reply: a flush whose EXEC came first has already been subtracted.
  totals += pending;
  co_return totals;
}

}  // namespace p2p::tracker

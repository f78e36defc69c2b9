// Redis swarm store: announce script calls and pipelined reads, every reply
// checked against the limits before it is believed.
#include "tracker/redis_swarm_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <random>

#include "tracker/redis_layout.hpp"
#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

namespace layout = redis_layout;

namespace {

constexpr std::size_t kMaxPeerValueBytes = 64;  // "1 65535 " + the longest IPv6 text (45)
constexpr auto kMaxCount = static_cast<std::int64_t>(limits::kMaxPeersTotal);

std::string_view event_name(Event e) {
  switch (e) {
    case Event::started: return "started";
    case Event::completed: return "completed";
    case Event::stopped: return "stopped";
    default: return "periodic";
  }
}

// Last-announce times are ms since the epoch by the trackers' clocks (NTP keeps
// them within milliseconds; expiry works in intervals of seconds).
std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_instance_id() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

}  // namespace

PeerEntry parse_peer_value(std::string_view v) {
  PeerEntry p;
  auto fail = [&](std::string_view why) { unexpected_answer("a peer record", fmt::format("{}: {:?}", why, std::string(v.substr(0, 64)))); };
  if (v.size() < 5 || v.size() > kMaxPeerValueBytes || v[0] < '0' || v[0] > '3' || v[1] != ' ') fail("malformed");
  p.seeder = ((v[0] - '0') & 1) != 0;  // bit 2 says its completed event was counted
  v.remove_prefix(2);
  auto space = v.find(' ');
  if (space == std::string_view::npos) fail("no address");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + space, port);
  if (ec != std::errc() || end != v.data() + space || port == 0 || port > 65535) fail("bad port");
  p.port = static_cast<std::uint16_t>(port);
  std::string_view ip = v.substr(space + 1);
  if (ip.empty() || ip.find_first_not_of("0123456789abcdefABCDEF.:") != std::string_view::npos) fail("bad address");
  p.ip.assign(ip);
  return p;
}

RedisSwarmStore::RedisSwarmStore(RedisClient& redis, int interval_seconds)
    : redis_(redis), interval_seconds_(interval_seconds),
      window_ms_(std::int64_t{interval_seconds} * 1000 * limits::kExpiryIntervals),
      max_swarms_(std::to_string(limits::kMaxSwarms)),
      max_per_swarm_(std::to_string(limits::kMaxPeersPerSwarm)),
      max_total_(std::to_string(limits::kMaxPeersTotal)),
      instance_id_(random_instance_id()) {}

// The common announce, a known peer's periodic one, costs Redis a third of the
// script: refresh its time (ZADD XX never adds), read its record, the counts
// (kept by the scripts in the swarm's stat hash) and random peers: four plain
// commands, pipelined. If the record is not what this announce says
// (new peer, new port or address, seeder now, expired meanwhile), the script
// redoes the announce with every rule, atomically.
Task<AnnounceReply> RedisSwarmStore::announce(const AnnounceInput& in, Clock::time_point) {
  const std::string ih = to_hex(in.info_hash), peer_id = to_hex(in.peer_id), now = std::to_string(unix_ms());
  const bool seeder = in.left == 0;
  if (in.event == Event::periodic) {
    std::vector<RedisCommand> cmds(in.numwant > 0 ? 4 : 3);
    cmds[0].add("ZADD").add_joined({layout::kSwarmPrefix, ih}).add("XX").add(now).add(peer_id);
    cmds[1].add("HGET").add_joined({layout::kPeersPrefix, ih}).add(peer_id);
    cmds[2].add("HMGET").add_joined({layout::kSwarmStatPrefix, ih}).add("peers").add("seeders");
    if (in.numwant > 0)
      cmds[3].add("HRANDFIELD").add_joined({layout::kPeersPrefix, ih}).add(std::to_string(in.numwant + 1)).add("WITHVALUES");
    std::vector<RedisValue> r = co_await redis_.pipeline(std::move(cmds));
    if (r[0].is_error()) unexpected_answer("announce", r[0].describe());
    std::optional<std::string> record = r[1].as_optional_string("a peer record", kMaxPeerValueBytes);
    if (record) {
      PeerEntry known = parse_peer_value(*record);
      if (known.seeder == seeder && known.port == in.port && known.ip == in.ip) {
        AnnounceReply reply;
        const auto& counts = r[2].as_array("swarm counts", 2, 2);
        // The asker is in the swarm, so it has at least one peer whatever a drifted counter says.
        std::int64_t n = counts[0].is_nil() ? 1 : std::max<std::int64_t>(1, counts[0].as_int("swarm size", -kMaxCount, kMaxCount));
        std::int64_t s = counts[1].is_nil() ? 0 : counts[1].as_int("swarm seeders", -kMaxCount, kMaxCount);
        reply.result.seeders = static_cast<std::size_t>(std::clamp<std::int64_t>(s, 0, n));
        reply.result.leechers = static_cast<std::size_t>(n) - reply.result.seeders;
        if (in.numwant > 0) {
          const auto& a = r[3].as_array("announce peers", 0, 2 * (static_cast<std::size_t>(in.numwant) + 1));
          if (a.size() % 2 != 0) unexpected_answer("announce peers", "an odd number of elements");
          for (std::size_t i = 0; i < a.size() && reply.peers.size() < static_cast<std::size_t>(in.numwant); i += 2)
            if (a[i].as_string("a peer id", 40) != peer_id)
              reply.peers.push_back(parse_peer_value(a[i + 1].as_string("announce peers", kMaxPeerValueBytes)));
        }
        co_return reply;
      }
    }
  }
  RedisCommand cmd = redis_.script_call(
      layout::kAnnounce,
      {layout::kPrefix, ih, peer_id, fmt::format("{} {} {}", seeder ? 1 : 0, in.port, in.ip), event_name(in.event),
       std::to_string(in.numwant), now, max_swarms_, max_per_swarm_, max_total_});
  RedisValue v = co_await redis_.command(std::move(cmd));
  const auto& a = v.as_array("announce", 4, 4 + static_cast<std::size_t>(in.numwant));
  AnnounceReply reply;
  reply.result.status = static_cast<AnnounceStatus>(a[0].as_int("announce status", 0, 3));
  reply.result.seeders = static_cast<std::size_t>(a[1].as_int("announce seeders", 0, kMaxCount));
  reply.result.leechers = static_cast<std::size_t>(a[2].as_int("announce leechers", 0, kMaxCount));
  reply.result.completed_now = a[3].as_int("announce completed", 0, 1) == 1;
  reply.peers.reserve(a.size() - 4);
  for (std::size_t i = 4; i < a.size(); ++i)
    reply.peers.push_back(parse_peer_value(a[i].as_string("announce peers", kMaxPeerValueBytes)));
  co_return reply;
}

Task<std::vector<SwarmCounts>> RedisSwarmStore::counts(std::span<const Digest> info_hashes) {
  std::vector<RedisCommand> cmds;
  cmds.reserve(info_hashes.size() * 2);
  for (const Digest& d : info_hashes) {
    std::string ih = to_hex(d);
    cmds.push_back({"HMGET", layout::swarm_stat_key(ih), "seeders", "completed"});
    cmds.push_back({"HLEN", layout::peers_key(ih)});
  }
  std::vector<SwarmCounts> out;
  if (cmds.empty()) co_return out;
  std::vector<RedisValue> replies = co_await redis_.pipeline(std::move(cmds));
  for (std::size_t i = 0; i < info_hashes.size(); ++i) {
    const auto& stat = replies[2 * i].as_array("swarm counts", 2, 2);
    auto peers = static_cast<std::size_t>(replies[2 * i + 1].as_int("swarm size", 0, kMaxCount));
    std::int64_t s = stat[0].is_nil() ? 0 : stat[0].as_int("swarm seeders", -kMaxCount, kMaxCount);
    auto seeders = static_cast<std::size_t>(std::clamp<std::int64_t>(s, 0, static_cast<std::int64_t>(peers)));
    std::uint64_t completed = stat[1].is_nil() ? 0 : static_cast<std::uint64_t>(stat[1].as_int("swarm completed", 0, INT64_MAX));
    out.push_back(SwarmCounts{seeders, peers - seeders, completed});
  }
  co_return out;
}

Task<std::vector<PeerEntry>> RedisSwarmStore::peers(const Digest& info_hash, std::size_t max) {
  std::vector<PeerEntry> out;
  if (max == 0) co_return out;
  RedisCommand cmd{"HRANDFIELD", layout::peers_key(to_hex(info_hash)), std::to_string(max), "WITHVALUES"};
  RedisValue v = co_await redis_.command(std::move(cmd));
  const auto& a = v.as_array("swarm peers", 0, 2 * max);
  if (a.size() % 2 != 0) unexpected_answer("swarm peers", "an odd number of elements");
  RedisCommand scores{"ZMSCORE", layout::swarm_key(to_hex(info_hash))};
  for (std::size_t i = 1; i < a.size(); i += 2) {
    out.push_back(parse_peer_value(a[i].as_string("swarm peers", kMaxPeerValueBytes)));
    scores.add(a[i - 1].as_string("a peer id", 64));
  }
  if (out.empty()) co_return out;
  // Last announces (ZSET scores, ms since the epoch), for the dashboard's detail view.
  RedisValue s = co_await redis_.command(std::move(scores));
  const auto& sa = s.as_array("last announces", out.size(), out.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (auto text = sa[i].as_optional_string("a last announce", 32))
      out[i].last_announce_ms = static_cast<std::int64_t>(std::strtod(text->c_str(), nullptr));
  co_return out;
}

Task<std::size_t> RedisSwarmStore::expire(Clock::time_point) {
  // The lock lives about as long as one sweep period, so one tracker sweeps per period.
  auto period_ms = std::max<std::int64_t>(250, std::int64_t{interval_seconds_} * 1000 / 2);
  RedisCommand cmd{"SET", layout::sweep_lock_key(), instance_id_, "NX", "PX", std::to_string(period_ms)};
  RedisValue lock = co_await redis_.command(std::move(cmd));
  if (lock.is_nil()) co_return 0;  // another tracker sweeps this period
  lock.expect_status("the sweep lock");
  std::size_t dropped = 0;
  std::string cursor = "0";
  // SSCAN guarantees every swarm present for the whole walk is visited; the
  // walk is bounded because the cursor returns to 0.
  for (std::size_t calls = 0; calls < limits::kMaxSwarms; ++calls) {
    RedisCommand sweep = redis_.script_call(
        layout::kSweep, {std::string(layout::kPrefix), cursor, std::to_string(limits::kRedisSweepSwarmsPerCall),
                         std::to_string(unix_ms() - window_ms_), std::to_string(limits::kRedisExpireBatch)});
    RedisValue v = co_await redis_.command(std::move(sweep));
    const auto& a = v.as_array("sweep", 2, 2);
    cursor = a[0].as_string("sweep cursor", 20);
    dropped += static_cast<std::size_t>(a[1].as_int("sweep count", 0, kMaxCount));
    if (cursor == "0") break;
  }
  co_return dropped;
}

Task<std::vector<Digest>> RedisSwarmStore::swarms_with_suffix(std::span<const std::uint8_t> suffix, std::size_t max) {
  // A page of the dashboard, not a full walk: 16 calls of 1,000 members.
  constexpr std::size_t kScanCalls = 16;
  std::vector<Digest> out;
  std::string cursor = "0", pattern = "*" + to_hex(suffix);
  for (std::size_t calls = 0; calls < kScanCalls && out.size() < max; ++calls) {
    RedisCommand scan{std::string_view("SSCAN"), layout::swarms_key(), cursor, std::string_view("MATCH"), pattern,
                      std::string_view("COUNT"), std::string_view("1000")};
    RedisValue v = co_await redis_.command(std::move(scan));
    const auto& a = v.as_array("swarm scan", 2, 2);
    cursor = a[0].as_string("swarm scan cursor", 20);
    for (const RedisValue& m : a[1].as_array("swarm scan members", 0, 100'000)) {
      Digest d{};
      if (digest_from_hex(m.as_string("a swarm key", 64), d) && out.size() < max) out.push_back(d);
    }
    if (cursor == "0") break;
  }
  co_return out;
}

Task<SwarmTotals> RedisSwarmStore::totals() {
  std::vector<RedisCommand> cmds;
  cmds.push_back({"SCARD", layout::swarms_key()});
  cmds.push_back({"HMGET", layout::stats_key(), "peers", "seeders", "expired_peers"});
  std::vector<RedisValue> r = co_await redis_.pipeline(std::move(cmds));
  const auto& stats = r[1].as_array("stats", 3, 3);
  auto field = [&](std::size_t i, std::string_view what) -> std::int64_t {
    if (stats[i].is_nil()) return 0;
    return std::max<std::int64_t>(0, stats[i].as_int(what, -kMaxCount, INT64_MAX));  // a drifted counter reads as 0, not garbage
  };
  SwarmTotals t;
  t.swarms = static_cast<std::size_t>(r[0].as_int("swarm count", 0, kMaxCount));
  t.peers = static_cast<std::size_t>(field(0, "peer count"));
  t.seeders = static_cast<std::size_t>(field(1, "seeder count"));
  t.expired_peers = static_cast<std::uint64_t>(field(2, "expired peer count"));
  co_return t;
}

}  // namespace p2p::tracker

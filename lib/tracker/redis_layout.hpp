// How the tracker's state lies in Redis (documented in docs/TRACKER.md): every
// key starts with a version prefix, so a future layout can live beside this one
// and a tracker never misreads another version's keys. The Lua scripts that
// change several keys at once live here too: each runs atomically in Redis, so
// N trackers never see half an announce and expire each peer exactly once.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.hpp"

namespace p2p::tracker::redis_layout {

inline constexpr std::string_view kPrefix = "p2p:v1:";
// Key prefixes of the per-swarm keys, for building keys in place (RedisCommand::add_joined).
inline constexpr std::string_view kSwarmPrefix = "p2p:v1:swarm:";
inline constexpr std::string_view kPeersPrefix = "p2p:v1:peers:";
inline constexpr std::string_view kSwarmStatPrefix = "p2p:v1:swarmstat:";

// Per swarm (info hash in lower-case hex):
std::string swarm_key(std::string_view ih);       // ZSET peer_id -> last announce, ms since the epoch
std::string peers_key(std::string_view ih);       // HASH peer_id -> "<flags> <port> <ip>", flags 1 seeder + 2 completed
std::string swarm_stat_key(std::string_view ih);  // HASH peers, seeders, completed
// Per published file:
std::string catalog_key(std::string_view ih);     // HASH name size piece_size published completed meta owner
// Global:
std::string withdrawn_key();   // SET of info hashes withdrawn by their owner (and not published again)
std::string names_key();       // ZSET (all scores 0) "<name>\0<ih>": sorted by name for /files and lookups
std::string swarms_key();      // SET of info hashes with at least one peer
std::string stats_key();       // HASH peers, seeders, expired_peers
std::string counters_key();    // HASH request counters summed over every tracker (Counters::for_each names)
std::string sweep_lock_key();  // STRING: the tracker holding it runs the periodic sweep (SET NX PX)

// Script indices for RedisClient::script_call; every script takes the prefix as ARGV[1].
enum Script : std::size_t {
  kAnnounce,       // ih, peer_id, "<0|1 seeder> PORT IP", event, numwant, now_ms, max_swarms, max_per_swarm,
                   //   max_total -> {status, seeders, leechers, completed_now, peer values...}
  kSweep,          // cursor, swarms per call, cutoff_ms, batch -> {next cursor, peers dropped}
  kPublish,        // ih, name, size, piece_size, published, meta, owner hash, max files
                   //   -> {created 0|1, name, size, piece_size, published, completed} or {2} when full
  kFindByName,     // name -> {} or {ih, name, size, piece_size, published, completed}
  kListFiles,      // substring, exclusive start ('-' first), rows wanted, names to scan
                   //   -> {cursor ('' at the end), then ih, name, size, piece_size, published, completed per row}
  kWithdraw,       // ih, owner hash -> 0 not found, 1 withdrawn, 2 no owner, 3 wrong token
  kNoteCompleted,  // ih -> new count, or -1 when not published
  kScriptCount
};

// The Lua sources, indexed by Script.
std::vector<std::string> scripts();

}  // namespace p2p::tracker::redis_layout

namespace p2p::tracker {
// For RedisClient's constructor.
inline std::vector<std::string> redis_scripts() { return redis_layout::scripts(); }
}  // namespace p2p::tracker

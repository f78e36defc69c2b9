// Where the tracker keeps its state, behind three small interfaces so the API
// is one piece of code over any store: swarms (who is in which swarm), the
// catalog (published metas, owner tokens, completed counts) and the request
// counters behind /stats and /metrics. Answers are Tasks: the embedded store
// (memory + SQLite) answers at once, the Redis store after a round trip.
// Arguments passed by reference must outlive the task: always co_await a
// store call in the expression that makes it.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.hpp"
#include "base/task.hpp"
#include "format/meta.hpp"
#include "tracker/metrics.hpp"
#include "tracker/swarm_registry.hpp"

namespace p2p::tracker {

// The store cannot answer now: unreachable, reconnecting, too slow, or it
// answered something that makes no sense. Requests get 503 with this text.
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PeerEntry {
  std::string ip;  // numeric
  std::uint16_t port = 0;
  bool seeder = false;
  std::int64_t last_announce_ms = 0;  // unix ms of its last announce; 0 when the store cannot say
};

struct AnnounceReply {
  AnnounceResult result;
  std::vector<PeerEntry> peers;  // a uniformly random subset of the *other* peers, at most numwant
};

struct SwarmCounts {
  std::size_t seeders = 0, leechers = 0;
  std::uint64_t completed = 0;  // completed events while the swarm had peers (unpublished files)
};

struct SwarmTotals {
  std::size_t swarms = 0, peers = 0, seeders = 0;
  std::uint64_t expired_peers = 0;  // dropped for silence, ever (embedded: since start)
};

class SwarmStore {
 public:
  virtual ~SwarmStore() = default;
  // True when every Task this store returns is ready at once (no round trip), so a
  // caller may answer in the same call without a coroutine frame (the UDP tracker).
  virtual bool answers_at_once() const noexcept { return false; }
  // Adds, refreshes or (event stopped) removes the peer, within the limits of
  // tracker_limits.hpp (a refusal is result.status).
  virtual Task<AnnounceReply> announce(const AnnounceInput& in, Clock::time_point now) = 0;
  // One entry per hash, in order; unknown swarms count zero.
  virtual Task<std::vector<SwarmCounts>> counts(std::span<const Digest> info_hashes) = 0;
  // Up to `max` live peers of the swarm (any order).
  virtual Task<std::vector<PeerEntry>> peers(const Digest& info_hash, std::size_t max) = 0;
  // Drops peers silent for kExpiryIntervals intervals; returns how many this call dropped.
  virtual Task<std::size_t> expire(Clock::time_point now) = 0;
  virtual Task<SwarmTotals> totals() = 0;
  // Up to `max` swarm keys ending in `suffix` (the BitTorrent swarms' tag, for the
  // dashboard), in no particular order; a bounded walk, so possibly not all of them.
  virtual Task<std::vector<Digest>> swarms_with_suffix(std::span<const std::uint8_t> suffix, std::size_t max) = 0;
};

struct FileRecord {
  Digest info_hash{};
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t piece_size = 0;
  std::int64_t published = 0;   // unix seconds, when the catalog first stored it
  std::uint64_t completed = 0;  // downloads reported complete
};

// What the catalog keeps of a validated meta: the fields it lists and the JSON
// exactly as it was published (served back by GET /meta, so never larger than
// what a downloader accepts: limits::kMaxPublishBytes).
struct PublishedMeta {
  Digest info_hash{};
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t piece_size = 0;
  std::string text;

  static PublishedMeta of(const Meta& meta, std::string text) {
    return PublishedMeta{meta.info_hash, meta.name, meta.size, meta.piece_size, std::move(text)};
  }
  std::string info_hash_hex() const { return to_hex(info_hash); }
};

struct PublishOutcome {
  bool created = false;  // false: the same info hash was already stored (its owner stays)
  FileRecord record;
};

enum class WithdrawStatus {
  withdrawn,
  not_found,
  no_owner,     // published before owner tokens existed: cannot be withdrawn over HTTP
  wrong_token,
};

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;
  // Stores a meta the caller has validated (its bytes as published), with the
  // SHA-256 of its owner token. Throws Error(tracker) when the catalog is full.
  virtual Task<PublishOutcome> publish(const PublishedMeta& meta, const Digest& owner_token_hash) = 0;
  virtual Task<std::optional<FileRecord>> find(const Digest& info_hash) = 0;
  // Exact name; when several files share it, the most recently published.
  virtual Task<std::optional<FileRecord>> find_by_name(const std::string& name) = 0;
  // Files whose name contains `substring` (case-sensitive; empty = all), sorted by name.
  virtual Task<std::vector<FileRecord>> list(const std::string& substring, std::size_t limit) = 0;
  // The stored meta JSON, as it was published.
  virtual Task<std::optional<std::string>> meta_json(const Digest& info_hash) = 0;
  // Removes the file if owner_token_hash matches the one stored at publish.
  virtual Task<WithdrawStatus> withdraw(const Digest& info_hash, const Digest& owner_token_hash) = 0;
  // Counts a completed download (no-op for files never published).
  virtual Task<void> note_completed(const Digest& info_hash) = 0;
  // The completed counter of each published file, nullopt for the others.
  virtual Task<std::vector<std::optional<std::uint64_t>>> completed(std::span<const Digest> info_hashes) = 0;
  virtual Task<std::size_t> size() = 0;
  // Files withdrawn by their owner (and not published again since): announces for
  // them answer "withdrawn" so that seeders stop. At most limits::kMaxWithdrawn.
  virtual Task<std::vector<Digest>> withdrawn() = 0;
  // Makes batched writes durable (embedded: counters to SQLite).
  virtual Task<void> flush() = 0;
};

class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // Adds `pending` (this process's counts since the last flush) to the totals
  // and subtracts from it what was added.
  virtual Task<void> flush(Counters& pending) = 0;
  // Totals over every tracker sharing the store, `pending` included.
  virtual Task<Counters> totals(const Counters& pending) = 0;
};

}  // namespace p2p::tracker

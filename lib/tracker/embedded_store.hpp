// The embedded store: swarms in this process's memory (SwarmRegistry), the
// catalog in SQLite (Catalog), counters in memory. Nothing to install for one
// machine; every answer is ready at once (Task::ready), so the API's
// asynchronous interface costs this path no coroutine frame.
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "tracker/catalog.hpp"
#include "tracker/swarm_registry.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

class EmbeddedSwarmStore final : public SwarmStore {
 public:
  EmbeddedSwarmStore(std::uint64_t seed, int interval_seconds);
  bool answers_at_once() const noexcept override { return true; }

  Task<AnnounceReply> announce(const AnnounceInput& in, Clock::time_point now) override;
  Task<std::vector<SwarmCounts>> counts(std::span<const Digest> info_hashes) override;
  Task<std::vector<PeerEntry>> peers(const Digest& info_hash, std::size_t max) override;
  Task<std::size_t> expire(Clock::time_point now) override;
  Task<SwarmTotals> totals() override;
  Task<std::vector<Digest>> swarms_with_suffix(std::span<const std::uint8_t> suffix, std::size_t max) override;

  SwarmRegistry& registry() { return registry_; }

 private:
  SwarmRegistry registry_;
  int interval_seconds_;
  std::uint64_t expired_total_ = 0;
  std::vector<const Peer*> selected_;  // reused: announces run one at a time on this path
};

class EmbeddedCatalogStore final : public CatalogStore {
 public:
  explicit EmbeddedCatalogStore(const std::filesystem::path& db_path) : catalog_(db_path) {}

  Task<PublishOutcome> publish(const PublishedMeta& meta, const Digest& owner_token_hash) override;
  Task<std::optional<FileRecord>> find(const Digest& info_hash) override;
  Task<std::optional<FileRecord>> find_by_name(const std::string& name) override;
  Task<std::vector<FileRecord>> list(const std::string& substring, std::size_t limit) override;
  Task<std::optional<std::string>> meta_json(const Digest& info_hash) override;
  Task<WithdrawStatus> withdraw(const Digest& info_hash, const Digest& owner_token_hash) override;
  Task<void> note_completed(const Digest& info_hash) override;
  Task<std::vector<std::optional<std::uint64_t>>> completed(std::span<const Digest> info_hashes) override;
  Task<std::size_t> size() override;
  Task<std::vector<Digest>> withdrawn() override;
  Task<void> flush() override;

  Catalog& catalog() { return catalog_; }

 private:
  Catalog catalog_;
};

// Counters of one process: what is pending is all there is.
class EmbeddedCounterStore final : public CounterStore {
 public:
  Task<void> flush(Counters&) override { return Task<void>::ready(); }
  Task<Counters> totals(const Counters& pending) override { return Task<Counters>::ready(pending); }
};

}  // namespace p2p::tracker

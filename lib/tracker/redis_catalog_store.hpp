// The catalog in Redis (layout in redis_layout.hpp): one hash per published
// file (metadata, normalised meta JSON, owner token hash, completed count) and
// a name index. What changes several keys is a Lua script, so a publish on one
// tracker and a withdraw on another never interleave.
#pragma once
#include "tracker/redis_client.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

class RedisCatalogStore final : public CatalogStore {
 public:
  explicit RedisCatalogStore(RedisClient& redis) : redis_(redis) {}

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
  Task<void> flush() override { return Task<void>::ready(); }  // every write is already in Redis

 private:
  RedisClient& redis_;
};

}  // namespace p2p::tracker

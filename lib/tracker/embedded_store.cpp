// Embedded store: the SwarmStore and CatalogStore interfaces over the
// in-memory registry and the SQLite catalog, answering synchronously.
#include "tracker/embedded_store.hpp"

#include <algorithm>

#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

// --- swarms ---------------------------------------------------------------------------

EmbeddedSwarmStore::EmbeddedSwarmStore(std::uint64_t seed, int interval_seconds)
    : registry_(seed), interval_seconds_(interval_seconds) {
  selected_.reserve(limits::kMaxNumwant);
}

Task<AnnounceReply> EmbeddedSwarmStore::announce(const AnnounceInput& in, Clock::time_point now) {
  AnnounceReply reply;
  reply.result = registry_.announce(in, now, selected_);
  reply.peers.reserve(selected_.size());
  for (const Peer* p : selected_) reply.peers.push_back(PeerEntry{p->ip, p->port, p->seeder});
  return Task<AnnounceReply>::ready(std::move(reply));
}

Task<std::vector<SwarmCounts>> EmbeddedSwarmStore::counts(std::span<const Digest> info_hashes) {
  std::vector<SwarmCounts> out;
  out.reserve(info_hashes.size());
  for (const Digest& d : info_hashes) {
    const Swarm* s = registry_.find(d);
    out.push_back(s ? SwarmCounts{s->seeders(), s->leechers(), s->completed()} : SwarmCounts{});
  }
  return Task<std::vector<SwarmCounts>>::ready(std::move(out));
}

Task<std::vector<Digest>> EmbeddedSwarmStore::swarms_with_suffix(std::span<const std::uint8_t> suffix,
                                                                 std::size_t max) {
  std::vector<Digest> out;
  if (suffix.size() > Digest().size()) return Task<std::vector<Digest>>::ready(std::move(out));
  registry_.for_each_swarm([&](const Digest& key, const Swarm&) {
    if (out.size() >= max) return false;
    if (std::equal(suffix.begin(), suffix.end(), key.end() - static_cast<std::ptrdiff_t>(suffix.size())))
      out.push_back(key);
    return true;
  });
  return Task<std::vector<Digest>>::ready(std::move(out));
}

Task<std::vector<PeerEntry>> EmbeddedSwarmStore::peers(const Digest& info_hash, std::size_t max) {
  std::vector<PeerEntry> out;
  if (const Swarm* s = registry_.find(info_hash)) {
    auto list = s->peers();
    // last_seen is on the steady clock: shown as wall time by its age.
    auto sys_now = std::chrono::system_clock::now();
    auto now = Clock::now();
    for (std::size_t i = 0; i < list.size() && i < max; ++i) {
      auto at = sys_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(now - list[i].last_seen);
      out.push_back(PeerEntry{list[i].ip, list[i].port, list[i].seeder,
                              std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count()});
    }
  }
  return Task<std::vector<PeerEntry>>::ready(std::move(out));
}

Task<std::size_t> EmbeddedSwarmStore::expire(Clock::time_point now) {
  auto cutoff = now - std::chrono::seconds(interval_seconds_) * limits::kExpiryIntervals;
  std::size_t n = registry_.expire(cutoff);
  expired_total_ += n;
  return Task<std::size_t>::ready(n);
}

Task<SwarmTotals> EmbeddedSwarmStore::totals() {
  return Task<SwarmTotals>::ready(
      SwarmTotals{registry_.swarm_count(), registry_.peer_count(), registry_.seeder_count(), expired_total_});
}

// --- catalog ----------------------------------------------------------------------------

Task<PublishOutcome> EmbeddedCatalogStore::publish(const PublishedMeta& meta, const Digest& owner_token_hash) {
  auto r = catalog_.publish(meta, owner_token_hash);
  return Task<PublishOutcome>::ready(PublishOutcome{r.created, *r.record});
}

Task<std::optional<FileRecord>> EmbeddedCatalogStore::find(const Digest& info_hash) {
  const FileRecord* r = catalog_.find(info_hash);
  return Task<std::optional<FileRecord>>::ready(r ? std::optional<FileRecord>(*r) : std::nullopt);
}

Task<std::optional<FileRecord>> EmbeddedCatalogStore::find_by_name(const std::string& name) {
  const FileRecord* r = catalog_.find_by_name(name);
  return Task<std::optional<FileRecord>>::ready(r ? std::optional<FileRecord>(*r) : std::nullopt);
}

Task<std::vector<FileRecord>> EmbeddedCatalogStore::list(const std::string& substring, std::size_t limit) {
  std::vector<FileRecord> out;
  for (const FileRecord* r : catalog_.list(substring, limit)) out.push_back(*r);
  return Task<std::vector<FileRecord>>::ready(std::move(out));
}

Task<std::optional<std::string>> EmbeddedCatalogStore::meta_json(const Digest& info_hash) {
  return Task<std::optional<std::string>>::ready(catalog_.meta_json(info_hash));
}

Task<std::vector<Digest>> EmbeddedCatalogStore::withdrawn() {
  return Task<std::vector<Digest>>::ready(catalog_.withdrawn());
}

Task<WithdrawStatus> EmbeddedCatalogStore::withdraw(const Digest& info_hash, const Digest& owner_token_hash) {
  return Task<WithdrawStatus>::ready(catalog_.withdraw(info_hash, owner_token_hash));
}

Task<void> EmbeddedCatalogStore::note_completed(const Digest& info_hash) {
  catalog_.note_completed(info_hash);
  return Task<void>::ready();
}

Task<std::vector<std::optional<std::uint64_t>>> EmbeddedCatalogStore::completed(std::span<const Digest> info_hashes) {
  std::vector<std::optional<std::uint64_t>> out;
  out.reserve(info_hashes.size());
  for (const Digest& d : info_hashes) {
    const FileRecord* r = catalog_.find(d);
    out.push_back(r ? std::optional<std::uint64_t>(r->completed) : std::nullopt);
  }
  return Task<std::vector<std::optional<std::uint64_t>>>::ready(std::move(out));
}

Task<std::size_t> EmbeddedCatalogStore::size() { return Task<std::size_t>::ready(catalog_.size()); }

Task<void> EmbeddedCatalogStore::flush() {
  catalog_.flush();
  return Task<void>::ready();
}

}  // namespace p2p::tracker

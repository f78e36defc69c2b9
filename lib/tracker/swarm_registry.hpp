// The tracker's in-memory swarm registry: which peers are in which swarm, who
// seeds, who expired. Pure data structure (no sockets, no clock reads), so the
// announce rules are unit-tested directly; one thread owns it.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/sha256.hpp"

namespace p2p::tracker {

using Clock = std::chrono::steady_clock;
using PeerId = std::array<std::uint8_t, 20>;

// Hashes attacker-chosen keys (info hashes, peer ids) with a per-process
// secret, so crafted collisions cannot turn the maps into linked lists.
struct KeyedHash {
  std::uint64_t key = 0;
  std::size_t operator()(std::span<const std::uint8_t> bytes) const noexcept;
  std::size_t operator()(const Digest& d) const noexcept { return (*this)(std::span<const std::uint8_t>(d)); }
  std::size_t operator()(const PeerId& p) const noexcept { return (*this)(std::span<const std::uint8_t>(p)); }
};

// Parses 40 hex digits; false on anything else.
bool peer_id_from_hex(std::string_view hex, PeerId& out);

enum class Event { periodic, started, completed, stopped };

struct Peer {
  PeerId id{};
  std::uint16_t port = 0;
  bool seeder = false;  // announced left == 0
  // Sent "completed" (counted) already: a client announcing to several trackers
  // that share one store, or a repeat, is not a second download.
  bool completed = false;
  Clock::time_point last_seen{};
  std::string ip;       // numeric address the connection came from
};

class Swarm {
 public:
  std::span<const Peer> peers() const { return peers_; }
  std::size_t seeders() const { return seeders_; }
  std::size_t leechers() const { return peers_.size() - seeders_; }
  // "completed" events seen since the tracker started (a peer counts once per transition).
  std::uint64_t completed() const { return completed_; }

 private:
  friend class SwarmRegistry;
  // Small swarms are scanned; an index is built once a swarm outgrows this,
  // which keeps 10,000 swarms x 20 peers compact.
  static constexpr std::size_t kIndexThreshold = 32;

  std::ptrdiff_t find(const PeerId& id) const;
  void add(Peer peer, const KeyedHash& hash);
  void remove_at(std::size_t i);

  std::vector<Peer> peers_;
  std::unique_ptr<std::unordered_map<PeerId, std::uint32_t, KeyedHash>> index_;
  std::size_t seeders_ = 0;
  std::uint64_t completed_ = 0;
};

struct AnnounceInput {
  Digest info_hash{};
  PeerId peer_id{};
  std::string_view ip;
  std::uint16_t port = 0;
  Event event = Event::periodic;
  std::uint64_t left = 0;
  int numwant = 50;  // already clamped by the caller
};

enum class AnnounceStatus { ok, too_many_swarms, swarm_full, too_many_peers };

struct AnnounceResult {
  AnnounceStatus status = AnnounceStatus::ok;
  std::size_t seeders = 0, leechers = 0;
  bool completed_now = false;  // this announce counted a completed download
};

class SwarmRegistry {
 public:
  explicit SwarmRegistry(std::uint64_t seed);
  SwarmRegistry(std::uint64_t seed, std::size_t max_swarms, std::size_t max_peers_per_swarm,
                std::size_t max_peers_total);

  // Adds, refreshes or (event stopped) removes the peer, then fills `out` with a
  // uniformly random subset of at most numwant *other* peers. Pointers in
  // `out` stay valid until the next call that changes the registry.
  AnnounceResult announce(const AnnounceInput& in, Clock::time_point now, std::vector<const Peer*>& out);

  const Swarm* find(const Digest& info_hash) const;
  template <typename F>
  void for_each_swarm(F&& f) const {
    for (const auto& [key, swarm] : swarms_)
      if (!f(key, swarm)) return;  // f returns false to stop
  }
  // Drops peers last seen before `cutoff` and swarms left empty; returns peers dropped.
  std::size_t expire(Clock::time_point cutoff);

  std::size_t swarm_count() const { return swarms_.size(); }
  std::size_t peer_count() const { return peer_total_; }
  std::size_t seeder_count() const { return seeder_total_; }

 private:
  void select(const Swarm& swarm, std::ptrdiff_t self, int numwant, std::vector<const Peer*>& out);
  std::uint64_t next_random();
  std::uint32_t random_below(std::uint32_t bound);

  KeyedHash hash_;
  std::unordered_map<Digest, Swarm, KeyedHash> swarms_;
  std::size_t max_swarms_, max_peers_per_swarm_, max_peers_total_;
  std::size_t peer_total_ = 0, seeder_total_ = 0;
  std::uint64_t rng_state_;
  std::vector<std::uint32_t> scratch_;       // partial Fisher-Yates over small swarms
  std::vector<std::uint64_t> seen_bits_;     // rejection sampling over big swarms
};

}  // namespace p2p::tracker

// Decides which peers may download from us (BitTorrent's choking). Pure.
// A fixed number of regular upload slots, re-chosen every ~10 s: while we
// download, the peers that give us the most; while seeding, round-robin so
// every interested peer gets its turn. Plus one optimistic slot, rotated every
// ~30 s, so newcomers can prove themselves. Peers are keyed by peer key, so
// several connections from one peer share one slot.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace p2p {

class Choker {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kRegularSlots = 4;
  static constexpr auto kRechokeInterval = std::chrono::seconds(10);
  static constexpr auto kOptimisticInterval = std::chrono::seconds(30);

  struct Peer {
    std::string key;
    bool interested = false;
    double rate_from = 0;  // bytes/s they sent us recently
  };

  explicit Choker(std::uint64_t seed) : rng_(seed) {}
  // Returns the keys to unchoke now; everyone else is choked.
  // `regular_slots`: how many peers get a regular slot (an initial seeder gives every peer one).
  std::set<std::string> rechoke(const std::vector<Peer>& peers, bool seeding, Clock::time_point now,
                                std::size_t regular_slots = kRegularSlots);
  bool due(Clock::time_point now) const { return now - last_ >= kRechokeInterval; }
  const std::string& optimistic() const { return optimistic_; }

 private:
  std::mt19937_64 rng_;
  Clock::time_point last_{};
  Clock::time_point optimistic_since_{};
  std::string optimistic_;
  std::map<std::string, Clock::time_point> last_unchoked_;  // for the seeding round-robin
};

}  // namespace p2p

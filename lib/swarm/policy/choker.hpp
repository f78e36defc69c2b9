// Decides which peers may download from us (BitTorrent's choking). Pure.
// A fixed number of regular upload slots, re-chosen every ~10 s: while we
// download, the interested peers that have the least of the file (ties: those
// that give us the most); while seeding, round-robin so every interested peer
// gets its turn. Plus one optimistic slot, rotated every ~30 s. Peers are keyed
// by peer key, so several connections from one peer share one slot.
//
// Why least complete first and not BitTorrent's tit-for-tat (who gives us most):
// p2p-share moves files between machines one controls, where nobody free-rides and
// what counts is when the last copy is done. Tit-for-tat serves fast uploaders
// first and starves slow ones, which then finish last: with half the peers at a
// quarter of the upload rate (32 peers), the last finished at 1.57 × the minimum
// distribution time with tit-for-tat and 1.42 × with least complete first, which
// also evens out a homogeneous swarm (1.63 → 1.53 ×; docs/DESIGN.md).
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
    double rate_from = 0;      // bytes/s they sent us recently
    double have_fraction = 0;  // how much of the file they have, 0..1
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

// Choker: least-complete-first (downloading) or round-robin (seeding) slots plus an optimistic one.
#include "swarm/policy/choker.hpp"

#include <algorithm>

namespace p2p {

std::set<std::string> Choker::rechoke(const std::vector<Peer>& peers, bool seeding, Clock::time_point now,
                                      std::size_t regular_slots) {
  last_ = now;
  std::vector<const Peer*> candidates;
  for (const auto& p : peers)
    if (p.interested) candidates.push_back(&p);

  if (seeding) {
    // Longest-waiting first: each round the slots move on to peers that had none.
    std::stable_sort(candidates.begin(), candidates.end(), [&](const Peer* a, const Peer* b) {
      return last_unchoked_[a->key] < last_unchoked_[b->key];
    });
  } else {
    // Furthest behind first, then who gives us most (see the header for why not tit-for-tat).
    std::stable_sort(candidates.begin(), candidates.end(), [](const Peer* a, const Peer* b) {
      if (a->have_fraction != b->have_fraction) return a->have_fraction < b->have_fraction;
      return a->rate_from > b->rate_from;
    });
  }
  std::set<std::string> chosen;
  for (const Peer* p : candidates) {
    if (chosen.size() >= regular_slots) break;
    chosen.insert(p->key);
  }

  // Optimistic slot: keep it for its interval if that peer is still interested, else pick anew.
  bool keep = false;
  for (const Peer* p : candidates) keep |= p->key == optimistic_;
  if (!keep || now - optimistic_since_ >= kOptimisticInterval) {
    std::vector<const Peer*> rest;
    for (const Peer* p : candidates)
      if (!chosen.count(p->key) && p->key != optimistic_) rest.push_back(p);
    if (rest.empty() && keep) {
      // nobody else waits: keep the current one
    } else if (rest.empty()) {
      optimistic_.clear();
    } else {
      optimistic_ = rest[std::uniform_int_distribution<std::size_t>(0, rest.size() - 1)(rng_)]->key;
      optimistic_since_ = now;
    }
  }
  if (!optimistic_.empty()) chosen.insert(optimistic_);
  for (const auto& k : chosen) last_unchoked_[k] = now;
  // Forget peers that are gone so the map stays bounded.
  for (auto it = last_unchoked_.begin(); it != last_unchoked_.end();) {
    bool present = std::any_of(peers.begin(), peers.end(), [&](const Peer& p) { return p.key == it->first; });
    it = present ? std::next(it) : last_unchoked_.erase(it);
  }
  return chosen;
}

}  // namespace p2p

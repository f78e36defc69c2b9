// Swarm registry: add/refresh/remove peers, random peer selection, expiry.
#include "tracker/swarm_registry.hpp"

#include "base/sha256.hpp"

#include <algorithm>
#include <cstring>

#include "tracker/tracker_limits.hpp"

namespace p2p::tracker {

namespace {

std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::size_t KeyedHash::operator()(std::span<const std::uint8_t> bytes) const noexcept {
  std::uint64_t h = key ^ bytes.size();
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = mix64(h ^ w);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  return static_cast<std::size_t>(mix64(h ^ tail));
}

bool peer_id_from_hex(std::string_view hex, PeerId& out) { return from_hex(hex, out); }

// --- Swarm ------------------------------------------------------------------------

std::ptrdiff_t Swarm::find(const PeerId& id) const {
  if (index_) {
    auto it = index_->find(id);
    return it == index_->end() ? -1 : static_cast<std::ptrdiff_t>(it->second);
  }
  // Peer ids start with the client's name ("-qB4500-"): the last 8 bytes tell them apart
  // in one compare, the full compare runs on a match only.
  std::uint64_t tail;
  std::memcpy(&tail, id.data() + id.size() - 8, 8);
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    std::uint64_t other;
    std::memcpy(&other, peers_[i].id.data() + id.size() - 8, 8);
    if (other == tail && peers_[i].id == id) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

void Swarm::add(Peer peer, const KeyedHash& hash) {
  if (peer.seeder) ++seeders_;
  peers_.push_back(std::move(peer));
  if (index_) {
    index_->emplace(peers_.back().id, static_cast<std::uint32_t>(peers_.size() - 1));
  } else if (peers_.size() > kIndexThreshold) {
    index_ = std::make_unique<std::unordered_map<PeerId, std::uint32_t, KeyedHash>>(0, hash);
    index_->reserve(peers_.size() * 2);
    for (std::size_t i = 0; i < peers_.size(); ++i) index_->emplace(peers_[i].id, static_cast<std::uint32_t>(i));
  }
}

// Swap-with-last keeps the vector dense, which random selection relies on.
void Swarm::remove_at(std::size_t i) {
  if (peers_[i].seeder) --seeders_;
  if (index_) index_->erase(peers_[i].id);
  if (i + 1 != peers_.size()) {
    peers_[i] = std::move(peers_.back());
    if (index_) (*index_)[peers_[i].id] = static_cast<std::uint32_t>(i);
  }
  peers_.pop_back();
}

// --- SwarmRegistry -------------------------------------------------------------------

SwarmRegistry::SwarmRegistry(std::uint64_t seed)
    : SwarmRegistry(seed, limits::kMaxSwarms, limits::kMaxPeersPerSwarm, limits::kMaxPeersTotal) {}

SwarmRegistry::SwarmRegistry(std::uint64_t seed, std::size_t max_swarms, std::size_t max_peers_per_swarm,
                             std::size_t max_peers_total)
    : hash_{mix64(seed ^ 0x5bd1e9955bd1e995ULL)},
      swarms_(0, hash_),
      max_swarms_(max_swarms),
      max_peers_per_swarm_(max_peers_per_swarm),
      max_peers_total_(max_peers_total),
      rng_state_(seed) {}

std::uint64_t SwarmRegistry::next_random() { return mix64(rng_state_ += 0x9e3779b97f4a7c15ULL); }

// Lemire's multiply-shift: unbiased enough for bounds far below 2^32.
std::uint32_t SwarmRegistry::random_below(std::uint32_t bound) {
  return static_cast<std::uint32_t>(((next_random() >> 32) * bound) >> 32);
}

AnnounceResult SwarmRegistry::announce(const AnnounceInput& in, Clock::time_point now,
                                       std::vector<const Peer*>& out) {
  out.clear();
  AnnounceResult result;
  auto it = swarms_.find(in.info_hash);
  if (in.event == Event::stopped) {
    if (it != swarms_.end()) {
      Swarm& swarm = it->second;
      std::ptrdiff_t i = swarm.find(in.peer_id);
      if (i >= 0) {
        if (swarm.peers_[i].seeder) --seeder_total_;
        --peer_total_;
        swarm.remove_at(static_cast<std::size_t>(i));
      }
      result.seeders = swarm.seeders();
      result.leechers = swarm.leechers();
      if (swarm.peers_.empty()) swarms_.erase(it);
    }
    return result;
  }

  if (it == swarms_.end()) {
    if (swarms_.size() >= max_swarms_) return {AnnounceStatus::too_many_swarms};
    if (peer_total_ >= max_peers_total_) return {AnnounceStatus::too_many_peers};
    it = swarms_.try_emplace(in.info_hash).first;
  }
  Swarm& swarm = it->second;
  const bool seeder = in.left == 0;
  std::ptrdiff_t self = swarm.find(in.peer_id);
  if (self < 0) {
    if (swarm.peers_.size() >= max_peers_per_swarm_) return {AnnounceStatus::swarm_full};
    if (peer_total_ >= max_peers_total_) return {AnnounceStatus::too_many_peers};
    // A peer first seen with "completed" still finished a download.
    if (in.event == Event::completed) {
      ++swarm.completed_;
      result.completed_now = true;
    }
    Peer peer;
    peer.id = in.peer_id;
    peer.port = in.port;
    peer.seeder = seeder;
    peer.completed = result.completed_now;
    peer.last_seen = now;
    peer.ip.assign(in.ip);
    swarm.add(std::move(peer), hash_);
    ++peer_total_;
    if (seeder) ++seeder_total_;
    self = static_cast<std::ptrdiff_t>(swarm.peers_.size() - 1);
  } else {
    Peer& peer = swarm.peers_[static_cast<std::size_t>(self)];
    if (in.event == Event::completed && !peer.seeder && !peer.completed) {
      ++swarm.completed_;
      result.completed_now = true;
      peer.completed = true;
    }
    if (peer.seeder != seeder) {
      swarm.seeders_ += seeder ? 1 : -1;
      seeder_total_ += seeder ? 1 : -1;
      peer.seeder = seeder;
    }
    peer.port = in.port;
    peer.last_seen = now;
    if (peer.ip != in.ip) peer.ip.assign(in.ip);
  }
  select(swarm, self, in.numwant, out);
  result.seeders = swarm.seeders();
  result.leechers = swarm.leechers();
  return result;
}

void SwarmRegistry::select(const Swarm& swarm, std::ptrdiff_t self, int numwant, std::vector<const Peer*>& out) {
  const std::size_t n = swarm.peers_.size();
  const std::size_t others = self >= 0 ? n - 1 : n;
  const std::size_t k = std::min<std::size_t>(others, static_cast<std::size_t>(std::max(numwant, 0)));
  if (k == 0) return;
  // Candidate j maps to peer j, skipping the requester.
  auto peer_of = [&](std::size_t j) {
    if (self >= 0 && j >= static_cast<std::size_t>(self)) ++j;
    return &swarm.peers_[j];
  };
  if (k == others) {
    for (std::size_t j = 0; j < others; ++j) out.push_back(peer_of(j));
  } else if (others <= 4 * k) {
    // Dense case: a partial Fisher-Yates shuffle touches k slots of a small array.
    scratch_.resize(others);
    for (std::size_t j = 0; j < others; ++j) scratch_[j] = static_cast<std::uint32_t>(j);
    for (std::size_t j = 0; j < k; ++j) {
      std::size_t r = j + random_below(static_cast<std::uint32_t>(others - j));
      std::swap(scratch_[j], scratch_[r]);
      out.push_back(peer_of(scratch_[j]));
    }
  } else {
    // Sparse case: draw with rejection; a hit is < 1/4 likely, so ~k draws.
    seen_bits_.assign((others + 63) / 64, 0);
    while (out.size() < k) {
      std::uint32_t j = random_below(static_cast<std::uint32_t>(others));
      std::uint64_t bit = std::uint64_t{1} << (j % 64);
      if (seen_bits_[j / 64] & bit) continue;
      seen_bits_[j / 64] |= bit;
      out.push_back(peer_of(j));
    }
  }
}

const Swarm* SwarmRegistry::find(const Digest& info_hash) const {
  auto it = swarms_.find(info_hash);
  return it == swarms_.end() ? nullptr : &it->second;
}

std::size_t SwarmRegistry::expire(Clock::time_point cutoff) {
  std::size_t dropped = 0;
  for (auto it = swarms_.begin(); it != swarms_.end();) {
    Swarm& swarm = it->second;
    for (std::size_t i = swarm.peers_.size(); i-- > 0;) {
      if (swarm.peers_[i].last_seen < cutoff) {
        if (swarm.peers_[i].seeder) --seeder_total_;
        swarm.remove_at(i);
        --peer_total_;
        ++dropped;
      }
    }
    it = swarm.peers_.empty() ? swarms_.erase(it) : std::next(it);
  }
  return dropped;
}

}  // namespace p2p::tracker

// InitialSeeding: per-peer windows of pieces shown and not yet spread.
#include "swarm/policy/initial_seeding.hpp"

#include <algorithm>
#include <cmath>

#include "swarm/policy/long_link.hpp"

namespace p2p {

InitialSeeding::InitialSeeding(std::uint32_t piece_count, std::uint32_t piece_size, std::uint64_t budget)
    : piece_count_(piece_count), piece_size_(std::max<std::uint32_t>(1, piece_size)), budget_(budget),
      holders_(piece_count, 0), owner_(piece_count), served_(piece_count, false), shown_(piece_count, 0) {
  for (std::uint32_t i = 0; i < piece_count; ++i) unplaced_.insert(unplaced_.end(), i);
}

void InitialSeeding::set_upload_rate(double bytes_per_second) {
  upload_rate_ = bytes_per_second;
  if (bytes_per_second <= 0 || bytes_per_second < kIdleRate * best_rate_) {
    // Idle (or nothing sent yet): the next download starts slow again.
    slow_start_ = true;
    best_rate_ = 0;
    slow_start_bytes_ = 0;
  } else if (bytes_per_second >= kSlowStartGrowth * best_rate_) {
    best_rate_ = bytes_per_second;
  } else {
    slow_start_ = false;  // the rate stopped growing: the rate-based budget alone
    slow_start_bytes_ = 0;
  }
}

std::uint32_t InitialSeeding::window_limit() const {
  double by_rate = upload_rate_ * (kBudgetSeconds + kRoundTripsInBudget * round_trip_);
  // Before the first rate sample only what has spread bounds it: a rate takes a tick or
  // two to measure, and a long link's window doubles a few times meanwhile.
  double slow = best_rate_ > 0 ? std::min(static_cast<double>(slow_start_bytes_), kSlowStartMost * by_rate)
                               : static_cast<double>(slow_start_bytes_);
  auto budget = static_cast<std::uint64_t>(std::max(static_cast<double>(budget_) + slow, by_rate));
  std::uint64_t pieces = budget / piece_size_ / std::max<std::uint32_t>(1, needy_peers_);
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(kMinWindowPieces, pieces));
}

std::size_t InitialSeeding::window_of(const Key& k) const {
  auto it = peers_.find(k);
  return it == peers_.end() ? 0 : it->second.window.size();
}

Bitfield InitialSeeding::told(const Key& k) const {
  auto it = peers_.find(k);
  return it == peers_.end() ? Bitfield(piece_count_) : it->second.told;
}

bool InitialSeeding::spread(std::uint32_t piece, const PeerState& holder) const {
  bool has = holder.has.test(piece);
  if (holders_[piece] > (has ? 1u : 0u)) return true;  // someone else has it: passed on
  // Nobody else has it; if nobody else lacks it either, there is no one to pass it to.
  if (!has) return false;
  for (const auto& [k, p] : peers_)
    if (&p != &holder && needy(p) && !p.has.test(piece)) return false;
  return true;
}

void InitialSeeding::count_holder(std::uint32_t piece, int delta) {
  bool was_held = holders_[piece] > 0;
  holders_[piece] += delta;
  if (was_held != (holders_[piece] > 0)) was_held ? --held_pieces_ : ++held_pieces_;
  if (holders_[piece] > 0) unplaced_.erase(piece);
  else if (owner_[piece].empty()) unplaced_.insert(piece);
}

void InitialSeeding::connected(const Key& k) {
  auto [it, fresh] = peers_.try_emplace(k);
  if (fresh) {
    it->second.has = Bitfield(piece_count_);
    it->second.told = Bitfield(piece_count_);
  }
  ++it->second.connections;
}

std::vector<InitialSeeding::Reveal> InitialSeeding::disconnected(const Key& k) {
  auto it = peers_.find(k);
  if (it == peers_.end() || --it->second.connections > 0) return {};
  PeerState gone = std::move(it->second);
  peers_.erase(it);
  if (needy(gone)) --needy_peers_;
  // Its window goes back; what only it held is to be shown again.
  for (auto piece : gone.window) owner_[piece].clear();
  for (std::uint32_t i = 0; i < piece_count_; ++i)
    if (gone.has.test(i)) count_holder(i, -1);
  for (auto piece : gone.window)
    if (holders_[piece] == 0) unplaced_.insert(piece);
  std::set<Key> all;
  for (auto& [key, p] : peers_) all.insert(key);
  return top_up(all);
}

std::vector<InitialSeeding::Reveal> InitialSeeding::bitfield(const Key& k, const Bitfield& has) {
  auto it = peers_.find(k);
  if (it == peers_.end()) {
    connected(k);
    it = peers_.find(k);
  }
  auto& p = it->second;
  bool was_needy = needy(p);
  for (std::uint32_t i = 0; i < piece_count_; ++i)
    if (p.has.test(i)) count_holder(i, -1);
  p.has = has;
  p.known = true;
  p.told_lacking = 0;
  for (std::uint32_t i = 0; i < piece_count_; ++i) {
    if (p.has.test(i)) count_holder(i, +1);
    else if (p.told.test(i)) ++p.told_lacking;
  }
  end_pause_if_nothing_to_ask(p);
  needy_peers_ += needy(p) ? 1 : 0;
  needy_peers_ -= was_needy ? 1 : 0;
  // Window sizes and what is spread may have changed for everyone.
  std::set<Key> all;
  for (auto& [key, q] : peers_) all.insert(key);
  return top_up(all);
}

std::vector<InitialSeeding::Reveal> InitialSeeding::have(const Key& k, std::uint32_t piece) {
  auto it = peers_.find(k);
  if (it == peers_.end() || piece >= piece_count_ || it->second.has.test(piece)) return {};
  auto& p = it->second;
  bool was_needy = needy(p);
  p.has.set(piece);
  if (p.told.test(piece)) --p.told_lacking;
  count_holder(piece, +1);
  end_pause_if_nothing_to_ask(p);
  std::set<Key> affected{k};
  if (!owner_[piece].empty()) affected.insert(owner_[piece]);
  if (was_needy != needy(p)) {
    // The budget is shared by one peer fewer (it needs nothing more, passed on or shown),
    // or one more (its pause ended).
    if (needy(p)) ++needy_peers_;
    else --needy_peers_;
    for (auto& [key, q] : peers_) affected.insert(key);
  }
  return top_up(affected);
}

void InitialSeeding::end_pause_if_nothing_to_ask(PeerState& p) {
  if (p.paused && p.told_lacking == 0) p.paused = false;
}

std::size_t InitialSeeding::in_flight() const {
  // Held by nobody: not by the peer it was shown to, and not spread (another peer has it).
  std::size_t n = 0;
  for (const auto& [k, p] : peers_)
    for (auto piece : p.window) n += holders_[piece] == 0 ? 1 : 0;
  return n;
}

std::size_t InitialSeeding::in_flight_limit() const {
  // Not while every peer is far: there a piece's round trips, not its time on our link, set
  // how long it is on its way, and the window budget holds them (kRoundTripsInBudget). N = 8
  // with 20-200 ms round trips took 2.0x T* with the cap at 8, 1.17x without.
  if (needy_peers_ == 0 || long_round_trip(shortest_round_trip_)) return SIZE_MAX;
  double by_round_trips = upload_rate_ * 2 * shortest_round_trip_ / piece_size_;
  return std::max<std::size_t>(kMinInFlightPieces, static_cast<std::size_t>(std::ceil(by_round_trips)));
}

std::vector<InitialSeeding::Reveal> InitialSeeding::top_up(const std::set<Key>& keys) {
  std::vector<Reveal> out;
  std::size_t limit = in_flight_limit();
  std::size_t flying = limit == SIZE_MAX ? 0 : in_flight();
  std::size_t room = limit == SIZE_MAX ? SIZE_MAX : (flying >= limit ? 0 : limit - flying);
  std::vector<std::pair<std::size_t, Key>> order;  // (unspread pieces, key): the emptiest window first
  if (room == SIZE_MAX || room == 0) {
    // Uncapped, or no slot free (most `have`s while capped): only these peers can change.
    for (const auto& k : keys) order.emplace_back(0, k);
  } else {
    // A slot is free: it may go to any peer, the emptiest window first.
    for (auto& [k, p] : peers_) {
      drop_spread(p);
      order.emplace_back(p.window.size(), k);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  for (const auto& [size, k] : order) {
    auto it = peers_.find(k);
    if (it != peers_.end()) top_up_one(k, it->second, room, out);
  }
  return out;
}

void InitialSeeding::drop_spread(PeerState& p) {
  std::erase_if(p.window, [&](std::uint32_t piece) {
    if (!spread(piece, p)) return false;
    owner_[piece].clear();
    if (slow_start_) slow_start_bytes_ += piece_size_;
    return true;
  });
}

void InitialSeeding::top_up_one(const Key& k, PeerState& p, std::size_t& room, std::vector<Reveal>& out) {
  drop_spread(p);
  if (!needy(p)) return;
  std::uint32_t limit = window_limit();
  // Lowest index first: peers fill their files front to back, so the whole-file hash streams.
  for (auto it = unplaced_.begin(); it != unplaced_.end() && p.window.size() < limit && room > 0;) {
    std::uint32_t piece = *it;
    if (p.has.test(piece)) {  // cannot be (it would have a holder), but never show a peer its own piece
      ++it;
      continue;
    }
    it = unplaced_.erase(it);
    if (room != SIZE_MAX) --room;
    owner_[piece] = k;
    served_[piece] = false;
    p.window.push_back(piece);
    if (shown_[piece]++ == 0) ++shown_pieces_;
    if (!p.told.test(piece)) {  // shown before, lost, shown again: it already knows we have it
      p.told.set(piece);
      ++p.told_lacking;  // never shown what it has (above)
      out.push_back(Reveal{k, piece});
    }
  }
}

std::vector<InitialSeeding::Reveal> InitialSeeding::take_back(const Key& k) {
  auto it = peers_.find(k);
  if (it == peers_.end() || it->second.paused) return {};
  auto& p = it->second;
  if (needy(p)) --needy_peers_;
  p.paused = true;
  // What it holds stays its own to pass on; what it was only shown goes back.
  std::erase_if(p.window, [&](std::uint32_t piece) {
    if (p.has.test(piece)) return false;
    owner_[piece].clear();
    if (holders_[piece] == 0) unplaced_.insert(piece);
    return true;
  });
  std::set<Key> all;
  for (auto& [key, q] : peers_) all.insert(key);
  return top_up(all);
}

std::vector<InitialSeeding::Reveal> InitialSeeding::requested(const Key& k) {
  auto it = peers_.find(k);
  if (it == peers_.end() || !it->second.paused) return {};
  it->second.paused = false;
  if (needy(it->second)) ++needy_peers_;
  return top_up({k});
}

std::vector<InitialSeeding::Reveal> InitialSeeding::serving(const Key& k, std::uint32_t piece, double round_trip) {
  if (!slow_start_ || needy_peers_ != 1 || !long_round_trip(round_trip)) return {};
  if (piece >= piece_count_ || served_[piece] || owner_[piece] != k) return {};
  served_[piece] = true;
  slow_start_bytes_ += piece_size_;
  return top_up({k});
}

bool InitialSeeding::paused(const Key& k) const {
  auto it = peers_.find(k);
  return it != peers_.end() && it->second.paused;
}

}  // namespace p2p

// PiecePicker: rarest-first with windowed random ties, strict piece completion, endgame.
#include "swarm/policy/piece_picker.hpp"

#include <algorithm>

namespace p2p {

PiecePicker::PiecePicker(std::vector<std::uint32_t> piece_lengths, std::uint32_t block_size, std::uint64_t seed)
    : lengths_(std::move(piece_lengths)), block_size_(block_size), state_(lengths_.size(), State::wanted),
      availability_(lengths_.size(), 0), wanted_count_(static_cast<std::uint32_t>(lengths_.size())), rng_(seed) {}

void PiecePicker::mark_have(std::uint32_t piece) {
  if (state_[piece] == State::have) return;
  if (state_[piece] == State::wanted) --wanted_count_;
  partial_.erase(piece);
  state_[piece] = State::have;
  ++have_count_;
  advance_first_open();
  update_endgame();
}

void PiecePicker::advance_first_open() {
  while (first_open_ < state_.size() && !wants(first_open_)) ++first_open_;
}

void PiecePicker::restrict_to(const Bitfield& selection) {
  for (std::uint32_t i = 0; i < state_.size(); ++i) {
    if (selection.test(i) || state_[i] != State::wanted) continue;
    state_[i] = State::unwanted;
    --wanted_count_;
    ++unwanted_count_;
  }
  advance_first_open();
  update_endgame();
}

void PiecePicker::add_peer(const Bitfield& peer_has) {
  ++peers_;
  for (std::uint32_t i = 0; i < peer_has.size() && i < availability_.size(); ++i)
    if (peer_has.test(i)) ++availability_[i];
}

void PiecePicker::remove_peer(const Bitfield& peer_has) {
  if (peers_ > 0) --peers_;
  if (min_avail_ > 0) --min_avail_;  // each piece loses one at most: still a lower bound
  for (std::uint32_t i = 0; i < peer_has.size() && i < availability_.size(); ++i)
    if (peer_has.test(i) && availability_[i] > 0) --availability_[i];
}

void PiecePicker::peer_has(std::uint32_t piece) { ++availability_[piece]; }

double PiecePicker::distributed_copies() const {
  if (availability_.empty()) return 0;
  std::uint32_t rarest = *std::min_element(availability_.begin(), availability_.end());
  auto above = std::count_if(availability_.begin(), availability_.end(), [&](std::uint32_t a) { return a > rarest; });
  return rarest + static_cast<double>(above) / static_cast<double>(availability_.size());
}

BlockRef PiecePicker::block_ref(std::uint32_t piece, std::uint32_t b) const {
  std::uint32_t begin = b * block_size_;
  return BlockRef{piece, begin, std::min(block_size_, lengths_[piece] - begin)};
}

std::vector<std::uint32_t> PiecePicker::choose_new_pieces(const Bitfield& peer_has, std::size_t count) {
  const auto n = static_cast<std::uint32_t>(state_.size());
  std::vector<std::uint32_t> chosen;
  if (count == 0) return chosen;
  if (have_count_ + static_cast<std::uint32_t>(partial_.size()) < kRandomFirstPieces) {
    // Random start: one piece, uniformly among wanted pieces this peer has.
    std::uint32_t seen = 0;
    long pick = -1;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (state_[i] != State::wanted || !peer_has.test(i)) continue;
      if (std::uniform_int_distribution<std::uint32_t>(0, seen)(rng_) == 0) pick = i;
      ++seen;
    }
    if (pick >= 0) chosen.push_back(static_cast<std::uint32_t>(pick));
    return chosen;
  }
  // One pass for all `count` pieces (a pass per piece cost a scan of every piece per
  // request in a big swarm): the first `limit` candidates of the lowest availability,
  // then `count` of them at random.
  std::uint32_t best = UINT32_MAX;
  const std::uint32_t limit = tie_window();
  std::vector<std::uint32_t> ties;
  while (scan_from_ < n && state_[scan_from_] != State::wanted) ++scan_from_;
  // Every wanted piece is at or after scan_from_: a full pass from there bounds them all.
  std::uint32_t all_min = UINT32_MAX;
  bool full = true;
  for (std::uint32_t i = scan_from_; i < n; ++i) {
    all_min = std::min(all_min, availability_[i]);
    if (state_[i] != State::wanted || !peer_has.test(i)) continue;
    std::uint32_t a = availability_[i];
    if (a < best) {
      best = a;
      ties.clear();
    }
    if (a == best && ties.size() < limit) ties.push_back(i);
    if (ties.size() == limit && best <= min_avail_) {  // nothing further can be rarer
      full = false;
      break;
    }
  }
  if (full && n > 0) min_avail_ = all_min;
  for (std::size_t k = 0; k < ties.size() && chosen.size() < count; ++k) {
    std::swap(ties[k], ties[std::uniform_int_distribution<std::size_t>(k, ties.size() - 1)(rng_)]);
    chosen.push_back(ties[k]);
  }
  return chosen;
}

std::vector<BlockRef> PiecePicker::pick(const Bitfield& peer_has, std::size_t max_blocks, PeerKey who,
                                        std::size_t max_new_pieces, std::size_t endgame_duplicates) {
  std::vector<BlockRef> out;
  auto take_unrequested = [&](std::uint32_t piece, Partial& p) {
    for (std::uint32_t b = 0; b < p.blocks.size() && out.size() < max_blocks; ++b) {
      Block& blk = p.blocks[b];
      if (blk.received || !blk.requested_by.empty()) continue;
      blk.requested_by.push_back(who);
      out.push_back(block_ref(piece, b));
    }
  };
  // 1. Finish what is started: pieces complete sooner and leave memory sooner.
  for (auto& [piece, p] : partial_) {
    if (out.size() >= max_blocks) return out;
    if (state_[piece] == State::in_progress && peer_has.test(piece)) take_unrequested(piece, p);
  }
  // 2. Start new pieces (rarest first; the next rarity level once one is used up).
  std::size_t started = 0;
  while (started < max_new_pieces && out.size() < max_blocks) {
    std::size_t per_piece = std::max<std::uint32_t>(1, blocks_in(0));
    auto chosen = choose_new_pieces(
        peer_has, std::min(max_new_pieces - started, (max_blocks - out.size() + per_piece - 1) / per_piece));
    if (chosen.empty()) break;
    for (auto piece : chosen) {
      if (out.size() >= max_blocks || started == max_new_pieces) break;
      ++started;
      state_[piece] = State::in_progress;
      --wanted_count_;
      Partial& p = partial_[piece];
      p.blocks.resize(blocks_in(piece));
      take_unrequested(piece, p);
    }
  }
  update_endgame();
  // 3. Endgame: every block is requested somewhere; duplicate the oldest outstanding ones.
  if (endgame_) {
    max_blocks = std::min(max_blocks, out.size() + endgame_duplicates);
    for (auto& [piece, p] : partial_) {
      if (state_[piece] != State::in_progress || !peer_has.test(piece)) continue;
      for (std::uint32_t b = 0; b < p.blocks.size() && out.size() < max_blocks; ++b) {
        Block& blk = p.blocks[b];
        if (blk.received || blk.requested_by.size() >= static_cast<std::size_t>(kMaxEndgameDuplicates)) continue;
        if (std::find(blk.requested_by.begin(), blk.requested_by.end(), who) != blk.requested_by.end()) continue;
        blk.requested_by.push_back(who);
        out.push_back(block_ref(piece, b));
      }
    }
  }
  return out;
}

bool PiecePicker::wants_block(const BlockRef& block) const {
  auto it = partial_.find(block.piece);
  if (it == partial_.end() || state_[block.piece] != State::in_progress || block.begin % block_size_ != 0) return false;
  std::uint32_t b = block.begin / block_size_;
  return b < it->second.blocks.size() && !it->second.blocks[b].received &&
         block_ref(block.piece, b).length == block.length;
}

bool PiecePicker::block_received(const BlockRef& block, PeerKey who, bool& piece_done, std::vector<PeerKey>& others) {
  piece_done = false;
  auto it = partial_.find(block.piece);
  if (it == partial_.end() || state_[block.piece] != State::in_progress) return false;
  if (block.begin % block_size_ != 0) return false;
  std::uint32_t b = block.begin / block_size_;
  if (b >= it->second.blocks.size() || block_ref(block.piece, b).length != block.length) return false;
  Block& blk = it->second.blocks[b];
  if (blk.received) return false;
  blk.received = true;
  for (PeerKey k : blk.requested_by)
    if (k != who) others.push_back(k);
  blk.requested_by.clear();
  if (++it->second.received == it->second.blocks.size()) {
    state_[block.piece] = State::received;
    piece_done = true;
  }
  return true;
}

void PiecePicker::request_dropped(const BlockRef& block, PeerKey who) {
  auto it = partial_.find(block.piece);
  if (it == partial_.end() || block.begin % block_size_ != 0) return;
  std::uint32_t b = block.begin / block_size_;
  if (b >= it->second.blocks.size()) return;
  auto& req = it->second.blocks[b].requested_by;
  req.erase(std::remove(req.begin(), req.end(), who), req.end());
  // A piece nobody is working on any more goes back to the pool for rarest-first.
  if (state_[block.piece] == State::in_progress && it->second.received == 0) {
    bool any = std::any_of(it->second.blocks.begin(), it->second.blocks.end(),
                           [](const Block& x) { return !x.requested_by.empty(); });
    if (!any) {
      partial_.erase(it);
      state_[block.piece] = State::wanted;
      now_wanted(block.piece);
      ++wanted_count_;
    }
  }
  update_endgame();
}

void PiecePicker::piece_failed(std::uint32_t piece) {
  if (state_[piece] == State::have || state_[piece] == State::unwanted) return;
  if (state_[piece] != State::wanted) ++wanted_count_;
  partial_.erase(piece);
  state_[piece] = State::wanted;
  now_wanted(piece);
  update_endgame();
}

void PiecePicker::piece_verified(std::uint32_t piece) { mark_have(piece); }

void PiecePicker::update_endgame() {
  if (wanted_count_ > 0 || selection_complete()) {
    endgame_ = false;
    return;
  }
  // No piece is untouched: endgame once no in-progress piece has an unrequested block.
  for (const auto& [piece, p] : partial_)
    for (const auto& blk : p.blocks)
      if (!blk.received && blk.requested_by.empty()) {
        endgame_ = false;
        return;
      }
  endgame_ = true;
}

}  // namespace p2p

// Chooses which blocks to request from which peer. Pure bookkeeping, no I/O.
//
// Piece states (each piece is in exactly one):
//   wanted      - we lack it and no block is requested
//   in_progress - some blocks requested or received (tracked in Partial)
//   received    - every block arrived; waiting for its hash check
//   have        - verified and written
//   unwanted    - outside the selection (p2p-download --only): never requested
// A failed hash check sends a received piece back to wanted.
//
// Order: a few random pieces first (to have something to trade), then rarest
// first among connected peers. Ties are broken at random within a window of the
// lowest-index candidates: peers diverge, yet the file fills front to back so the
// whole-file hash can stream alongside the download. When every block is
// requested, endgame mode lets a block be requested from a second peer.
#pragma once
#include <cstdint>
#include <functional>
#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "base/bitfield.hpp"

namespace p2p {

struct BlockRef {
  std::uint32_t piece = 0;
  std::uint32_t begin = 0;
  std::uint32_t length = 0;
  bool operator==(const BlockRef&) const = default;
};

class PiecePicker {
 public:
  using PeerKey = std::uint64_t;  // a connection id, opaque to the picker
  static constexpr std::uint32_t kRandomFirstPieces = 4;
  // Ties are drawn from the first kTieWindow candidates per connected peer: alone
  // with a seeder the file fills nearly in order; in a big swarm peers rarely
  // pick the same piece from the seeder at the same time.
  static constexpr std::uint32_t kTieWindow = 32;
  static constexpr int kMaxEndgameDuplicates = 2;

  // piece_lengths[i] is piece i's length in bytes.
  PiecePicker(std::vector<std::uint32_t> piece_lengths, std::uint32_t block_size, std::uint64_t seed);

  void mark_have(std::uint32_t piece);          // verified (also used for resume)
  bool have(std::uint32_t piece) const { return state_[piece] == State::have; }
  std::uint32_t have_count() const { return have_count_; }
  bool complete() const { return have_count_ == state_.size(); }
  // --only: pieces outside `selection` become unwanted (call before any pick).
  void restrict_to(const Bitfield& selection);
  // Every piece of the selection is verified (the whole file without a selection).
  bool selection_complete() const { return have_count_ + unwanted_count_ == state_.size(); }
  // Still to fetch: neither verified nor outside the selection.
  bool wants(std::uint32_t piece) const { return state_[piece] != State::have && state_[piece] != State::unwanted; }
  // No piece below this index is wanted (every one is verified or outside the selection):
  // where a scan for a wanted piece starts (a piece once verified stays so).
  std::uint32_t first_wanted() const { return first_open_; }

  // Availability: peers' bitfields and have messages.
  void add_peer(const Bitfield& peer_has);
  void remove_peer(const Bitfield& peer_has);
  void peer_has(std::uint32_t piece);
  std::uint32_t availability(std::uint32_t piece) const { return availability_[piece]; }
  // Complete copies among the connected peers (libtorrent's distributed copies): the
  // rarest piece's availability plus the share of pieces held more often than that. At
  // 1.0 or more the peers hold every piece between them, so a seeder may leave.
  double distributed_copies() const;
  std::uint32_t tie_window() const { return kTieWindow * std::max<std::uint32_t>(1, peers_); }

  // Up to max_blocks new requests for a peer that has `peer_has`; records them as requested by `who`.
  // At most max_new_pieces pieces are started (each reserves a piece buffer's slot: the
  // memory bound); 0 only continues pieces already in progress.
  // endgame_duplicates: in endgame, how many already-requested blocks this peer may duplicate.
  std::vector<BlockRef> pick(const Bitfield& peer_has, std::size_t max_blocks, PeerKey who, std::size_t max_new_pieces = SIZE_MAX,
                             std::size_t endgame_duplicates = SIZE_MAX);

  // True if this block is requested and not yet received (so its bytes are wanted).
  bool wants_block(const BlockRef& block) const;
  // A block arrived. Returns true if it was wanted (not a duplicate); sets piece_done when
  // this completed the piece. `others` receives peers that also had it requested (to cancel).
  bool block_received(const BlockRef& block, PeerKey who, bool& piece_done, std::vector<PeerKey>& others);
  // A request will never be answered (peer gone, choked, timed out).
  void request_dropped(const BlockRef& block, PeerKey who);
  void piece_failed(std::uint32_t piece);   // hash mismatch: everything about it is wanted again
  void piece_verified(std::uint32_t piece); // hash ok and written

  bool in_endgame() const { return endgame_; }

 private:
  enum class State : std::uint8_t { wanted, in_progress, received, have, unwanted };
  struct Block {
    std::vector<PeerKey> requested_by;
    bool received = false;
  };
  struct Partial {
    std::vector<Block> blocks;
    std::uint32_t received = 0;
  };
  std::uint32_t blocks_in(std::uint32_t piece) const { return (lengths_[piece] + block_size_ - 1) / block_size_; }
  BlockRef block_ref(std::uint32_t piece, std::uint32_t b) const;
  // Up to `count` wanted pieces this peer has, by the order rules above (not yet marked).
  std::vector<std::uint32_t> choose_new_pieces(const Bitfield& peer_has, std::size_t count);
  void update_endgame();

  std::vector<std::uint32_t> lengths_;
  std::uint32_t block_size_;
  std::vector<State> state_;
  std::vector<std::uint32_t> availability_;
  std::map<std::uint32_t, Partial> partial_;
  std::uint32_t have_count_ = 0;
  std::uint32_t peers_ = 0;  // bitfields added and not removed
  std::uint32_t wanted_count_ = 0;
  std::uint32_t unwanted_count_ = 0;
  std::uint32_t first_open_ = 0;  // see first_wanted(); only moves forward
  void advance_first_open();
  // choose_new_pieces' scan, which was a pass over every piece per pick (a tree of
  // 20,000 one-piece files: most of the downloader's own CPU): no piece below
  // scan_from_ is in state wanted, and no piece's availability is below min_avail_
  // (a lower bound, refreshed by each full pass), so a pass that has its window of
  // ties at that availability can stop; the pieces chosen are the same.
  std::uint32_t scan_from_ = 0;
  std::uint32_t min_avail_ = 0;
  void now_wanted(std::uint32_t piece) {
    scan_from_ = std::min(scan_from_, piece);
    min_avail_ = std::min(min_avail_, availability_[piece]);
  }
  bool endgame_ = false;
  std::mt19937_64 rng_;
};

}  // namespace p2p

// Piece buffers shared by every torrent of a session, under one memory budget.
// Buffers are recycled, never freed mid-run: faulting fresh pages in costs more than
// the copy. Each buffer is a slot of its torrent's piece size (what the budget counts),
// holding one piece: a short piece (a small file's, a file's last) touches only its
// own length, so a tree of small files in 2 MiB pieces does not fault in 2 MiB each.
//
// A piece's slot is reserved when it is first requested and its buffer taken when its
// first block arrives: what is still on the way (on a long link, the bandwidth-delay
// product) counts against the budget, so everything asked for always fits, but holds no
// memory. Buffers in use are then the pieces partly arrived or being hashed, a few even
// when the budget is 100 MiB.
// Pure bookkeeping; the io thread is its only user.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace p2p {

class PieceBufferPool {
 public:
  explicit PieceBufferPool(std::size_t budget_bytes) : budget_(budget_bytes) {}
  // The budget may change while buffers are out (it follows the links: the session sizes
  // it with policy/piece_buffer_budget); a smaller one only stops new takes and drops spares.
  void set_budget(std::size_t budget_bytes);
  std::size_t budget() const { return budget_; }

  // Whether a buffer of `size` may be taken now. Two pieces always fit, so a piece
  // size above half the budget still keeps one piece arriving while one is hashed.
  bool room_for(std::size_t size) const { return fits(size) > 0; }
  // How many more buffers of `size` may be taken now.
  std::size_t fits(std::size_t size) const {
    std::size_t limit = budget_ > 2 * size ? budget_ : 2 * size;
    return in_use_ >= limit || size == 0 ? 0 : (limit - in_use_) / size;
  }
  // A buffer of `length` bytes (length <= slot) in a slot of `slot` bytes: a spare slot
  // of that size if there is one, else a fresh one whose pages beyond `length` stay
  // untouched until a longer piece needs them.
  std::vector<std::uint8_t> take(std::size_t slot, std::size_t length);
  std::vector<std::uint8_t> take(std::size_t size) { return take(size, size); }
  // A slot of `slot` bytes counted against the budget, without a buffer yet (a piece
  // requested, none of it here): take_reserved() turns it into one, or cancel_reservation()
  // gives it up.
  void reserve(std::size_t slot) { in_use_ += slot; }
  void cancel_reservation(std::size_t slot) { in_use_ -= slot; }
  std::vector<std::uint8_t> take_reserved(std::size_t slot, std::size_t length);
  // Returns a buffer from take(): its slot is its capacity.
  void give_back(std::vector<std::uint8_t> buffer);
  std::size_t in_use() const { return in_use_; }
  // A connection wanted more requests than the budget had room for (PieceBufferBudget's
  // probe); take_held_back() says whether that happened since it was last called.
  void note_held_back() { held_back_ = true; }
  bool take_held_back() { return std::exchange(held_back_, false); }
  std::size_t spare_bytes() const;

 private:
  std::size_t budget_;
  std::size_t in_use_ = 0;
  bool held_back_ = false;
  std::map<std::size_t, std::vector<std::vector<std::uint8_t>>> spare_;  // by size
};

}  // namespace p2p

// Piece buffers shared by every torrent of a session, under one memory budget.
// Buffers are recycled, never freed mid-run: fresh allocations of piece size are
// mmapped, and faulting their pages in again costs more than the copy.
// Pure bookkeeping; the io thread is its only user.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace p2p {

class PieceBufferPool {
 public:
  explicit PieceBufferPool(std::size_t budget_bytes) : budget_(budget_bytes) {}

  // Whether a buffer of `size` may be taken now. Two pieces always fit, so a piece
  // size above half the budget still keeps one piece arriving while one is hashed.
  bool room_for(std::size_t size) const { return in_use_ + size <= (budget_ > 2 * size ? budget_ : 2 * size); }
  std::vector<std::uint8_t> take(std::size_t size);
  void give_back(std::vector<std::uint8_t> buffer);
  std::size_t in_use() const { return in_use_; }
  std::size_t spare_bytes() const;

 private:
  std::size_t budget_;
  std::size_t in_use_ = 0;
  std::map<std::size_t, std::vector<std::vector<std::uint8_t>>> spare_;  // by size
};

}  // namespace p2p

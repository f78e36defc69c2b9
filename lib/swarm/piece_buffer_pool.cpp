// PieceBufferPool: recycling by slot size, spares bounded by the budget.
#include "swarm/piece_buffer_pool.hpp"

#include <algorithm>

#include "base/limits.hpp"

namespace p2p {

std::vector<std::uint8_t> PieceBufferPool::take(std::size_t slot, std::size_t length) {
  length = std::min(length, slot);
  std::vector<std::uint8_t> buf;
  auto it = spare_.find(slot);
  if (it != spare_.end() && !it->second.empty()) {
    buf = std::move(it->second.back());
    it->second.pop_back();
  } else {
    buf.reserve(slot);  // address space; pages are touched as the buffer is written
  }
  buf.resize(length);
  in_use_ += buf.capacity();
  return buf;
}

std::vector<std::uint8_t> PieceBufferPool::take_reserved(std::size_t slot, std::size_t length) {
  in_use_ -= slot;  // take() counts the buffer it hands out
  return take(slot, length);
}

void PieceBufferPool::give_back(std::vector<std::uint8_t> buffer) {
  std::size_t size = buffer.capacity();
  in_use_ -= size;
  // Keep spares only while they fit the budget (torrents with other piece sizes come and go).
  if (spare_bytes() + size <= budget_) spare_[size].push_back(std::move(buffer));
}

void PieceBufferPool::set_budget(std::size_t budget_bytes) {
  budget_ = budget_bytes;
  for (auto it = spare_.begin(); it != spare_.end() && spare_bytes() > budget_;) {
    it->second.clear();
    it = spare_.erase(it);
  }
}

std::size_t PieceBufferPool::spare_bytes() const {
  std::size_t total = 0;
  for (const auto& [size, list] : spare_) total += size * list.size();
  return total;
}

}  // namespace p2p

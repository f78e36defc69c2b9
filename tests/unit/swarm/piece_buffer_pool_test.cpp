#include <catch2/catch.hpp>

#include "base/limits.hpp"
#include "swarm/piece_buffer_pool.hpp"

using namespace p2p;

TEST_CASE("piece buffers are recycled by size under one budget", "[piece_buffer_pool]") {
  PieceBufferPool pool(8 * 1024);
  CHECK(pool.room_for(4096));
  auto a = pool.take(4096);
  auto b = pool.take(4096);
  CHECK(pool.in_use() == 8192);
  CHECK_FALSE(pool.room_for(4096));  // the budget is shared by every torrent
  auto* data = a.data();
  pool.give_back(std::move(a));
  CHECK(pool.room_for(4096));
  auto c = pool.take(4096);
  CHECK(c.data() == data);  // the same memory, not a fresh allocation
  pool.give_back(std::move(b));
  pool.give_back(std::move(c));
  CHECK(pool.in_use() == 0);
  CHECK(pool.spare_bytes() <= 8 * 1024);
}

TEST_CASE("a piece size above half the budget still allows two pieces", "[piece_buffer_pool]") {
  PieceBufferPool pool(1024);
  auto a = pool.take(4096);
  CHECK(pool.room_for(4096));
  auto b = pool.take(4096);
  CHECK_FALSE(pool.room_for(4096));
  pool.give_back(std::move(a));
  pool.give_back(std::move(b));
  CHECK(pool.spare_bytes() == 0);  // spares beyond the budget are freed
}

TEST_CASE("the budget can change while buffers are out", "[piece_buffer_pool]") {
  PieceBufferPool pool(8 * 1024);
  auto a = pool.take(4096);
  auto b = pool.take(4096);
  CHECK_FALSE(pool.room_for(4096));
  pool.set_budget(16 * 1024);  // the links hold more in flight: room for more
  CHECK(pool.budget() == 16 * 1024);
  CHECK(pool.room_for(4096));
  auto c = pool.take(4096);
  pool.give_back(std::move(a));
  pool.give_back(std::move(b));
  CHECK(pool.spare_bytes() == 8 * 1024);
  pool.set_budget(4 * 1024);  // back down: spares above it are freed, buffers out stay valid
  CHECK(pool.spare_bytes() <= 4 * 1024);
  CHECK(pool.room_for(4096));  // two pieces always fit
  auto d = pool.take(4096);
  CHECK_FALSE(pool.room_for(4096));
  CHECK(c.size() == 4096);
  pool.give_back(std::move(c));
  pool.give_back(std::move(d));
  CHECK(pool.in_use() == 0);
}

TEST_CASE("a short piece takes a whole slot of the budget but only its own length", "[piece_buffer_pool]") {
  PieceBufferPool pool(4 * 4096);
  auto shortp = pool.take(4096, 1000);  // a small file's piece in 4 KiB pieces
  CHECK(shortp.size() == 1000);
  CHECK(shortp.capacity() >= 4096);
  CHECK(pool.in_use() == shortp.capacity());  // the budget counts the slot
  auto* data = shortp.data();
  pool.give_back(std::move(shortp));
  CHECK(pool.in_use() == 0);
  auto full = pool.take(4096, 4096);  // the same slot, grown to a full piece
  CHECK(full.data() == data);
  CHECK(full.size() == 4096);
  auto again = pool.take(4096, 9999);  // never longer than the slot
  CHECK(again.size() == 4096);
  pool.give_back(std::move(full));
  pool.give_back(std::move(again));
  CHECK(pool.in_use() == 0);
}

TEST_CASE("a reserved slot counts against the budget before it holds memory", "[piece_buffer_pool]") {
  PieceBufferPool pool(8 * 1024);
  pool.reserve(4096);  // a piece requested: nothing of it here yet
  pool.reserve(4096);
  CHECK(pool.in_use() == 8192);
  CHECK_FALSE(pool.room_for(4096));  // what was asked for always fits when it arrives
  CHECK(pool.spare_bytes() == 0);
  auto a = pool.take_reserved(4096, 4096);  // its first block arrived
  CHECK(a.size() == 4096);
  CHECK(pool.in_use() == 8192);  // the same slot, not a second one
  pool.cancel_reservation(4096);  // the other piece was given up before any of it came
  CHECK(pool.in_use() == 4096);
  CHECK(pool.room_for(4096));
  auto* data = a.data();
  pool.give_back(std::move(a));
  CHECK(pool.in_use() == 0);
  pool.reserve(4096);
  auto b = pool.take_reserved(4096, 1000);  // a short piece reuses the spare slot
  CHECK(b.data() == data);
  CHECK(b.size() == 1000);
  CHECK(pool.in_use() == b.capacity());
  pool.give_back(std::move(b));
  CHECK(pool.in_use() == 0);
}

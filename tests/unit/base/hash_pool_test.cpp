#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>

#include "base/hash_pool.hpp"

using namespace p2p;

TEST_CASE("parallel_for runs every item once and rethrows the first failure", "[hash_pool]") {
  HashPool pool(3);
  std::vector<std::atomic<int>> hits(1000);
  pool.parallel_for(hits.size(), [&](std::size_t i) { ++hits[i]; });
  for (auto& h : hits) CHECK(h == 1);
  CHECK_THROWS_AS(pool.parallel_for(100, [](std::size_t i) { if (i == 42) throw std::runtime_error("bad"); }),
                  std::runtime_error);
}

TEST_CASE("parallel_for nested in a pool job does not deadlock", "[hash_pool]") {
  HashPool pool(2);
  std::atomic<int> total{0};
  std::atomic<int> finished{0};
  for (int j = 0; j < 4; ++j)
    pool.post([&] {
      pool.parallel_for(50, [&](std::size_t) { ++total; });
      ++finished;
    });
  while (finished < 4) std::this_thread::yield();
  CHECK(total == 200);
}

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>

#include "app/allocator_policy.hpp"
#include "thp_probe.hpp"

using namespace p2p;

TEST_CASE("the heap a short-lived program starts with is backed by huge pages", "[allocator_policy]") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  WARN("skipped: the sanitizers bring their own allocator");
#else
  // ctest runs each case in a process of its own, whose heap is small here: it grows.
  std::size_t grown = back_heap_with_huge_pages();
  CHECK(grown >= (30u << 20));
  // From the heap (below the 4 MiB mapping threshold); its end lies past the first 2 MiB
  // boundary of the new stretch, where the advice starts.
  constexpr std::size_t kBlock = 3u << 20;
  auto block = std::make_unique<char[]>(kBlock);
  block[kBlock - 1] = 1;
  if (test::thp_mode() == "madvise") CHECK(test::thp_eligible(block.get() + kBlock - 1) == 1);
  CHECK(back_heap_with_huge_pages() == 0);  // again: the heap has room, nothing changes
  auto big = std::make_unique<char[]>(8 << 20);  // mapped on its own, as before
  big[0] = 1;
  CHECK(big[0] == 1);
#endif
}

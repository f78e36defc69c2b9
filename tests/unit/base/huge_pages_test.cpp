#include <catch2/catch.hpp>

#include <cstring>
#include <sys/mman.h>

#include "base/huge_pages.hpp"
#include "thp_probe.hpp"

using namespace p2p;
using p2p::test::thp_eligible;
using p2p::test::thp_mode;


TEST_CASE("huge pages are asked for the aligned middle of a big range only", "[huge_pages]") {
  constexpr std::size_t kSize = 16u << 20;
  void* map = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(map != MAP_FAILED);
  auto* bytes = static_cast<unsigned char*>(map);

  advise_huge_pages(nullptr, kSize);      // nothing to advise
  advise_huge_pages(bytes + 1, 4096);     // too small: left alone
  advise_huge_pages(bytes + 123, kSize - 123);  // unaligned ends: the aligned middle
  std::memset(bytes, 0xab, kSize);        // still ordinary, writable memory
  CHECK(bytes[0] == 0xab);
  CHECK(bytes[kSize - 1] == 0xab);
  if (thp_mode() == "madvise") {
    // The advised middle is eligible for huge pages; not the first 2 MiB, where the
    // range started past an aligned boundary.
    CHECK(thp_eligible(bytes + kSize / 2) == 1);
    CHECK(thp_eligible(bytes) == 0);
  }
  munmap(map, kSize);
}

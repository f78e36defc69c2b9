// apply_allocator_policy: glibc's mallopt, and huge pages for the heap (allocator_policy.hpp).
#include "app/allocator_policy.hpp"

#include <cstdint>
#include <cstdlib>  // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#endif

#include "base/huge_pages.hpp"

namespace p2p {

namespace {
constexpr int kMmapThresholdBytes = 4 << 20;  // blocks from here up are mapped on their own
constexpr int kTrimThresholdBytes = 8 << 20;  // free heap top kept for reuse
constexpr int kHeapPadBytes = 32 << 20;       // the heap grows this much beyond each need
constexpr std::size_t kHeapProbeBytes = 1 << 20;  // more than the heap's free top at start
}  // namespace

void apply_allocator_policy() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
#endif
}

std::size_t back_heap_with_huge_pages() {
#if defined(__GLIBC__)
  apply_allocator_policy();  // the probe below must come from the heap, not its own mapping
  // Grow the heap once, now, by the pad, and ask for huge pages over it (glibc's own
  // glibc.malloc.hugetlb=1 does the same, but only as an environment tunable). A heap
  // that later outgrows the pad grows in ordinary pages. With the pad as the heap's top
  // padding, free() never trims the heap back below it.
  mallopt(M_TOP_PAD, kHeapPadBytes);
  auto* before = static_cast<char*>(sbrk(0));
  void* volatile probe = std::malloc(kHeapProbeBytes);  // volatile: a pair the compiler may not drop
  std::free(probe);  // gives back what lies beyond the pad
  auto* after = static_cast<char*>(sbrk(0));
  if (before != reinterpret_cast<char*>(-1) && after > before) {
    advise_huge_pages(before, static_cast<std::size_t>(after - before));
    return static_cast<std::size_t>(after - before);
  }
#endif
  return 0;
}

}  // namespace p2p

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
constexpr std::size_t kHeapProbeBytes = 64 << 10;  // asked beyond all the free heap, to grow it
}  // namespace

void apply_allocator_policy() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
#endif
}

std::size_t back_heap_with_huge_pages() {
#if defined(__GLIBC__)
  apply_allocator_policy();
  // Make the heap's free top at least the pad, now, and ask for huge pages over it (glibc's
  // own glibc.malloc.hugetlb=1 does the same, but only as an environment tunable). With the
  // pad as the heap's top padding, free() never trims the heap back below it; a heap that
  // later outgrows it grows in ordinary pages.
  mallopt(M_TOP_PAD, kHeapPadBytes);
  struct mallinfo2 heap = mallinfo2();
  std::size_t free_top = heap.keepcost;
  if (free_top < static_cast<std::size_t>(kHeapPadBytes) &&
      heap.fordblks + kHeapProbeBytes < static_cast<std::size_t>(kHeapPadBytes)) {
    // A block larger than all the free heap makes it grow by the block plus the pad; it
    // must come from the heap, not a mapping of its own, so the threshold is raised meanwhile.
    mallopt(M_MMAP_THRESHOLD, kHeapPadBytes);
    void* volatile probe = std::malloc(heap.fordblks + kHeapProbeBytes);  // volatile: a pair the compiler may not drop
    std::free(probe);
    mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
    free_top = mallinfo2().keepcost;
  }
  auto* end = static_cast<char*>(sbrk(0));
  if (end == reinterpret_cast<char*>(-1) || free_top == 0) return 0;
  advise_huge_pages(end - free_top, free_top);
  return free_top;
#else
  return 0;
#endif
}

}  // namespace p2p

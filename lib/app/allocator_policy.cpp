// apply_allocator_policy: glibc's mallopt (allocator_policy.hpp).
#include "app/allocator_policy.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace p2p {

namespace {
constexpr int kMmapThresholdBytes = 4 << 20;  // blocks from here up are mapped on their own
constexpr int kTrimThresholdBytes = 8 << 20;  // free heap top kept for reuse
}  // namespace

void apply_allocator_policy() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
#endif
}

}  // namespace p2p

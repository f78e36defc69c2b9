// advise_huge_pages: madvise(MADV_HUGEPAGE) on the aligned middle of a range.
#include "base/huge_pages.hpp"

#include <cstdint>
#include <sys/mman.h>

namespace p2p {

namespace {
constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;  // x86-64 and arm64 (4 KiB pages)
}  // namespace

void advise_huge_pages(const void* data, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (!data || bytes < 2 * kHugePage) return;
  auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHugePage - 1);
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);  // a hint only
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace p2p

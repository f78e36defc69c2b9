#include <catch2/catch.hpp>

#include <malloc.h>
#include <unistd.h>

#include "app/allocator_policy.hpp"
#include "thp_probe.hpp"

using namespace p2p;

// GCC says so with __SANITIZE_*__, clang with __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define P2P_SANITIZED_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define P2P_SANITIZED_BUILD 1
#endif
#endif

TEST_CASE("the heap a short-lived program starts with is backed by huge pages", "[allocator_policy]") {
#ifdef P2P_SANITIZED_BUILD
  WARN("skipped: the sanitizers bring their own allocator");
#else
  // Meant for the start of a process, as ctest runs this case (alone). Run after other
  // cases (unit_tests with no filter), the heap may hold 32 MiB of scattered free blocks
  // already, and then it is left as it is.
  if (mallinfo2().fordblks >= (31u << 20)) {
    WARN("skipped: the heap holds 31 MiB of free blocks already");
    return;
  }
  // The heap's free top is made at least the 32 MiB pad, and that is what is advised.
  std::size_t advised = back_heap_with_huge_pages();
  CHECK(advised >= (32u << 20));
  auto* middle = static_cast<char*>(sbrk(0)) - advised / 2;
  if (test::thp_mode() == "madvise") CHECK(test::thp_eligible(middle) == 1);
  CHECK(back_heap_with_huge_pages() >= (32u << 20));  // again: the pad is there still
#endif
}

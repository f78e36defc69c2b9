// How the executables' allocator treats large blocks (one process-wide setting).
#pragma once
#include <cstddef>

namespace p2p {

// Large blocks (up to 4 MiB: piece buffers, a meta's lists while they grow) come from the
// heap and are reused when freed, instead of a fresh mmap each whose every page faults in
// again; at most 8 MiB of free heap top is kept. glibc's default (mmap from 128 KiB,
// a threshold that moves) cost p2p-download 30 % more page faults reading a 20,000-file
// tree's meta and fetching one file of it (2,866 against 2,025; README, issue 22).
// No-op where the C library has no mallopt (and under the sanitizers' allocators).
void apply_allocator_policy();

// For a program whose start is much of its cost (p2p-download: a meta read, then often a
// short transfer): the heap's first 32 MiB are backed by transparent huge pages where the
// kernel offers them on request, one fault per 2 MiB instead of per 4 KiB (each 5-13 us
// in a VM such as this one). `--only` of one file of the 20,000-file tree: 1,951 page
// faults -> 660, 78 -> 62 ms; the million-file meta 37,614 -> 16,900, 1.28 -> 1.03 s.
// The cost: the heap keeps up to 32 MiB of free top (never trimmed below it), so the
// long-running servers (tracker, seeder) do not call it. Call first thing in main.
// Returns the size of the heap's free top it advised (only its 2 MiB-aligned stretches
// are), at least the pad; 0 where another allocator is in use (the sanitizers').
std::size_t back_heap_with_huge_pages();

}  // namespace p2p

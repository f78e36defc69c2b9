// How the executables' allocator treats large blocks (one process-wide setting).
#pragma once

namespace p2p {

// Large blocks (up to 4 MiB: piece buffers, a meta's lists while they grow) come from the
// heap and are reused when freed, instead of a fresh mmap each whose every page faults in
// again; at most 8 MiB of free heap top is kept. glibc's default (mmap from 128 KiB,
// a threshold that moves) cost p2p-download 30 % more page faults reading a 20,000-file
// tree's meta and fetching one file of it (2,866 against 2,025; README, issue 22).
// No-op where the C library has no mallopt (and under the sanitizers' allocators).
void apply_allocator_policy();

}  // namespace p2p

// Open-file budget: a process serving many files holds one descriptor per source
// plus its sockets, so it raises its soft limit to the hard one at start.
#pragma once
#include <cstddef>

namespace p2p {

// Raises RLIMIT_NOFILE's soft limit to the hard limit (when allowed); returns the soft limit now.
std::size_t raise_fd_limit();

}  // namespace p2p

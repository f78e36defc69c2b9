// /proc/self/smaps and THP mode readers for the huge-page tests.
#pragma once
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace p2p::test {

// /proc/self/smaps's "THPeligible" for the mapping holding `p`, or -1 if not found.
inline int thp_eligible(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  auto addr = reinterpret_cast<std::uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= addr && addr < hi;
      continue;
    }
    if (inside && line.rfind("THPeligible:", 0) == 0) return std::stoi(line.substr(12));
  }
  return -1;
}

inline std::string thp_mode() {  // "always", "madvise", "never", or "" without THP
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto open = modes.find('['), close = modes.find(']');
  return open == std::string::npos || close < open ? "" : modes.substr(open + 1, close - open - 1);
}

}  // namespace p2p::test

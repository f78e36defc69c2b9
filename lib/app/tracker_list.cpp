// merge_trackers.
#include "app/tracker_list.hpp"

#include <algorithm>

#include "format/meta.hpp"

namespace p2p {

std::vector<std::string> merge_trackers(std::vector<std::string> from_meta, const std::vector<std::string>& extra) {
  for (const auto& t : extra) {
    validate_tracker(t);
    if (std::find(from_meta.begin(), from_meta.end(), t) == from_meta.end()) from_meta.push_back(t);
  }
  return from_meta;
}

}  // namespace p2p
